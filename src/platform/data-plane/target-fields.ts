import { z } from 'zod';
import { typeOfInput } from '../../config/fields.js';

/**
 * The fields a route target is made of (slot id, served package, maintenance message, weight), read the same way by
 * the data-plane port and by the built-in router's admin API, so both answer a bad field in the same words.
 */

/** public listener → live target, preview listener → preview target. */
export type Channel = 'live' | 'preview';

/** At most as many replicas as any data plane accepts for one target. */
export const maxReplicas = 64;

/** Error messages of a JSON object: its unknown fields by name, else what it must be. */
export const jsonObject = {
  error: (i: { code?: string; keys?: string[]; input?: unknown }) =>
    i.code === 'unrecognized_keys'
      ? `unknown field(s) ${(i.keys ?? []).join(', ')}`
      : i.input === undefined
        ? 'is required'
        : `must be a JSON object, got ${typeOfInput(i.input)}`,
};

/** Which package a target serves, so the real state says which version is live even behind a maintenance page. */
export const servedPackageSchema = z.strictObject(
  {
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex'),
    version: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  },
  jsonObject,
);

export type ServedPackage = z.output<typeof servedPackageSchema>;

export const slotKind = z.literal('slot', { error: (i) => `must be "slot", got ${typeOfInput(i.input)}` });

export const slotIdSchema = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const maintenanceMessageSchema = z
  .string({ error: (i) => `must be a string, got ${typeOfInput(i.input)}` })
  .max(2000, 'must be at most 2000 characters');

/** A replica's share of new requests: 0 = none. */
export const weightSchema = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 256')
  .max(256, 'must be between 0 and 256');

// A header or cookie name: HTTP token characters only, so it is matched exactly as clients send it.
const allowNameSchema = z
  .string({ error: (i) => `must be a string, got ${typeOfInput(i.input)}` })
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be a header or cookie name (letters, digits, - and _; at most 64)');

// RFC 6265's cookie-octet: the value is matched in a Cookie header as well as in a header.
const cookieOctets = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,200}$/;

/** Requests that always get the canary (testers): a header or a cookie with this exact value. */
const canaryAllowSchema = z
  .strictObject(
    {
      header: allowNameSchema.optional(),
      cookie: allowNameSchema.optional(),
      value: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
        .regex(cookieOctets, 'must be 1 to 200 printable ASCII characters, no space, quote, comma, semicolon or backslash'),
    },
    jsonObject,
  )
  .superRefine((allow, ctx) => {
    if ((allow.header === undefined) === (allow.cookie === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['header'], message: 'name either a header or a cookie' });
    }
  });

/** A canary's share of new clients, in percent: 0 sends everyone to the live target. */
export const canaryPercentSchema = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 100')
  .max(100, 'must be between 0 and 100');

export const canaryAllowListSchema = z
  .array(canaryAllowSchema, { error: (i) => `must be a list of { header | cookie, value }, got ${typeOfInput(i.input)}` })
  .max(16, 'must list at most 16 entries');

/** The error of a target that is neither a slot nor the maintenance page. */
export const targetKindError = {
  error: (i: { code?: string; input?: unknown }) => {
    if (i.code !== 'invalid_union') return `must be a JSON object, got ${typeOfInput(i.input)}`;
    const kind = (i.input as { kind?: unknown } | undefined)?.kind;
    return kind === undefined ? 'is required ("slot" or "maintenance")' : `must be "slot" or "maintenance", got ${typeOfInput(kind)}`;
  },
};

/** "127.0.0.1:8080", "[::1]:8080": a replica's address, also its identity within a target. */
export function replicaAddress(replica: { host: string; port: number }): string {
  const { host, port } = replica;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Adds an issue for every replica listed twice (same address). */
export function checkDistinctReplicas(replicas: ReadonlyArray<{ host: string; port: number }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  replicas.forEach((replica, index) => {
    const key = replicaAddress(replica);
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['replicas', index], message: `duplicate replica ${key}` });
    seen.add(key);
  });
}
