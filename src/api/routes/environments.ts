import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { allow, mayAccess, visibleEnvironment, type ApiEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { failures, json, needs, secured } from '../openapi.js';
import { environmentListSchema, environmentParam, environmentSchema } from '../schemas.js';
import { validationHook } from '../validation.js';
import { siteUrls } from '../../config/addresses.js';

type ServedPackage = { sha256: string; version: string };

export function environmentRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/environments',
      summary: 'The configured environments: sites, their addresses, databases',
      description: `${needs('any role')} A token limited to environments sees only theirs.`,
      security: secured,
      middleware: [allow('view', 'list environments')],
      responses: { 200: json(environmentListSchema, 'The environments, by name'), ...failures(401) },
    }),
    async (c) => {
      const principal = c.get('principal');
      const environments = Object.entries(deps.config.environments)
        .filter(([name]) => mayAccess(principal, name))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, env]) => ({
          name,
          host: env.host,
          verificationTimeout: env.verificationTimeout,
          sites: env.sites.map((s) => ({ name: s.name, role: s.role, ...siteUrls(env, s) })),
          databases: env.databases.map((d) => ({ name: d.name, engine: d.engine })),
          links: { self: `/v1/environments/${name}`, deployments: `/v1/deployments?environment=${name}` },
        }));
      return c.json({ environments }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/environments/{environment}',
      summary: 'The live package, whether the environment is in maintenance mode, and its running deployment',
      description: needs('any role, on this environment'),
      security: secured,
      middleware: [allow('view', 'see environments')],
      request: { params: environmentParam },
      responses: { 200: json(environmentSchema, 'The environment'), ...failures(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { environment } = c.req.valid('param');
      const env = visibleEnvironment(deps.config, c.get('principal'), environment);
      const [routes, state] = await Promise.allSettled([
        deps.dataPlane(environment).routes(),
        deps.deployments.environmentState(environment),
      ]);
      // The data plane's answer is optional (routerError says why); the running deployment is not: unknown is a 503, never null.
      if (state.status === 'rejected') throw state.reason;
      const envState = state.value;
      const sites = env.sites.map((site) => {
        const live = routes.status === 'fulfilled' ? (routes.value[site.name]?.live ?? null) : null;
        const pkg: ServedPackage | null = live?.package ?? null;
        const serving: 'slot' | 'clone' | 'maintenance-page' | 'nothing' =
          live === null
            ? 'nothing'
            : live.kind === 'maintenance'
              ? 'maintenance-page'
              : live.slotId.endsWith('.temporary')
                ? 'clone'
                : 'slot';
        return {
          name: site.name,
          role: site.role,
          ...siteUrls(env, site),
          serving,
          slotId: live?.kind === 'slot' ? live.slotId : null,
          package: pkg ? { sha256: pkg.sha256, version: pkg.version } : null,
        };
      });
      return c.json(
        {
          name: environment,
          livePackage: sites.find((s) => s.package)?.package ?? null,
          inMaintenance: sites.some((s) => s.serving === 'clone' || s.serving === 'maintenance-page'),
          runningDeployment: envState.running?.deploymentId ?? null,
          lastDeployment: envState.last ?? null,
          sites,
          ...(routes.status === 'rejected'
            ? { routerError: `the data plane of ${environment} is not reachable: ${(routes.reason as Error).message}` }
            : {}),
        },
        200,
      );
    },
  );

  return app;
}
