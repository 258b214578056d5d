import { z } from '@hono/zod-openapi';
import { modes, phases } from '../workflows/definitions.js';

export const environmentParam = z.object({
  environment: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be an environment name: lowercase letters, digits and dashes')
    .openapi({ param: { name: 'environment', in: 'path' }, example: 'demo' }),
});

export const deploymentParam = z.object({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,80}$/, 'must be a deployment id like demo-20261122-081500-3fa2')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'demo-20261122-081500-3fa2' }),
});

export const startDeploymentBody = z
  .strictObject({
    package: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(4096, 'is too long')
      .openapi({ description: 'sha256:<id> of an uploaded package, or a path on the Cutover host to a package directory or .tar.gz', example: 'examples/demo-app/v2' }),
    mode: z.enum(modes, { error: () => `must be one of ${modes.join(', ')}` }).default('readonly'),
    requestedBy: z.string().max(200, 'is too long').optional(),
  })
  .openapi('StartDeployment');

export const resetBody = z
  .strictObject({
    rollbackDatabase: z.boolean({ error: (i) => (i.input === undefined ? 'is required' : 'must be true or false') }),
    requestedBy: z.string().max(200, 'is too long').optional(),
  })
  .openapi('ResetDeployment');

export const completeBody = z.strictObject({ requestedBy: z.string().max(200, 'is too long').optional() }).openapi('CompleteDeployment');

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
    decision: z.object({ action: z.enum(['complete', 'reset']), rollbackDatabase: z.boolean(), requestedBy: z.string().optional(), reason: z.string().optional() }).nullable(),
    failure: z.object({ class: z.string(), message: z.string(), remediation: z.string(), site: z.string().optional(), database: z.string().optional() }).nullable(),
    timings: z.array(z.object({ phase: z.enum(phases), startedAt: z.string(), endedAt: z.string().optional() })),
    warnings: z.array(z.string()),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    links: z.object({ log: z.string(), temporalUi: z.string(), previews: z.record(z.string(), z.string()), publics: z.record(z.string(), z.string()) }),
  })
  .openapi('Deployment');

export const deploymentAcceptedSchema = z
  .object({ deploymentId: z.string(), workflowId: z.string(), status: z.string(), links: z.object({ self: z.string(), log: z.string(), temporalUi: z.string() }) })
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
    temporal: z.object({ ok: z.boolean(), address: z.string(), error: z.string().optional() }),
    databases: z.array(z.object({ environment: z.string(), database: z.string(), engine: z.string(), ok: z.boolean(), error: z.string().optional() })),
  })
  .openapi('Health');
