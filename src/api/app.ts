import { OpenAPIHono } from '@hono/zod-openapi';
import { allowAllEnvironments, authenticate, type ApiEnv } from './auth.js';
import type { ApiDeps } from './deps.js';
import { consoleRoutes } from './console/app.js';
import { docsPage } from './docs-page.js';
import { ApiError, onError } from './errors.js';
import { checkHost } from './exposure.js';
import { ApiMetrics, countRequests, metricsRoutes } from './metrics.js';
import { BEARER } from './openapi.js';
import { deploymentLogRoutes } from './routes/deployment-log.js';
import { deploymentRoutes } from './routes/deployments.js';
import { environmentRoutes } from './routes/environments.js';
import { healthRoutes } from './routes/health.js';
import { packageRoutes } from './routes/packages.js';
import { slackRoutes } from './routes/slack.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/**
 * The HTTP API as a function of its dependencies: tested through app.request() without a server.
 * Public: /health, /openapi.json and /docs. Everything under /v1 needs a bearer token when auth is configured.
 * /slack/* stays outside bearer auth: Slack signs its requests, and those routes verify the signature.
 * Every request must be addressed to one of the API's names (the Host header).
 */
export function createApp(deps: ApiDeps, options: { metrics?: ApiMetrics } = {}) {
  const metrics = options.metrics ?? new ApiMetrics();
  const app = new OpenAPIHono<ApiEnv>();
  app.use('*', countRequests(metrics));
  app.use('*', checkHost(deps.config));
  app.use('/v1/*', authenticate(deps.config.auth?.tokens));
  // Packages are not tied to environments: their list is for tokens that see every environment.
  app.on('GET', '/v1/packages', allowAllEnvironments('list packages'));
  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps, metrics));
  app.route('/', environmentRoutes(deps));
  app.route('/', deploymentRoutes(deps));
  app.route('/', deploymentLogRoutes(deps));
  app.route('/', packageRoutes(deps));
  app.route('/', slackRoutes(deps));
  // The operator console: its own session auth, and the routes above again under /console/v1.
  app.route('/', consoleRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', BEARER, {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from cutover.yaml auth.tokens (stored there as its sha256). Not needed when auth is not configured.',
  });
  app.doc(OPENAPI_PATH, {
    openapi: '3.0.3',
    info: {
      title: 'Cutover API',
      version: '1',
      description: 'Zero-downtime deployments of web applications and their databases, on Temporal.',
    },
  });
  app.route('/', docsPage<ApiEnv>({ path: DOCS_PATH, openapi: OPENAPI_PATH }));
  app.notFound(() => {
    throw new ApiError(404, 'not-found', 'no such route');
  });
  app.onError(onError);
  return app;
}
