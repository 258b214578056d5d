import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { authenticate, type ApiEnv, type Principal } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { healthSchema } from '../schemas.js';

const PROBE_TIMEOUT_MS = 3000;

function withTimeout(work: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The last result for ttlMs, in flight or done: callers in between share it. */
function reusedFor<T>(ttlMs: number, run: () => Promise<T>): () => Promise<T> {
  let last: { at: number; result: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ttlMs) last = { at: now, result: run() };
    return last.result;
  };
}

export function healthRoutes(deps: ApiDeps) {
  const route = createRoute({
    method: 'get',
    path: '/health',
    summary: 'Whether Cutover can reach Temporal and every configured database; the details for a token',
    description: [
      'Public: needs no token, and then says only ok or degraded and whether the API needs a token.',
      'With a valid token (any role), or when auth is disabled, also which part is unreachable and why.',
      'Probe results are reused for a few seconds.',
    ].join(' '),
    responses: {
      200: { description: 'Everything is reachable', content: { 'application/json': { schema: healthSchema } } },
      503: { description: 'Something is not reachable; the details say what', content: { 'application/json': { schema: healthSchema } } },
    },
  });

  const databases = Object.entries(deps.config.environments).flatMap(([environment, env]) =>
    env.databases.map((db) => ({ environment, db })),
  );
  const probe = reusedFor(deps.settings.healthCacheMs, async () => {
    const [temporal, ...dbResults] = await Promise.allSettled([
      withTimeout(deps.probes.temporal(), 'Temporal'),
      ...databases.map(({ db }) => withTimeout(deps.probes.database(db), `database ${db.name}`)),
    ]);
    return {
      checkedAt: new Date().toISOString(),
      temporal: {
        ok: temporal!.status === 'fulfilled',
        address: deps.config.temporal.address,
        ...(temporal!.status === 'rejected' ? { error: reason(temporal!.reason) } : {}),
      },
      databases: databases.map(({ environment, db }, i) => {
        const result = dbResults[i]!;
        return {
          environment,
          database: db.name,
          engine: db.engine,
          ok: result.status === 'fulfilled',
          ...(result.status === 'rejected' ? { error: reason(result.reason) } : {}),
        };
      }),
    };
  });

  const app = new OpenAPIHono<ApiEnv>();
  app.use('/health', authenticate(deps.config.auth?.tokens, { optional: true }));
  return app.openapi(route, async (c) => {
    const details = await probe();
    const status = details.temporal.ok && details.databases.every((d) => d.ok) ? ('ok' as const) : ('degraded' as const);
    const auth = deps.config.auth ? ('enabled' as const) : ('disabled' as const);
    // Environments, databases and addresses are for those who may view: without a token, only the verdict.
    const viewer = c.get('principal') as Principal | undefined;
    const body = viewer ? { status, auth, ...details } : { status, auth };
    return status === 'ok' ? c.json(body, 200) : c.json(body, 503);
  });
}
