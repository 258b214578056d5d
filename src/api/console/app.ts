/**
 * The operator console, served by the API under /console: server-rendered pages, one client script, and the API's own
 * routes mounted again under /console/v1 with the session cookie instead of a bearer token (same roles, same refusals).
 */
import { Hono } from 'hono';
import { defaultApprovalPolicy } from '../../approvals/policy.js';
import { DeploymentNotFound } from '../../deployments/errors.js';
import { mayAccess, permissions, type ApiEnv, type Permission, type Principal } from '../auth.js';
import { deploymentView } from '../deployment-view.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { deploymentLogRoutes } from '../routes/deployment-log.js';
import { deploymentRoutes } from '../routes/deployments.js';
import { environmentRoutes } from '../routes/environments.js';
import { consoleScript, consoleStyle } from './client.js';
import { deploymentPage, environmentPage, environmentsPage, loginPage, notFoundPage } from './pages.js';
import { CONSOLE_PATH, createSessions, sameOrigin } from './session.js';

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const may = (principal: Principal, permission: Permission) =>
  principal.roles.some((role) => (permissions[permission] as readonly string[]).includes(role));

export function consoleRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  const sessions = createSessions(deps.config.auth?.tokens);
  const withLogout = !sessions.open;
  const view = deploymentView(deps);

  app.use(`${CONSOLE_PATH}/*`, async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  });
  app.use(`${CONSOLE_PATH}/*`, sameOrigin);
  app.use(CONSOLE_PATH, sameOrigin);

  app.get(`${CONSOLE_PATH}/assets/console.js`, (c) => c.body(consoleScript, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get(`${CONSOLE_PATH}/assets/console.css`, (c) => c.body(consoleStyle, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  app.get(`${CONSOLE_PATH}/login`, (c) => (sessions.open ? c.redirect(CONSOLE_PATH, 303) : c.html(loginPage(null))));
  app.post(`${CONSOLE_PATH}/login`, async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (sessions.login(c, token)) return c.redirect(CONSOLE_PATH, 303);
    return c.html(loginPage(token ? 'That token is not valid.' : 'Paste a token.'), 401);
  });
  app.post(`${CONSOLE_PATH}/logout`, (c) => {
    sessions.logout(c);
    return c.redirect(`${CONSOLE_PATH}/login`, 303);
  });

  // The API's routes, read and decided with the session: a missing one is a 401 the client script turns into the login page.
  const apiAuth = sessions.authenticate(() => {
    throw new ApiError(401, 'unauthorized', 'log in to the console first, or send "Authorization: Bearer <token>"');
  });
  app.use(`${CONSOLE_PATH}/v1/*`, apiAuth);
  app.route(CONSOLE_PATH, environmentRoutes(deps));
  app.route(CONSOLE_PATH, deploymentRoutes(deps));
  app.route(CONSOLE_PATH, deploymentLogRoutes(deps));

  const pageAuth = sessions.authenticate((c) => c.redirect(`${CONSOLE_PATH}/login`, 303));
  app.get(CONSOLE_PATH, pageAuth, (c) => {
    const principal = c.get('principal');
    const names = Object.keys(deps.config.environments)
      .filter((name) => mayAccess(principal, name))
      .sort();
    return c.html(environmentsPage(principal, names, withLogout));
  });
  app.get(`${CONSOLE_PATH}/environments/:name`, pageAuth, (c) => {
    const principal = c.get('principal');
    const name = c.req.param('name');
    const env = deps.config.environments[name];
    if (!env || !mayAccess(principal, name)) return c.html(notFoundPage(principal, `No environment named ${name}.`, withLogout), 404);
    return c.html(environmentPage(principal, name, env.approval ?? defaultApprovalPolicy, withLogout));
  });
  app.get(`${CONSOLE_PATH}/deployments/:id`, pageAuth, async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    try {
      const deployment = await view.find(principal, id);
      const policy = deps.config.environments[deployment.environment]?.approval ?? defaultApprovalPolicy;
      const page = deploymentPage({
        principal,
        deploymentId: deployment.deploymentId,
        environment: deployment.environment,
        policy,
        mayComplete: may(principal, 'complete'),
        mayReset: may(principal, 'reset'),
        withLogout,
      });
      return c.html(page);
    } catch (error) {
      if (error instanceof DeploymentNotFound) return c.html(notFoundPage(principal, error.message, withLogout), 404);
      throw error;
    }
  });

  return app;
}
