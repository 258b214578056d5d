import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { DeploymentStatus } from '../../workflows/definitions.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorSchema } from '../errors.js';
import { resolvePackage } from '../resolve-package.js';
import {
  completeBody,
  deploymentAcceptedSchema,
  deploymentParam,
  deploymentStatusSchema,
  environmentParam,
  resetBody,
  startDeploymentBody,
} from '../schemas.js';
import { validationHook } from '../validation.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(errorSchema, 'Invalid request: the message names the field'),
  404: json(errorSchema, 'No such deployment or environment'),
  409: json(errorSchema, 'Not possible in the current state: the message names it'),
};

export function deploymentRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });

  const withLinks = (status: DeploymentStatus) => {
    const env = deps.config.environments[status.environment];
    const host = env?.router.listenHost === '0.0.0.0' ? '127.0.0.1' : (env?.router.listenHost ?? '127.0.0.1');
    return {
      ...status,
      workflowId: status.deploymentId,
      links: {
        log: `/v1/deployments/${status.deploymentId}/log`,
        temporalUi: deps.deployments.temporalUiUrl(status.deploymentId),
        previews: Object.fromEntries((env?.sites ?? []).map((s) => [s.name, `http://${host}:${s.previewPort}/`])),
        publics: Object.fromEntries((env?.sites ?? []).map((s) => [s.name, `http://${host}:${s.publicPort}/`])),
      },
    };
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/environments/{environment}/deployments',
      summary: 'Start a deployment of a package to an environment',
      request: { params: environmentParam, body: { content: { 'application/json': { schema: startDeploymentBody } }, required: true } },
      responses: { 202: json(deploymentAcceptedSchema, 'The deployment started'), ...errors, 422: json(errorSchema, 'The package is unusable: the message says why') },
    }),
    async (c) => {
      const { environment } = c.req.valid('param');
      const body = c.req.valid('json');
      if (!deps.config.environments[environment]) throw new ApiError(404, 'not-found', `no environment named ${environment}`);
      const pkg = await resolvePackage(deps, body.package);
      const deploymentId = deps.deployments.newDeploymentId(environment);
      const started = await deps.deployments.start({ deploymentId, environment, package: pkg, mode: body.mode, requestedBy: body.requestedBy });
      const self = `/v1/deployments/${started.deploymentId}`;
      return c.json(
        { ...started, status: 'started', links: { self, log: `${self}/log`, temporalUi: deps.deployments.temporalUiUrl(started.workflowId) } },
        202,
        { Location: self },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deployments/{id}',
      summary: 'Phase, per-site state, timings, failure and the actions available now',
      request: { params: deploymentParam },
      responses: { 200: json(deploymentStatusSchema, 'The deployment'), 400: errors[400], 404: errors[404] },
    }),
    async (c) => c.json(withLinks(await deps.deployments.status(c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deployments/{id}/log',
      summary: 'The deployment log, as text',
      request: { params: deploymentParam },
      responses: { 200: { description: 'One line per event', content: { 'text/plain': { schema: z.string() } } }, 400: errors[400], 404: errors[404] },
    }),
    async (c) => {
      const lines = await deps.deployments.log(c.req.valid('param').id);
      return c.text(lines.map((l) => `${l.at} ${l.level.toUpperCase().padEnd(5)} ${l.message}`).join('\n') + '\n', 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/deployments/{id}/complete',
      summary: 'Complete: public traffic moves to the new version',
      request: { params: deploymentParam, body: { content: { 'application/json': { schema: completeBody } }, required: false } },
      responses: { 200: json(deploymentStatusSchema, 'Accepted; the deployment is completing'), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      return c.json(withLinks(await deps.deployments.complete(id, body.requestedBy)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/deployments/{id}/reset',
      summary: 'Reset: the previous version goes back, with or without its database',
      request: { params: deploymentParam, body: { content: { 'application/json': { schema: resetBody } }, required: true } },
      responses: { 200: json(deploymentStatusSchema, 'Accepted; the deployment is resetting'), ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(withLinks(await deps.deployments.reset(id, c.req.valid('json'))), 200);
    },
  );

  return app;
}
