/** The fields cutover.yaml is made of, each with the error a person reads when it is wrong. */
import { z } from 'zod';
import { durationMs } from './duration.js';

/** Names end up in workflow ids, database names and URLs: keep them to a safe alphabet. */
export const slug = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and dashes, starting with a letter (at most 40)');

export const databaseName = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be lowercase letters, digits and underscores, starting with a letter (at most 40)');

export const port = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a port number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

export const duration = z
  .string({ error: (i) => `must be a duration like "30s", "10m" or "24h", got ${typeOfInput(i.input)}` })
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like "30s", "10m" or "24h"');

/** Error messages of a mapping: its unknown fields by name, else what it must be. */
export function mapping(what = 'a mapping') {
  return {
    error: (i: { code?: string; keys?: string[] }) =>
      i.code === 'unrecognized_keys' ? `unknown field(s) ${(i.keys ?? []).join(', ')}` : `must be ${what}`,
  };
}

export function typeOfInput(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

export const envVarName = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be the name of an environment variable') })
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

export const isDuration = (text: unknown): text is string => typeof text === 'string' && /^\d+(ms|s|m|h|d)$/.test(text);

export const positiveDuration = duration.refine((text) => !/^0+(ms|s|m|h|d)$/.test(text), 'must be more than zero');

/** How often traffic is measured against thresholds (canary steps, bake): finer than the router's counts is noise. */
export const measureInterval = positiveDuration.refine((d) => !isDuration(d) || durationMs(d) >= 200, 'must be at least 200ms');

/** (5xx + proxy errors) / requests of one interval: a threshold from 0 to 1. */
export const maxErrorRate = z
  .number({ error: (i) => `must be a number from 0 to 1, got ${typeOfInput(i.input)}` })
  .min(0, 'must be at least 0')
  .max(1, 'must be at most 1');

export function reportDuplicates(names: string[], report: (index: number, name: string) => void) {
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (seen.has(name)) report(index, name);
    seen.add(name);
  });
}

/** environments.prod.sites[1].role */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}
