import { z } from '@hono/zod-openapi';
import { deploymentIdPattern } from '../deployments/ids.js';
import { modes, phases, strategies } from '../workflows/definitions.js';
import { analysisSchema } from '../config/analysis-schema.js';
import { bakeSchema } from '../config/bake-schema.js';
import { durationMs } from '../config/duration.js';
import { isDuration, mapping, positiveDuration, typeOfInput } from '../config/fields.js';
import { canaryAllowListSchema } from '../platform/data-plane/target-fields.js';

const environmentName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be an environment name: lowercase letters, digits and dashes');

export const environmentParam = z.object({
  environment: environmentName.openapi({ param: { name: 'environment', in: 'path' }, example: 'demo' }),
});

export const deploymentParam = z.object({
  id: z
    .string()
    .regex(deploymentIdPattern, 'must be a deployment id like demo-20261122-081500-3fa2')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'demo-20261122-081500-3fa2' }),
});

/** Canary steps before the decision: the percent of public clients on the new version, step by step. */
const canaryBody = z
  .strictObject(
    {
      steps: z
        .array(
          z
            .number({ error: (i) => `must be whole percents from 1 to 100, got ${typeOfInput(i.input)}` })
            .int('must be whole percents from 1 to 100')
            .min(1, 'must be whole percents from 1 to 100')
            .max(100, 'must be whole percents from 1 to 100'),
          { error: (i) => `must be a list of percents, got ${typeOfInput(i.input)}` },
        )
        .min(1, 'must list at least one percent')
        .max(20, 'must list at most 20 steps')
        .refine((steps) => steps.every((p, i) => i === 0 || p > steps[i - 1]!), 'must be ascending, each step above the one before'),
      interval: positiveDuration.refine((d) => !isDuration(d) || durationMs(d) >= 200, 'must be at least 200ms'),
      maxErrorRate: z
        .number({ error: (i) => `must be a number from 0 to 1, got ${typeOfInput(i.input)}` })
        .min(0, 'must be at least 0')
        .max(1, 'must be at most 1')
        .optional(),
      maxP99: positiveDuration.optional(),
      /** Testers reach the new version at every step: a header or cookie with this exact value. */
      allow: canaryAllowListSchema.optional(),
    },
    mapping('a mapping with steps, interval, maxErrorRate and/or maxP99'),
  )
  .refine((c) => c.maxErrorRate !== undefined || c.maxP99 !== undefined, 'must declare maxErrorRate and/or maxP99');

export const startDeploymentBody = z
  .strictObject({
    package: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(4096, 'is too long')
      .openapi({
        description:
          'sha256:<id> of an uploaded package, or an absolute path on the Cutover host to a package directory or .tar.gz under packages.roots',
        example: 'sha256:a3f1…',
      }),
    mode: z.enum(modes, { error: () => `must be one of ${modes.join(', ')}` }).default('readonly'),
    requestedBy: z.string().max(200, 'is too long').optional(),
    allowMissingMigrations: z
      .boolean({ error: () => 'must be true or false' })
      .default(false)
      .openapi({ description: 'Deploy a package that lacks migrations the database already applied (an older one, on purpose)' }),
    // false reads as null: a nullable mapping reports each wrong field by name, where a union would only say "invalid".
    analysis: z
      .preprocess((value) => (value === false ? null : value), analysisSchema.nullable().optional())
      .openapi({
        description:
          "Checks on the preview while the deployment awaits verification, replacing the environment's; false (or null) turns " +
          'analysis off. A failed analysis Resets the deployment by itself; it never Completes it.',
        example: { checks: [{ path: '/healthz', requests: 20, interval: '500ms', maxLatency: '1s', failureLimit: 0 }] },
      }),
    bake: z
      .preprocess((value) => (value === false ? null : value), bakeSchema.nullable().optional())
      .openapi({
        description:
          "After Complete the previous version stays warm for `duration`, replacing the environment's bake; false (or null) turns " +
          'it off. A breach of the thresholds sends public traffic back to the previous version by itself (code only).',
        example: { duration: '10m', interval: '10s', thresholds: { maxErrorRate: 0.05, maxP99: '1s' } },
      }),
    canary: canaryBody.optional().openapi({
      description:
        'expand-contract mode only: once the new version warmed up, `steps` percent of public clients (sticky per client) go to it in ' +
        'turn, `interval` each; a breach of maxErrorRate or maxP99 in a step sets it to 0% and Resets by itself (code only); after ' +
        'the last step the share stays until Complete (moves everyone) or Reset (removes the canary).',
      example: { steps: [10, 50], interval: '1m', maxErrorRate: 0.05, maxP99: '1s' },
    }),
    strategy: z
      .enum(strategies, { error: () => `must be one of ${strategies.join(', ')}` })
      .default('smooth')
      .openapi({
        description:
          'smooth: a clone serves while the databases are upgraded; rolling: hosts are upgraded maxUnavailable at a time, no clone ' +
          '(only when no migration is pending, or only expand/contract ones)',
      }),
    maxUnavailable: z
      .number({ error: () => 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .optional()
      .openapi({ description: 'Rolling strategy: how many hosts may be out of the route at once (default 1)' }),
  })
  // maxUnavailable means nothing to a smooth deployment: said, rather than ignored.
  .refine((body) => body.maxUnavailable === undefined || body.strategy === 'rolling', {
    path: ['maxUnavailable'],
    message: 'only applies to strategy rolling',
  })
  // Old and new versions share public traffic only where they share the databases.
  .refine((body) => body.canary === undefined || body.mode === 'expand-contract', {
    path: ['canary'],
    message: 'only applies to mode expand-contract (old and new versions must share the databases)',
  })
  .openapi('StartDeployment');

export const resetBody = z
  .strictObject({
    rollbackDatabase: z.boolean({ error: (i) => (i.input === undefined ? 'is required' : 'must be true or false') }),
    requestedBy: z.string().max(200, 'is too long').optional(),
  })
  .openapi('ResetDeployment');

export const completeBody = z.strictObject({ requestedBy: z.string().max(200, 'is too long').optional() }).openapi('CompleteDeployment');

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

export const environmentSchema = z
  .object({
    name: z.string(),
    livePackage: z.object({ sha256: z.string(), version: z.string() }).nullable(),
    inMaintenance: z.boolean(),
    runningDeployment: z.string().nullable(),
    lastDeployment: z.object({ deploymentId: z.string(), outcome: z.string() }).nullable(),
    sites: z.array(
      z.object({
        name: z.string(),
        role: z.enum(['zdd', 'maintenance-page']),
        publicUrl: z.string(),
        previewUrl: z.string(),
        serving: z.enum(['slot', 'clone', 'maintenance-page', 'nothing']),
        slotId: z.string().nullable(),
        package: z.object({ sha256: z.string(), version: z.string() }).nullable(),
      }),
    ),
    routerError: z.string().optional(),
  })
  .openapi('Environment');

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    /** Whether /v1 needs a bearer token; disabled means open, for local development only. */
    auth: z.enum(['disabled', 'enabled']),
    /** The details: only for a valid token (any role), or for everyone when auth is disabled. */
    temporal: z.object({ ok: z.boolean(), address: z.string(), error: z.string().optional() }).optional(),
    databases: z
      .array(z.object({ environment: z.string(), database: z.string(), engine: z.string(), ok: z.boolean(), error: z.string().optional() }))
      .optional(),
    /** When the probes ran: results are reused for a few seconds. */
    checkedAt: z.string().optional(),
  })
  .openapi('Health');

