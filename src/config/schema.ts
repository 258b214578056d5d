import { isIP } from 'node:net';
import { z } from 'zod';
import { siteRoles } from '../workflows/definitions.js';
import { databaseName, duration, formatPath, mapping, port, positiveDuration, reportDuplicates, slug, typeOfInput } from './fields.js';
import { routerSchema } from './router-schema.js';
import { dataPlaneSchema } from './data-plane-schema.js';
import { analysisSchema } from './analysis-schema.js';
import { bakeSchema } from './bake-schema.js';

export const databaseEngines = ['postgres', 'sqlserver'] as const;

export const siteSchema = z.strictObject(
  {
    name: slug,
    role: z.enum(siteRoles, { error: (i) => `unknown role ${JSON.stringify(i.input)}; expected one of ${siteRoles.join(', ')}` }),
    /** Overrides the package manifest's warmup path. */
    warmupPath: z.string().startsWith('/', 'must start with "/"').optional(),
    warmupTimeout: duration.default('60s'),
    publicPort: port,
    previewPort: port,
  },
  mapping(),
);

/** Name of an environment variable holding a login's connection string. */
const loginEnv = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be the name of an environment variable') })
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

export const databaseSchema = z
  .strictObject(
    {
      name: databaseName,
      engine: z.enum(databaseEngines, {
        error: (i) => `unknown engine ${JSON.stringify(i.input)}; expected one of ${databaseEngines.join(', ')}`,
      }),
      /** Name of the environment variable holding the connection string: secrets never live in the file. */
      connectionEnv: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be the name of an environment variable') })
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)'),
      /** The migration login (DDL on this database only); migrations run as the connectionEnv login without it. */
      migrationConnectionEnv: loginEnv.optional(),
      /** The application login that slots get (DML only); slots get the connectionEnv login without it (a warning says so). */
      appConnectionEnv: loginEnv.optional(),
      /** SQL Server only: how the temporary copy is made. */
      copyMethod: z.enum(['backup-restore', 'copy-of']).optional(),
    },
    mapping(),
  )
  .superRefine((db, ctx) => {
    // One variable for two logins would hand the application Cutover's own rights.
    for (const field of ['migrationConnectionEnv', 'appConnectionEnv'] as const) {
      if (db[field] === db.connectionEnv) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'must differ from connectionEnv: each login has its own variable' });
      }
    }
    if (db.appConnectionEnv && db.appConnectionEnv === db.migrationConnectionEnv) {
      const message = 'must differ from migrationConnectionEnv: each login has its own variable';
      ctx.addIssue({ code: 'custom', path: ['appConnectionEnv'], message });
    }
  });

export const roles = ['viewer', 'deployer', 'approver'] as const;

/** An API token: only its sha256 is in the file, never the token itself. */
export const tokenSchema = z.strictObject(
  {
    name: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be letters, digits, dot, dash or underscore'),
    sha256: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
      .regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the token, 64 lowercase hex characters'),
    roles: z
      .array(z.enum(roles, { error: (i) => `unknown role ${JSON.stringify(i.input)}; expected one of ${roles.join(', ')}` }))
      .min(1, 'must grant at least one role'),
    /** Limits the token to these environments; all when absent. */
    environments: z.array(slug).optional(),
  },
  mapping(),
);

/** Slack approvals for one environment. */
export const environmentSlackSchema = z.strictObject(
  {
    channel: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
      .regex(/^[A-Z0-9]{2,32}$/, 'must be a Slack channel id like C0123ABCD'),
    approvers: z
      .array(z.string().regex(/^[UW][A-Z0-9]{2,32}$/, 'must be a Slack user id like U0123ABCD'))
      .min(1, 'must name at least one approver'),
  },
  mapping(),
);

/** Who may Complete a deployment of one environment: every channel (API, console, Slack, CLI) obeys it. */
export const approvalSchema = z.strictObject(
  {
    /** Token names and Slack user ids allowed to Complete; any approver when absent. */
    approvers: z
      .array(z.string({ error: () => 'must be a token name or Slack user id' }).min(1, 'must not be empty'), {
        error: () => 'must be a list',
      })
      .min(1, 'must name at least one approver')
      .optional(),
    /** false: who started a deployment may not Complete it. */
    allowSelfApproval: z.boolean({ error: (i) => `must be true or false, got ${typeOfInput(i.input)}` }).default(true),
    /** Distinct approvers whose Complete moves traffic. */
    required: z
      .number({ error: (i) => `must be a whole number, got ${typeOfInput(i.input)}` })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10, 'must be at most 10')
      .default(1),
  },
  mapping(),
);

