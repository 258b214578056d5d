/** The router section of an environment: where its admin API and listeners are, and what a listener tolerates. */
import { z } from 'zod';
import { durationMs } from './duration.js';
import { envVarName, isDuration, mapping, port, positiveDuration, typeOfInput } from './fields.js';

/** What one listener of the router tolerates from clients and slots: a slow or greedy peer cannot hold it. */
export const routerLimitsSchema = z
  .strictObject(
    {
      /** A client must send its request headers within this time (slowloris). */
      headersTimeout: positiveDuration.default('10s'),
      /** A client must send its whole request, body included, within this time. */
      requestTimeout: positiveDuration.default('5m'),
      /** An idle kept-alive client connection is closed after this time. */
      keepAliveTimeout: positiveDuration.default('5s'),
      /** Open client connections per listener; more are closed at once. */
      maxConnections: z
        .number({ error: (i) => `must be a whole number, got ${typeOfInput(i.input)}` })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .default(10_000),
      /** A slot silent this long once the request is sent (no answer, a stalled response) is given up: 504, or the response is cut. */
      slotTimeout: positiveDuration.default('60s'),
    },
    mapping(),
  )
  // Runs even when a field is malformed: compare only two well-formed durations.
  .refine(({ headersTimeout: h, requestTimeout: r }) => !isDuration(h) || !isDuration(r) || durationMs(h) <= durationMs(r), {
    path: ['headersTimeout'],
    message: 'must not be longer than requestTimeout',
  });

export const routerSchema = z.strictObject(
  {
    adminPort: port,
    /** The admin API's own address, apart from the public listeners: loopback unless said otherwise. */
    adminHost: z
      .string({ error: () => 'must be an IP address or hostname' })
      .min(1, 'must not be empty')
      .default('127.0.0.1'),
    /** Where the sites' public and preview listeners bind. */
    listenHost: z
      .string({ error: () => 'must be an IP address or hostname' })
      .min(1, 'must not be empty')
      .default('127.0.0.1'),
    /** Environment variable holding the admin API's bearer secret: only Cutover's router, worker and API have it. */
    adminTokenEnv: envVarName.default('CUTOVER_ROUTER_TOKEN'),
    /** The only hosts a slot route may point to: where this environment's slots run. */
    slotHosts: z
      .array(z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a hostname or IP address'), { error: () => 'must be a list of hosts' })
      .min(1, 'must name at least one host')
      .default(['127.0.0.1', '::1', 'localhost']),
    /** Pass clients' X-Forwarded-*, Forwarded and X-Real-IP on: only behind a proxy that sets them itself. */
    trustForwardedHeaders: z.boolean({ error: (i) => `must be true or false, got ${typeOfInput(i.input)}` }).default(false),
    limits: routerLimitsSchema.prefault({}),
  },
  mapping('a mapping with adminPort'),
);