const whole = (min: number, max: number) =>
  z.coerce
    .number({ error: () => `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);

export const listDeploymentsQuery = z.object({
  environment: environmentName.optional().openapi({ description: 'Only this environment', example: 'demo' }),
  phase: z
    .enum(phases, { error: () => `must be one of ${phases.join(', ')}` })
    .optional()
    .openapi({ example: 'awaiting-verification' }),
  mode: z.enum(modes, { error: () => `must be one of ${modes.join(', ')}` }).optional(),
  version: z
    .string()
    .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'must be a package version like 1.2.0')
    .optional()
    .openapi({ description: 'Only deployments of this package version' }),
  pageSize: whole(1, 100).optional().openapi({ description: 'At most this many deployments (default 20)', example: 20 }),
  pageToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,4096}$/, 'must be the nextPageToken of a previous page')
    .optional()
    .openapi({ description: 'nextPageToken of the previous page' }),
});

export const deploymentSummarySchema = z
  .object({
    deploymentId: z.string(),
    environment: z.string().nullable(),
    phase: z.string().nullable(),
    mode: z.string().nullable(),
    packageVersion: z.string().nullable(),
    execution: z.string().openapi({ description: "Temporal's state of the workflow", example: 'running' }),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    links: z.object({ self: z.string() }),
  })
  .openapi('DeploymentSummary');

export const deploymentListSchema = z
  .object({
    deployments: z.array(deploymentSummarySchema),
    nextPageToken: z.string().nullable().openapi({ description: 'Pass as pageToken for the next page; null on the last page' }),
  })
  .openapi('DeploymentList');

export const logQuery = z.object({
  follow: z
    .enum(['true', 'false'], { error: () => 'must be true or false' })
    .optional()
    .openapi({ description: 'true: a server-sent event stream that ends when the deployment does' }),
  after: whole(0, 1_000_000).optional().openapi({ description: 'Skip the first lines (an index, as the id of an event)' }),
});

export const logLineSchema = z.object({ at: z.string(), level: z.enum(['info', 'warn', 'error']), message: z.string() }).openapi('LogLine');

export const environmentSummarySchema = z
  .object({
    name: z.string(),
    host: z.string(),
    verificationTimeout: z.string(),
    sites: z.array(
      z.object({ name: z.string(), role: z.enum(['zdd', 'maintenance-page']), publicUrl: z.string(), previewUrl: z.string() }),
    ),
    databases: z.array(z.object({ name: z.string(), engine: z.string() })),
    links: z.object({ self: z.string(), deployments: z.string() }),
  })
  .openapi('EnvironmentSummary');

export const environmentListSchema = z.object({ environments: z.array(environmentSummarySchema) }).openapi('EnvironmentList');

const storedPackageFields = {
  id: z.string().openapi({ description: 'sha256 of the package content', example: 'a3f1…' }),
  package: z.string().openapi({ description: 'What to pass as package when starting a deployment', example: 'sha256:a3f1…' }),
  name: z.string(),
  version: z.string(),
  warmupPath: z.string(),
};

export const packageParam = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a package id: 64 lowercase hexadecimal characters')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'a3f1c2…' }),
});

export const packageSchema = z.object(storedPackageFields).openapi('Package');
export const packageListSchema = z.object({ packages: z.array(packageSchema) }).openapi('PackageList');
export const uploadedPackageSchema = z
  .object({
    ...storedPackageFields,
    upload: z.object({
      bytes: z.number().int(),
      sha256: z.string().openapi({ description: 'sha256 of the uploaded bytes, to check the transfer' }),
    }),
  })
  .openapi('UploadedPackage');
