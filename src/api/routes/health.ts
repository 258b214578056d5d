import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
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

export function healthRoutes(deps: ApiDeps) {
  const route = createRoute({
    method: 'get',
    path: '/health',
    summary: 'Whether Temporal and every configured database are reachable, and whether the API needs a token',
    description: 'Public: needs no token.',
    responses: {
      200: { description: 'Everything is reachable', content: { 'application/json': { schema: healthSchema } } },
      503: { description: 'Something is not reachable; the reason is given', content: { 'application/json': { schema: healthSchema } } },
    },
  });
  return new OpenAPIHono().openapi(route, async (c) => {
    const databases = Object.entries(deps.config.environments).flatMap(([environment, env]) => env.databases.map((db) => ({ environment, db })));
    const [temporal, ...dbResults] = await Promise.allSettled([
      withTimeout(deps.probes.temporal(), 'Temporal'),
      ...databases.map(({ db }) => withTimeout(deps.probes.database(db), `database ${db.name}`)),
    ]);
    const body = {
      auth: deps.config.auth ? ('enabled' as const) : ('disabled' as const),
      temporal: { ok: temporal!.status === 'fulfilled', address: deps.config.temporal.address, ...(temporal!.status === 'rejected' ? { error: reason(temporal!.reason) } : {}) },
      databases: databases.map(({ environment, db }, i) => {
        const result = dbResults[i]!;
        return { environment, database: db.name, engine: db.engine, ok: result.status === 'fulfilled', ...(result.status === 'rejected' ? { error: reason(result.reason) } : {}) };
      }),
    };
    const ok = body.temporal.ok && body.databases.every((d) => d.ok);
    return ok ? c.json({ status: 'ok' as const, ...body }, 200) : c.json({ status: 'degraded' as const, ...body }, 503);
  });
}