/** An app server: where the data plane reaches the slots its host agent runs. */
export const hostSchema = z.strictObject(
  {
    // An IP address: a traffic switch never waits on name resolution.
    address: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : `must be an IP address, got ${typeOfInput(i.input)}`) })
      .refine((address) => isIP(address) !== 0, 'must be an IP address (IPv4 or IPv6), without a port'),
  },
  mapping('a mapping with address'),
);

export const environmentSchema = z
  .strictObject(
    {
      host: slug.default('local'),
      /** The app servers its slots run on (names from the top-level hosts); the host above alone, on loopback, when absent. */
      hosts: z
        .array(slug, { error: () => 'must be a list of host names' })
        .min(1, 'must name at least one host')
        .optional(),
      /** OS user of the environment's slots when the host agent runs as root; cutover-<environment> (created when missing) by default. */
      slotUser: z
        .string({ error: (i) => `must be a user name, got ${typeOfInput(i.input)}` })
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name: up to 32 lowercase letters, digits, _ and -, starting with a letter or _')
        .refine((name) => name !== 'root', 'must not be root: slots run unprivileged')
        .optional(),
      slack: environmentSlackSchema.optional(),
      /** Who may Complete, and how many must (docs/console.md). */
      approval: approvalSchema.prefault({}),
      router: routerSchema,
      /** What its deployments switch traffic on: the built-in router above (default), HAProxy or nginx (data-plane-schema.ts). */
      dataPlane: dataPlaneSchema,
      /** Awaiting verification longer than this resets the deployment (never promotes it). */
      verificationTimeout: duration.default('24h'),
      /** Checks on the preview while it awaits verification: a failed analysis Resets by itself (analysis-schema.ts). */
      analysis: analysisSchema.optional(),
      /** After Complete the previous version stays warm and takes the traffic back on a breach (bake-schema.ts). */
      bake: bakeSchema.optional(),
      /** How long one quick step (a router switch, a slot start) may take, and how soon a silent long step counts as dead. */
      timeouts: z
        .strictObject({ step: duration.default('60s'), heartbeat: duration.default('5s'), databaseWork: duration.default('4h') }, mapping())
        .prefault({}),
      sites: z.array(siteSchema, { error: () => 'must be a list of sites' }).min(1, 'must declare at least one site'),
      databases: z.array(databaseSchema, { error: () => 'must be a list of databases' }).default([]),
      migrations: z
        .strictObject(
          {
            /** Deploy packages that lack migrations the database already applied (older packages rolled forward on purpose). */
            allowMissing: z.boolean({ error: (i) => `must be true or false, got ${typeOfInput(i.input)}` }).default(false),
          },
          mapping(),
        )
        .prefault({}),
    },
    mapping(),
  )
  .superRefine((env, ctx) => {
    reportDuplicates(
      env.sites.map((s) => s.name),
      (index, name) => ctx.addIssue({ code: 'custom', path: ['sites', index, 'name'], message: `duplicate site name "${name}"` }),
    );
    reportDuplicates(
      env.databases.map((d) => d.name),
      (index, name) => ctx.addIssue({ code: 'custom', path: ['databases', index, 'name'], message: `duplicate database name "${name}"` }),
    );
  });

/** Packages named by a path on the host, and how far a package archive may unpack. */
export const packagesSchema = z.strictObject(
  {
    /** The only folders a deployment may name a package in by path (absolute); see docs/api.md for none. */
    roots: z
      .array(z.string({ error: () => 'must be an absolute path' }).regex(/^\//, 'must be an absolute path'), {
        error: () => 'must be a list of absolute paths',
      })
      .default([]),
    /** Bytes one package archive may unpack to, tar headers included: a compressed bomb stops there. */
    maxUnpackedBytes: z
      .number({ error: (i) => `must be a number of bytes, got ${typeOfInput(i.input)}` })
      .int('must be a whole number of bytes')
      .min(1024 * 1024, 'must be at least 1048576 (1 MB)')
      .default(1024 * 1024 * 1024),
    /** How long unpacking one package archive may take. */
    unpackTimeout: positiveDuration.default('2m'),
  },
  mapping(),
);

