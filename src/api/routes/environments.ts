import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorSchema } from '../errors.js';
import { environmentParam, environmentSchema } from '../schemas.js';
import { validationHook } from '../validation.js';

type ServedPackage = { sha256: string; version: string };

export function environmentRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/environments/{environment}',
      summary: 'The live package, whether the environment is in maintenance mode, and its running deployment',
      request: { params: environmentParam },
      responses: {
        200: { description: 'The environment', content: { 'application/json': { schema: environmentSchema } } },
        400: { description: 'Invalid name', content: { 'application/json': { schema: errorSchema } } },
        404: { description: 'No such environment', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const { environment } = c.req.valid('param');
      const env = deps.config.environments[environment];
      if (!env) throw new ApiError(404, 'not-found', `no environment named ${environment}`);
      const host = env.router.listenHost === '0.0.0.0' ? '127.0.0.1' : env.router.listenHost;
      const [routes, state] = await Promise.allSettled([deps.router(environment).getRoutes(), deps.deployments.environmentState(environment)]);
      const sites = env.sites.map((site) => {
        const live = routes.status === 'fulfilled' ? (routes.value.sites[site.name]?.live ?? null) : null;
        const pkg = ((live as { package?: ServedPackage } | null)?.package ?? null) as ServedPackage | null;
        const serving: 'slot' | 'clone' | 'maintenance-page' | 'nothing' =
          live === null ? 'nothing' : live.kind === 'maintenance' ? 'maintenance-page' : live.slotId.endsWith('.temporary') ? 'clone' : 'slot';
        return {
          name: site.name,
          role: site.role,
          publicUrl: `http://${host}:${site.publicPort}/`,
          previewUrl: `http://${host}:${site.previewPort}/`,
          serving,
          slotId: live?.kind === 'slot' ? live.slotId : null,
          package: pkg ? { sha256: pkg.sha256, version: pkg.version } : null,
        };
      });
      const envState = state.status === 'fulfilled' ? state.value : null;
      return c.json(
        {
          name: environment,
          livePackage: sites.find((s) => s.package)?.package ?? null,
          inMaintenance: sites.some((s) => s.serving === 'clone' || s.serving === 'maintenance-page'),
          runningDeployment: envState?.running?.deploymentId ?? null,
          lastDeployment: envState?.last ?? null,
          sites,
          ...(routes.status === 'rejected' ? { routerError: `the router of ${environment} is not reachable: ${(routes.reason as Error).message}` } : {}),
        },
        200,
      );
    },
  );

  return app;
}
