import { z } from 'zod';

/** Names end up in workflow ids, database names and URLs: keep them to a safe alphabet. */
const slug = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and dashes, starting with a letter (at most 40)');

const databaseName = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be lowercase letters, digits and underscores, starting with a letter (at most 40)');

const port = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a port number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const duration = z
  .string({ error: (i) => `must be a duration like "30s", "10m" or "24h", got ${typeOfInput(i.input)}` })
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like "30s", "10m" or "24h"');

/** Error messages of a mapping: its unknown fields by name, else what it must be. */
function mapping(what = 'a mapping') {
  return { error: (i: { code?: string; keys?: string[] }) => (i.code === 'unrecognized_keys' ? `unknown field(s) ${(i.keys ?? []).join(', ')}` : `must be ${what}`) };
}

export function typeOfInput(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

export const siteRoles = ['zdd', 'maintenance-page'] as const;
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

export const databaseSchema = z.strictObject(
  {
    name: databaseName,
    engine: z.enum(databaseEngines, { error: (i) => `unknown engine ${JSON.stringify(i.input)}; expected one of ${databaseEngines.join(', ')}` }),
    /** Name of the environment variable holding the connection string: secrets never live in the file. */
    connectionEnv: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be the name of an environment variable') }).regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)'),
    /** SQL Server only: how the temporary copy is made. */
    copyMethod: z.enum(['backup-restore', 'copy-of']).optional(),
  },
  mapping(),
);

export const roles = ['viewer', 'deployer', 'approver'] as const;

/** An API token: only its sha256 is in the file, never the token itself. */
export const tokenSchema = z.strictObject(
  {
    name: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be letters, digits, dot, dash or underscore'),
    sha256: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the token, 64 lowercase hex characters'),
    roles: z.array(z.enum(roles, { error: (i) => `unknown role ${JSON.stringify(i.input)}; expected one of ${roles.join(', ')}` })).min(1, 'must grant at least one role'),
    /** Limits the token to these environments; all when absent. */
    environments: z.array(slug).optional(),
  },
  mapping(),
);

/** Slack approvals for one environment. */
export const environmentSlackSchema = z.strictObject(
  {
    channel: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).regex(/^[A-Z0-9]{2,32}$/, 'must be a Slack channel id like C0123ABCD'),
    approvers: z.array(z.string().regex(/^[UW][A-Z0-9]{2,32}$/, 'must be a Slack user id like U0123ABCD')).min(1, 'must name at least one approver'),
  },
  mapping(),
);

export const environmentSchema = z
  .strictObject(
    {
      host: slug.default('local'),
      slack: environmentSlackSchema.optional(),
      router: z.strictObject({ adminPort: port, listenHost: z.string().default('127.0.0.1') }, mapping('a mapping with adminPort')),
      /** Awaiting verification longer than this resets the deployment (never promotes it). */
      verificationTimeout: duration.default('24h'),
      /** How long one quick step (a router switch, a slot start) may take, and how soon a silent long step counts as dead. */
      timeouts: z
        .strictObject({ step: duration.default('60s'), heartbeat: duration.default('20s'), databaseWork: duration.default('4h') }, mapping())
        .prefault({}),
      sites: z.array(siteSchema, { error: () => 'must be a list of sites' }).min(1, 'must declare at least one site'),
      databases: z.array(databaseSchema, { error: () => 'must be a list of databases' }).default([]),
    },
    mapping(),
  )
  .superRefine((env, ctx) => {
    reportDuplicates(env.sites.map((s) => s.name), (index, name) =>
      ctx.addIssue({ code: 'custom', path: ['sites', index, 'name'], message: `duplicate site name "${name}"` }),
    );
    reportDuplicates(env.databases.map((d) => d.name), (index, name) =>
      ctx.addIssue({ code: 'custom', path: ['databases', index, 'name'], message: `duplicate database name "${name}"` }),
    );
  });

export const configSchema = z
  .strictObject(
    {
      stateDir: z.string().default('.cutover'),
      temporal: z
        .strictObject({
          address: z.string().default('127.0.0.1:7233'),
          namespace: z.string().default('default'),
          taskQueue: z.string().default('cutover'),
          uiPort: port.default(8233),
        })
        .prefault({}),
      api: z.strictObject({ host: z.string().default('127.0.0.1'), port: port.default(7300) }).prefault({}),
      postgres: z.strictObject({ binDir: z.string().default('/usr/lib/postgresql/15/bin') }).prefault({}),
      /** Bearer tokens of the HTTP API; without this section the API is open (local development only). */
      auth: z.strictObject({ tokens: z.array(tokenSchema).min(1, 'must list at least one token') }, mapping()).optional(),
      slack: z
        .strictObject(
          {
            /** Names of environment variables: secrets never live in the file. */
            signingSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('SLACK_SIGNING_SECRET'),
            botTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('SLACK_BOT_TOKEN'),
            apiUrl: z.url('must be a URL').default('https://slack.com/api/'),
            reminderInterval: duration.default('30m'),
          },
          mapping(),
        )
        .optional(),
      environments: z.record(slug, environmentSchema, { error: () => 'must be a mapping of environment name to environment' }),
    },
    mapping(),
  )
  .superRefine((config, ctx) => {
    // Every listening port belongs to exactly one thing on the host.
    const seen = new Map<number, string>();
    for (const [envName, env] of Object.entries(config.environments)) {
      const claims: Array<[number, (string | number)[]]> = [[env.router.adminPort, ['environments', envName, 'router', 'adminPort']]];
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

function reportDuplicates(names: string[], report: (index: number, name: string) => void) {
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

export type CutoverConfig = z.infer<typeof configSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type SiteRole = (typeof siteRoles)[number];
export type Role = (typeof roles)[number];
export type TokenConfig = z.infer<typeof tokenSchema>;
export type DatabaseEngineName = (typeof databaseEngines)[number];
