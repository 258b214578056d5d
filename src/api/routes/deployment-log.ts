import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { isFinished, type LogLine } from '../../workflows/definitions.js';
import { allow, type ApiEnv } from '../auth.js';
import { deploymentView } from '../deployment-view.js';
import type { ApiDeps } from '../deps.js';
import { failures, needs, secured } from '../openapi.js';
import { deploymentParam, logQuery } from '../schemas.js';
import { validationHook } from '../validation.js';

const asText = (lines: LogLine[]) => lines.map((l) => `${l.at} ${l.level.toUpperCase().padEnd(5)} ${l.message}\n`).join('');

const streamDescription = [
  'With follow=true, a text/event-stream: one `line` event per log line (data: a JSON LogLine; id: the index to resume',
  'from, also honoured as Last-Event-ID), then one `end` event (data: {"phase"}) when the deployment is completed, reset,',
  'or failed with no action left (or {"phase", "execution"} when its workflow ended otherwise, e.g. terminated).',
  'An `error` event (data: an Error) ends the stream if Temporal fails.',
].join(' ');

export function deploymentLogRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  const view = deploymentView(deps);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/deployments/{id}/log',
      summary: 'The deployment log, as text or followed as server-sent events',
      description: `${needs('any role, on the deployment’s environment')} ${streamDescription}`,
      security: secured,
      middleware: [allow('view', 'read deployment logs')],
      request: { params: deploymentParam, query: logQuery },
      responses: {
        200: {
          description: 'One line per event; a server-sent event stream with follow=true',
          content: { 'text/plain': { schema: z.string() }, 'text/event-stream': { schema: z.string() } },
        },
        ...failures(400, 401, 403, 404, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      const deployment = await view.find(c.get('principal'), id);
      if (query.follow !== 'true') return c.text(asText(await deps.deployments.log(deployment, query.after)), 200);

      const resumeFrom = Number(c.req.header('last-event-id'));
      let next = query.after ?? (Number.isSafeInteger(resumeFrom) && resumeFrom >= 0 ? resumeFrom : 0);
      return streamSSE(
        c,
        async (stream) => {
          let closedSeen = false;
          while (!stream.aborted) {
            // The status before the lines: once it says over, the lines fetched after it are the last ones.
            const status = await deps.deployments.status(deployment);
            for (const line of await deps.deployments.log(deployment, next)) {
              next += 1;
              await stream.writeSSE({ event: 'line', id: String(next), data: JSON.stringify(line) });
            }
            const execution = isFinished(status) ? null : (await deps.deployments.find(id)).execution;
            // Closed since the status was read: one more pass reads the final status and the last lines.
            if (!isFinished(status) && execution !== 'running' && !closedSeen) {
              closedSeen = true;
              continue;
            }
            if (isFinished(status) || execution !== 'running') {
              await stream.writeSSE({ event: 'end', data: JSON.stringify({ phase: status.phase, ...(execution ? { execution } : {}) }) });
              return;
            }
            await stream.sleep(deps.settings.logPollIntervalMs);
          }
        },
        async (error, stream) => {
          // Headers are sent already: the failure becomes the stream's last event.
          const message = `the log could not be followed: ${error.message}`;
          await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code: 'log-unavailable', message } }) });
        },
      );
    },
  );

  return app;
}