/** The local dev server's address: where Cutover looks for Temporal when nothing says otherwise. */
export const defaultTemporalAddress = '127.0.0.1:7233';

/**
 * Where Cutover's processes reach Temporal. Besides this section, Temporal's own client configuration applies
 * (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY, a profile of its TOML file): src/temporal/connection-settings.ts.
 */
export const temporalSchema = z
  .strictObject(
    {
      /** host:port of Temporal's frontend; written here it wins over TEMPORAL_ADDRESS and the profile. */
      address: z
        .string({ error: (i) => `must be host:port, got ${typeOfInput(i.input)}` })
        .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?$/, 'must be host:port, like temporal.example.com:7233')
        .optional(),
      /** Written here it wins over TEMPORAL_NAMESPACE and the profile. */
      namespace: z
        .string({ error: (i) => `must be a string, got ${typeOfInput(i.input)}` })
        .min(1, 'must not be empty')
        .optional(),
      /** A profile of Temporal's client configuration file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml). */
      profile: z
        .string({ error: (i) => `must be a profile name, got ${typeOfInput(i.input)}` })
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a profile name: letters, digits, ".", "-" and "_"')
        .optional(),
      taskQueue: z.string().default('cutover'),
      uiPort: port.default(8233),
    },
    mapping(),
  )
  .prefault({})
  .transform(({ address, namespace, ...rest }) => ({
    ...rest,
    address: address ?? defaultTemporalAddress,
    namespace: namespace ?? 'default',
    /** Whether address and namespace were written in the file: only then do they win over Temporal's own settings. */
    written: { address: address !== undefined, namespace: namespace !== undefined },
  }));

