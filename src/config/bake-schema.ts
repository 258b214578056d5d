/**
 * The `bake` of an environment (cutover.yaml) or of one deployment request (the API): how long the previous version
 * stays warm after Complete, and the thresholds on the new version's traffic that send the traffic back to it.
 */
import { z } from 'zod';
import type { BakeSpec } from '../workflows/bake-definitions.js';
import { durationMs } from './duration.js';
import { isDuration, mapping, maxErrorRate, measureInterval, positiveDuration } from './fields.js';

/** A bake holds the environment (the next deployment waits for it): it must stay short. */
export const MAX_BAKE_MS = 3_600_000;

export const bakeSchema = z
  .strictObject(
    {
      duration: positiveDuration.refine((d) => !isDuration(d) || durationMs(d) <= MAX_BAKE_MS, 'must be at most 1h'),
      interval: measureInterval.default('10s'),
      thresholds: z
        .strictObject(
          {
            /** (5xx + proxy errors) / requests of one interval, 0..1. */
            maxErrorRate: maxErrorRate.optional(),
            maxP99: positiveDuration.optional(),
          },
          mapping('a mapping with maxErrorRate and/or maxP99'),
        )
        .refine((t) => t.maxErrorRate !== undefined || t.maxP99 !== undefined, 'must declare maxErrorRate and/or maxP99'),
    },
    mapping('a mapping with duration and thresholds'),
  )
  .refine((b) => !isDuration(b.duration) || !isDuration(b.interval) || durationMs(b.interval) <= durationMs(b.duration), {
    path: ['interval'],
    message: 'must be at most the duration',
  });

export type BakeConfig = z.infer<typeof bakeSchema>;

/** What the workflow works with: milliseconds, defaults filled in. */
export function bakeSpec(config: BakeConfig): BakeSpec {
  return {
    durationMs: durationMs(config.duration),
    intervalMs: durationMs(config.interval),
    maxErrorRate: config.thresholds.maxErrorRate ?? null,
    maxP99Ms: config.thresholds.maxP99 ? durationMs(config.thresholds.maxP99) : null,
  };
}
