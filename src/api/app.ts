import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from './deps.js';
import { ApiError, onError } from './errors.js';
import { deploymentRoutes } from './routes/deployments.js';
import { environmentRoutes } from './routes/environments.js';
import { healthRoutes } from './routes/health.js';

/** The HTTP API as a function of its dependencies: tested through app.request() without a server. */
export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono();
  app.route('/', healthRoutes(deps));
  app.route('/', environmentRoutes(deps));
  app.route('/', deploymentRoutes(deps));
  app.doc('/openapi.json', { openapi: '3.0.3', info: { title: 'Cutover API', version: '1' } });
  app.notFound(() => {
    throw new ApiError(404, 'not-found', 'no such route');
  });
  app.onError(onError);
  return app;
}
