import { requestProblems } from '../../config/request-checks.js';
import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { ApiError } from '../errors.js';
import { newDeploymentId } from '../../deployments/ids.js';
import { analysisSpec } from '../../config/analysis-schema.js';
import { bakeSpec } from '../../config/bake-schema.js';
import { durationMs } from '../../config/duration.js';
import { allow, visibleEnvironment, type ApiEnv } from '../auth.js';
import { deploymentView, identity, requester } from '../deployment-view.js';
import type { ApiDeps } from '../deps.js';
import { failures, json, needs, secured } from '../openapi.js';
import { resolvePackage } from '../resolve-package.js';
import {
  completeBody,
  deploymentAcceptedSchema,
  deploymentListSchema,
  deploymentParam,
  deploymentStatusSchema,
  environmentParam,
  listDeploymentsQuery,
  resetBody,
  startDeploymentBody,
} from '../schemas.js';
import { validationHook } from '../validation.js';

const DEFAULT_PAGE_SIZE = 20;

export function deploymentRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  const view = deploymentView(deps);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/environments/{environment}/deployments',
      summary: 'Start a deployment of a package to an environment',
      description: needs('the role deployer, on this environment'),
      security: secured,
      middleware: [allow('deploy', 'start a deployment')],
      request: { params: environmentParam, body: { content: { 'application/json': { schema: startDeploymentBody } }, required: true } },
      responses: {
        202: json(deploymentAcceptedSchema, 'The deployment started'),
        ...failures(400, 401, 403, 404, 409, 415, 422, 503),
      },
    }),
    async (c) => {
      const { environment } = c.req.valid('param');
      const body = c.req.valid('json');
      visibleEnvironment(deps.config, c.get('principal'), environment);
      const pkg = await resolvePackage(deps, body.package);
      const deploymentId = newDeploymentId(environment);
      const requestedBy = requester(c.get('principal'), body.requestedBy);
      const startedBy = identity(c.get('principal'), body.requestedBy);
      const allowMissing = body.allowMissingMigrations ? { allowMissingMigrations: true } : {};
      const fields = requestProblems(deps.config.environments[environment]!, body);
      if (fields.length) throw new ApiError(400, 'invalid-request', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
      const analysis =
        body.analysis === undefined ? {} : { analysis: body.analysis === null ? (false as const) : analysisSpec(body.analysis) };
      const bake = body.bake === undefined ? {} : { bake: body.bake === null ? (false as const) : bakeSpec(body.bake) };
      const canary = body.canary && {
        canary: {
          steps: body.canary.steps,
          intervalMs: durationMs(body.canary.interval),
          maxErrorRate: body.canary.maxErrorRate ?? null,
          maxP99Ms: body.canary.maxP99 ? durationMs(body.canary.maxP99) : null,
          ...(body.canary.allow?.length ? { allow: body.canary.allow } : {}),
        },
      };
      const rolling = body.strategy === 'rolling' ? { strategy: 'rolling' as const, maxUnavailable: body.maxUnavailable ?? 1 } : {};
      const request = {
        deploymentId,
        environment,
        package: pkg,
        mode: body.mode,
        requestedBy,
        startedBy,
        ...allowMissing,
        ...analysis,
        ...bake,
        ...canary,
        ...rolling,
      };
      const started = await deps.deployments.start(request);
      const self = `/v1/deployments/${started.deploymentId}`;
      return c.json(
        {
          ...started,
          status: 'started',
          links: { self, log: `${self}/log`, temporalUi: deps.deployments.temporalUiUrl(started.workflowId) },
        },
        202,
        { Location: self },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deployments',
      summary: 'Deployments, newest first, by environment, phase, mode or package version (Temporal visibility)',
      description: `${needs('any role')} A token limited to environments sees only theirs.`,
      security: secured,
      middleware: [allow('view', 'list deployments')],
      request: { query: listDeploymentsQuery },
      responses: { 200: json(deploymentListSchema, 'A page of deployments'), ...failures(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const principal = c.get('principal');
      if (query.environment) visibleEnvironment(deps.config, principal, query.environment);
      const page = await deps.deployments.list({
        environments: query.environment ? [query.environment] : principal.environments,
        phase: query.phase,
        mode: query.mode,
        version: query.version,
        pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE,
        pageToken: query.pageToken,
      });
      const deployments = page.deployments.map((d) => ({ ...d, links: { self: `/v1/deployments/${d.deploymentId}` } }));
      return c.json({ deployments, nextPageToken: page.nextPageToken }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deployments/{id}',
      summary: 'Phase, per-site state, timings, failure and the actions available now',
      description: needs('any role, on the deployment’s environment'),
      security: secured,
      middleware: [allow('view', 'see deployments')],
      request: { params: deploymentParam },
      responses: { 200: json(deploymentStatusSchema, 'The deployment'), ...failures(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const deployment = await view.find(c.get('principal'), c.req.valid('param').id);
      return c.json(view.withLinks(await deps.deployments.status(deployment)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/deployments/{id}/complete',
      summary: 'Complete: public traffic moves to the new version',
      description: needs('the role approver, on the deployment’s environment'),
      security: secured,
      middleware: [allow('complete', 'complete a deployment')],
      request: { params: deploymentParam, body: { content: { 'application/json': { schema: completeBody } }, required: false } },
      responses: {
        200: json(deploymentStatusSchema, 'Accepted; the deployment is completing'),
        ...failures(400, 401, 403, 404, 409, 415, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      const deployment = await view.find(c.get('principal'), id);
      const requestedBy = requester(c.get('principal'), body.requestedBy);
      const approver = identity(c.get('principal'), body.requestedBy);
      return c.json(view.withLinks(await deps.deployments.complete(deployment, { requestedBy, approver })), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/deployments/{id}/reset',
      summary: 'Reset: the previous version goes back, with or without its database',
      description: needs('the role deployer or approver, on the deployment’s environment'),
      security: secured,
      middleware: [allow('reset', 'reset a deployment')],
      request: { params: deploymentParam, body: { content: { 'application/json': { schema: resetBody } }, required: true } },
      responses: {
        200: json(deploymentStatusSchema, 'Accepted; the deployment is resetting'),
        ...failures(400, 401, 403, 404, 409, 415, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const deployment = await view.find(c.get('principal'), id);
      const requestedBy = requester(c.get('principal'), body.requestedBy);
      const status = await deps.deployments.reset(deployment, { rollbackDatabase: body.rollbackDatabase, requestedBy });
      return c.json(view.withLinks(status), 200);
    },
  );

  return app;
}