const taskCount = (min: number) =>
  z
    .number({ error: (i) => `must be a whole number, got ${typeOfInput(i.input)}` })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`);

/** "127.0.0.1:9464", "[::1]:9464": an address and port on loopback, for an endpoint without auth. */
export const loopbackAddressSchema = z
  .string({ error: (i) => `must be an address and port such as 127.0.0.1:9464, got ${typeOfInput(i.input)}` })
  .regex(
    /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]):\d{1,5}$/,
    'must be a loopback address and port such as 127.0.0.1:9464 (the endpoint has no auth, so nothing beyond this host may reach it)',
  )
  .refine((text) => {
    const portNumber = Number(text.slice(text.lastIndexOf(':') + 1));
    return portNumber >= 1 && portNumber <= 65535;
  }, 'must end with a port between 1 and 65535');

/** Cutover's worker process: how much it runs at once, and how long a stop waits for running steps (docs/operations.md). */
export const workerSchema = z
  .strictObject(
    {
      /** Activities (router switches, slot starts, database copies) at once; the SDK's 100 when absent. */
      maxConcurrentActivityTaskExecutions: taskCount(1).optional(),
      /** Workflow tasks at once; the SDK's 40 when absent. */
      maxConcurrentWorkflowTaskExecutions: taskCount(2).optional(),
      /** Workflows kept in memory between tasks (sticky cache); 0 turns it off; the SDK sizes it from the heap when absent. */
      maxCachedWorkflows: taskCount(0)
        .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
        .optional(),
      /** On SIGTERM, how long running activities may finish before they are cancelled (and retried by another worker). */
      shutdownGraceTime: duration.default('5s'),
      /** Where the Temporal SDK serves its Prometheus metrics (docs/metrics.md); loopback only: the endpoint has no auth. None when absent. */
      metricsAddress: loopbackAddressSchema.optional(),
    },
    mapping(),
  )
  .prefault({})
  .refine(
    (w) => !w.maxCachedWorkflows || !w.maxConcurrentWorkflowTaskExecutions || w.maxConcurrentWorkflowTaskExecutions <= w.maxCachedWorkflows,
    {
      path: ['maxConcurrentWorkflowTaskExecutions'],
      message: 'must not exceed maxCachedWorkflows (unless maxCachedWorkflows is 0)',
    },
  );

export const configSchema = z
  .strictObject(
    {
      stateDir: z.string().default('.cutover'),
      temporal: temporalSchema,
      worker: workerSchema,
      api: z
        .strictObject(
          {
            /** Beyond loopback only with an auth section: the API refuses to start otherwise. */
            host: z.string().default('127.0.0.1'),
            port: port.default(7300),
            /** Host names clients reach the API by, besides loopback and api.host; other Host headers are refused (DNS rebinding). */
            allowedHosts: z
              .array(
                z.string().regex(/^([a-z0-9.-]{1,253}|\[?[0-9a-f:.]{2,45}\]?)$/i, 'must be a host name or IP address, without a port'),
                { error: () => 'must be a list of host names' },
              )
              .default([]),
          },
          mapping(),
        )
        .prefault({}),
      postgres: z.strictObject({ binDir: z.string().default('/usr/lib/postgresql/15/bin') }).prefault({}),
      /** Bearer tokens of the HTTP API; without this section the API is open (local development only). */
      auth: z.strictObject({ tokens: z.array(tokenSchema).min(1, 'must list at least one token') }, mapping()).optional(),
      slack: z
        .strictObject(
          {
            /** Names of environment variables: secrets never live in the file. */
            signingSecretEnv: z
              .string()
              .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
              .default('SLACK_SIGNING_SECRET'),
            botTokenEnv: z
              .string()
              .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
              .default('SLACK_BOT_TOKEN'),
            apiUrl: z.url('must be a URL').default('https://slack.com/api/'),
            reminderInterval: duration.default('30m'),
          },
          mapping(),
        )
        .optional(),
      packages: packagesSchema.prefault({}),
      /** App servers: each runs a host agent on cutover-host-<name>; the data plane reaches their slots at address. */
      hosts: z.record(slug, hostSchema, { error: () => 'must be a mapping of host name to host' }).default({}),
      environments: z.record(slug, environmentSchema, { error: () => 'must be a mapping of environment name to environment' }),
    },
    mapping(),
  )
  .superRefine((config, ctx) => {
    // One router per host serves all its environments: they name the same admin address, which counts as one claim.
    const routerOfHost = new Map<string, { environment: string; adminHost: string; adminPort: number }>();
    for (const [envName, env] of Object.entries(config.environments)) {
      const first = routerOfHost.get(env.host);
      if (!first) routerOfHost.set(env.host, { environment: envName, ...env.router });
      else
        for (const field of ['adminPort', 'adminHost'] as const) {
          if (env.router[field] === first[field]) continue;
          const message =
            `must be ${JSON.stringify(first[field])} as for environment ${first.environment}: ` +
            `the environments of host ${env.host} share one router, with one admin address`;
          ctx.addIssue({ code: 'custom', path: ['environments', envName, 'router', field], message });
        }
    }
    // Slots run only on declared hosts, at addresses the environment's router may send traffic to.
    for (const [envName, env] of Object.entries(config.environments)) {
      env.hosts?.forEach((name, i) => {
        const path = ['environments', envName, 'hosts', i];
        const host = config.hosts[name];
        if (env.hosts!.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path, message: `duplicate host "${name}"` });
        else if (!host) {
          const declared = Object.keys(config.hosts).join(', ') || 'none';
          ctx.addIssue({ code: 'custom', path, message: `unknown host "${name}"; declared under hosts: ${declared}` });
        } else if (isIP(host.address) !== 0 && !env.router.slotHosts.includes(host.address)) {
          const message = `host "${name}" has address ${host.address}, which router.slotHosts does not allow: add it there`;
          ctx.addIssue({ code: 'custom', path, message });
        }
      });
    }
    // Every listening port belongs to exactly one thing on the host.
    const seen = new Map<number, string>();
    for (const [envName, env] of Object.entries(config.environments)) {
      const sharesRouter = routerOfHost.get(env.host)?.environment !== envName;
      const adminClaim: [number, (string | number)[]] = [env.router.adminPort, ['environments', envName, 'router', 'adminPort']];
      const claims: Array<[number, (string | number)[]]> = sharesRouter ? [] : [adminClaim];
      env.sites.forEach((site, i) => {
        claims.push([site.publicPort, ['environments', envName, 'sites', i, 'publicPort']]);
        claims.push([site.previewPort, ['environments', envName, 'sites', i, 'previewPort']]);
      });
      for (const [p, path] of claims) {
        const owner = seen.get(p);
        if (owner) ctx.addIssue({ code: 'custom', path, message: `port ${p} is already used by ${owner}` });
        else seen.set(p, formatPath(path));
      }
    }
  });

export type CutoverConfig = z.infer<typeof configSchema>;
export type TemporalConfig = z.infer<typeof temporalSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type Role = (typeof roles)[number];
export type TokenConfig = z.infer<typeof tokenSchema>;
export type DatabaseEngineName = (typeof databaseEngines)[number];
