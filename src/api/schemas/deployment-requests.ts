/** What a client sends to start, Complete or Reset a deployment, and the path parameters naming them. */
import { z } from '@hono/zod-openapi';
import { deploymentIdPattern } from '../../deployments/ids.js';
import { modes, strategies } from '../../workflows/definitions.js';
import { analysisSchema } from '../../config/analysis-schema.js';
import { bakeSchema } from '../../config/bake-schema.js';
import { mapping, maxErrorRate, measureInterval, positiveDuration, typeOfInput } from '../../config/fields.js';
import { canaryAllowListSchema } from '../../platform/data-plane/target-fields.js';

/** An environment's name, as paths and filters take it. */
export const environmentName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be an environment name: lowercase letters, digits and dashes');

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
      interval: measureInterval,
      maxErrorRate: maxErrorRate.optional(),
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
