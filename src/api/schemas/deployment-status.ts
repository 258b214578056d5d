/** What the API answers about one deployment: its status, with analysis, replay, bake and canary evidence. */
import { z } from '@hono/zod-openapi';
import { modes, phases, replicaStates } from '../../workflows/definitions.js';

const requestStats = {
  requests: z.number().int(),
  failures: z.number().int(),
  errorRate: z.number().openapi({ description: 'failures / requests, 0 to 1' }),
  p99Ms: z.number().nullable().openapi({ description: 'Latency of the answered requests, 99th percentile (nearest rank)' }),
};
const verdict = z.enum(['pass', 'fail', 'inconclusive']);

const analysisStatusSchema = z
  .object({
    state: z.enum(['running', 'finished', 'stopped']).openapi({ description: 'stopped: someone decided first, the result does not count' }),
    verdict: verdict.nullable(),
    summary: z.string(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    checks: z.array(
      z.object({
        site: z.string(),
        path: z.string(),
        ...requestStats,
        verdict,
        reason: z.string(),
        live: z
          .object(requestStats)
          .nullable()
          .openapi({ description: 'The same requests to the public address (the live version), for comparison' }),
      }),
    ),
    metrics: z.array(
      z.object({
        name: z.string(),
        query: z.string(),
        max: z.number(),
        values: z.array(z.number().nullable()),
        breaches: z.number().int(),
        verdict,
        reason: z.string(),
        preview: z.object(requestStats).optional().openapi({ description: "Builtin metrics: the preview's real traffic over the samples" }),
        live: z
          .object(requestStats)
          .nullable()
          .optional()
          .openapi({ description: "Builtin metrics: the live version's traffic over the same time" }),
      }),
    ),
  })
  .openapi('Analysis', { description: 'Checks on the preview during verification, and their evidence' });

const replayStatusSchema = z
  .object({
    applied: z.number().int().openapi({ description: 'Changes the clone accepted that are on the originals now' }),
    conflictCount: z
      .number()
      .int()
      .openapi({ description: 'Changes that did not fit the migrated originals (each kept in its cutover_replay.conflicts)' }),
    conflicts: z
      .array(
        z.object({
          database: z.string(),
          table: z.string(),
          key: z.record(z.string(), z.unknown()).nullable(),
          op: z.string(),
          reason: z.string(),
        }),
      )
      .openapi({ description: 'The first conflicts (at most 20)' }),
    lastReplayAt: z.string().nullable(),
    final: z.boolean().openapi({ description: 'The final replay ran: the clone takes no more writes' }),
  })
  .openapi('Replay', { description: "readwrite-replay mode: the clone's writes replayed onto the migrated originals" });

const replicaSchema = z
  .object({
    host: z.string().openapi({ description: 'The host the copy runs on' }),
    address: z.string().openapi({ description: "The host's address, where the data plane reaches the copy" }),
    slotId: z.string(),
    port: z.number().int().nullable().openapi({ description: 'Where the copy listens on its host; null until it started' }),
    state: z.enum(replicaStates).openapi({
      description:
        'starting, started, warming, warm (answered its warm-up, or left the public route: running without public traffic); ' +
        "serving (the public route sends it requests); stopped; failed (its step failed); lost (its host's agent did not take a step in time)",
    }),
  })
  .openapi('Replica', { description: "One copy of a site's slot on one host" });

const packageRef = z.object({ sha256: z.string(), name: z.string(), version: z.string(), warmupPath: z.string() });

export const deploymentStatusSchema = z
  .object({
    deploymentId: z.string(),
    workflowId: z.string(),
    environment: z.string(),
    mode: z.enum(modes),
    package: packageRef,
    previousPackage: z.object({ sha256: z.string(), version: z.string() }).nullable(),
    phase: z.enum(phases),
    sites: z.array(
      z.object({
        name: z.string(),
        role: z.enum(['zdd', 'maintenance-page']),
        state: z.string(),
        serving: z.string().nullable(),
        previewSlot: z.string().nullable(),
        error: z.string().optional(),
        replicas: z
          .array(replicaSchema)
          .optional()
          .openapi({
            description:
              "Every copy of the site's slots this deployment knows of, one per host and slot, kept current as they start, warm, " +
              'serve and stop; absent for rolling deployments (see rolling.hosts)',
          }),
      }),
    ),
    actions: z.array(z.enum(['complete', 'reset'])),
    decision: z
      .object({
        action: z.enum(['complete', 'reset']),
        rollbackDatabase: z.boolean(),
        requestedBy: z.string().optional(),
        reason: z.string().optional(),
        at: z.string().optional(),
      })
      .nullable(),
    failure: z
      .object({
        class: z.string(),
        message: z.string(),
        remediation: z.string(),
        site: z.string().optional(),
        database: z.string().optional(),
      })
      .nullable(),
    timings: z.array(z.object({ phase: z.enum(phases), startedAt: z.string(), endedAt: z.string().optional() })),
    warnings: z.array(z.string()),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    startedBy: z.string().nullable().optional(),
    approvals: z
      .object({ required: z.number().int(), received: z.array(z.object({ by: z.string(), at: z.string() })) })
      .optional()
      .openapi({ description: 'Approvers’ Completes so far; traffic moves once `required` distinct approvers completed' }),
    analysis: analysisStatusSchema.nullable().optional(),
    replay: replayStatusSchema.nullable().optional(),
    bake: z
      .object({
        state: z.enum(['watching', 'passed', 'rolled-back']),
        spec: z.object({
          durationMs: z.number(),
          intervalMs: z.number(),
          maxErrorRate: z.number().nullable(),
          maxP99Ms: z.number().nullable(),
        }),
        startedAt: z.string(),
        endedAt: z.string().nullable(),
        intervals: z.number().int(),
        last: z.array(z.object({ site: z.string(), slotId: z.string(), ...requestStats })),
        breach: z.string().nullable(),
      })
      .nullable()
      .optional()
      .openapi({
        description: 'The bake after Complete: the new live slot watched, the previous version kept warm; rolled-back on a breach',
      }),
    canary: z
      .object({
        spec: z.object({
          steps: z.array(z.number()),
          intervalMs: z.number(),
          maxErrorRate: z.number().nullable(),
          maxP99Ms: z.number().nullable(),
        }),
        percent: z.number(),
        stepsDone: z.number().int(),
        steps: z.array(
          z.object({ percent: z.number(), traffic: z.array(z.object({ site: z.string(), slotId: z.string(), ...requestStats })) }),
        ),
        state: z.enum(['stepping', 'holding', 'breached', 'ended']),
        verdict: z.enum(['pass', 'fail']).nullable(),
        breach: z.string().nullable(),
      })
      .optional()
      .openapi({
        description: "expand-contract canary: each step's percent and the canary slot's traffic; breached: set to 0% and Reset by itself",
      }),
    rolling: z
      .object({
        maxUnavailable: z.number().int(),
        hosts: z.array(z.object({ name: z.string(), version: z.string().nullable(), state: z.string() })),
      })
      .optional()
      .openapi({ description: 'Rolling strategy: which hosts run which version, and where each is in the roll' }),
    links: z.object({
      log: z.string(),
      temporalUi: z.string(),
      previews: z.record(z.string(), z.string()),
      publics: z.record(z.string(), z.string()),
    }),
  })
  .openapi('Deployment');

export const deploymentAcceptedSchema = z
  .object({
    deploymentId: z.string(),
    workflowId: z.string(),
    status: z.string(),
    links: z.object({ self: z.string(), log: z.string(), temporalUi: z.string() }),
  })
  .openapi('DeploymentAccepted');
