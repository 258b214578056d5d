/** Environments, health, deployment lists, logs and stored packages as the API answers them. */
import { z } from '@hono/zod-openapi';
import { modes, phases } from '../../workflows/definitions.js';
import { environmentName } from './deployment-requests.js';

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
