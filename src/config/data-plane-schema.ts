/** The data-plane section of an environment: which proxy its deployments drive (src/platform/data-plane/README.md). */
import { z } from 'zod';
import { mapping, positiveDuration, typeOfInput } from './fields.js';

export const dataPlaneAdapters = ['builtin', 'haproxy', 'nginx'] as const;

const wholeNumber = (min: number, max: number) =>
  z
    .number({ error: (i) => `must be a whole number, got ${typeOfInput(i.input)}` })
    .int('must be a whole number')
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`);

// Paths end up unquoted in the generated proxy config: the alphabet checkConfigDir allows.
const configDir = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be an absolute path, got ${typeOfInput(i.input)}`) })
  .regex(/^\/[\w./-]+$/, 'must be an absolute path of letters, digits, "_", ".", "-" and "/"');

const binary = z
  .string({ error: (i) => `must be an absolute path, got ${typeOfInput(i.input)}` })
  .regex(/^\/\S+$/, 'must be an absolute path');

/** The environment's built-in router (its `router` section): the default. */
const builtinSchema = z.strictObject({ adapter: z.literal('builtin') }, mapping());

/** HAProxy, driven through its runtime API; Cutover generates its starting config into `dir`. */
const haproxySchema = z.strictObject(
  {
    adapter: z.literal('haproxy'),
    /** Holds haproxy.cfg, the runtime API socket (admin.sock), the server state file, the maps and the pages. */
    dir: configDir,
    /** Servers per backend; a target may list at most half of them (the previous one drains alongside). */
    serverSlots: wholeNumber(2, 256).default(8),
    threads: wholeNumber(1, 64).default(1),
    maxconn: wholeNumber(1, 1_000_000).default(4096),
    binary: binary.default('/usr/sbin/haproxy'),
  },
  mapping('a mapping with adapter and dir'),
);

/** nginx, driven through a generated file per site and a reload; the worker must run on nginx's host (it reads /proc). */
const nginxSchema = z.strictObject(
  {
    adapter: z.literal('nginx'),
    /** Holds nginx.conf, the site files, the pid file (nginx.pid), the error log and nginx's temporary folders. */
    dir: configDir,
    workerProcesses: wholeNumber(1, 64).default(1),
    workerConnections: wholeNumber(1, 1_000_000).default(4096),
    /** 0: no client keep-alive, so a reload closes no idle connection a request is being sent on (see the README). */
    clientKeepAliveSeconds: wholeNumber(0, 3600).default(60),
    /** How long nginx may take to start the workers of a reloaded config. */
    reloadTimeout: positiveDuration.default('10s'),
    binary: binary.default('/usr/sbin/nginx'),
  },
  mapping('a mapping with adapter and dir'),
);

export const dataPlaneSchema = z
  .discriminatedUnion('adapter', [builtinSchema, haproxySchema, nginxSchema], {
    error: (i) => {
      if (i.code !== 'invalid_union') return `must be a mapping with adapter, got ${typeOfInput(i.input)}`;
      // Zod reports a bad or missing adapter on dataPlane.adapter.
      const adapter = (i.input as { adapter?: unknown } | undefined)?.adapter;
      const allowed = dataPlaneAdapters.join(', ');
      return adapter === undefined ? `is required (${allowed})` : `must be one of ${allowed}, got ${typeOfInput(adapter)}`;
    },
  })
  .default({ adapter: 'builtin' });

export type DataPlaneConfig = z.output<typeof dataPlaneSchema>;
export type DataPlaneAdapter = (typeof dataPlaneAdapters)[number];
