/**
 * The API's request metrics for Prometheus (docs/metrics.md): requests by route pattern, method and status class, and
 * their duration. Labelled by the route as declared (`/v1/deployments/:id`), never the path asked: ids and names
 * stay out of the labels, and the number of series stays bounded.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import { allow, authenticate, type ApiEnv } from './auth.js';
import type { ApiDeps } from './deps.js';
import { failures, needs, secured } from './openapi.js';

export const METRICS_PATH = '/metrics';

/** The route label of a request no route matched (a 404). */
export const unmatchedRoute = 'unmatched';

/** From a request answered at once to an upload or a slow Temporal (the API gives Temporal 3 s). */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One API process's metrics: its own registry, so that tests can build several apps in one process. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'cutover_api_requests_total',
    help: 'Requests the API answered, by route pattern, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'cutover_api_request_duration_seconds',
    help: 'Time from a request reaching the API to its response (to the first byte of a streamed log), in seconds',
    labelNames: ['route', 'method'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });

  record(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status_class: `${Math.floor(status / 100)}xx` });
    this.duration.observe({ route, method }, seconds);
  }
}

/** The route a request matched, as declared: the last handler that is not middleware for every method. */
export function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i -= 1) if (routes[i]!.method !== 'ALL') return routes[i]!.path;
  return unmatchedRoute;
}

/** Middleware, first of all: counts every request, refused ones included. */
export function countRequests(metrics: ApiMetrics) {
  return createMiddleware(async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // An error that escaped every handler becomes a 500 on its way out.
      const status = c.error && !c.finalized ? 500 : c.res.status;
      metrics.record(routeOf(c), c.req.method, status, (performance.now() - started) / 1000);
    }
  });
}

/** GET /metrics: for any token (every role may view); open, as the rest of the API, when auth is not configured. */
export function metricsRoutes(deps: ApiDeps, metrics: ApiMetrics) {
  const app = new OpenAPIHono<ApiEnv>();
  app.use(METRICS_PATH, authenticate(deps.config.auth?.tokens));
  return app.openapi(
    createRoute({
      method: 'get',
      path: METRICS_PATH,
      summary: "The API's request metrics, in the Prometheus text format",
      description: `${needs('any role')} Requests by route pattern, method and status class, and their duration (docs/metrics.md).`,
      security: secured,
      middleware: [allow('view', 'read the metrics')],
      responses: {
        200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } },
        ...failures(401),
      },
    }),
    async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
}
