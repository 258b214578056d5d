/**
 * Slack's interactivity endpoint and the `/cutover` slash command. Slack authenticates by signature,
 * not by the API's bearer token: every request is verified on its raw body before anything is parsed.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { createSlackInbound, type SlackReply } from '../../slack/inbound.js';
import { createSlackVerifier } from '../../slack/verify.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorBody } from '../errors.js';

export interface SlackRouteOptions {
  /** Where the signing secret is read from, per request; process.env in production. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Posts replies to a payload's response_url. */
  fetch?: typeof fetch;
}

/** Slack's id of one interaction: a decision made through it happens once, however often the request arrives. */
const triggerId = z.string().regex(/^[\w.-]{1,255}$/);

const blockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string() }),
  trigger_id: triggerId,
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
  response_url: z.string().optional(),
});

export function slackRoutes(deps: ApiDeps, options: SlackRouteOptions = {}) {
  const app = new Hono();
  const env = options.env ?? process.env;
  const post = options.fetch ?? fetch;
  const verify = createSlackVerifier({ now: options.now });
  const inbound = createSlackInbound(deps);

  /** The verified form fields of a Slack request; throws 401 (signature) or 503 (no secret) otherwise. */
  async function verifiedForm(c: Context): Promise<URLSearchParams> {
    const slack = deps.config.slack;
    if (!slack) throw new ApiError(404, 'not-found', 'Slack is not configured (no slack section in the configuration)');
    const secret = env[slack.signingSecretEnv];
    if (!secret)
      throw new ApiError(503, 'slack-misconfigured', `Slack requests cannot be verified: ${slack.signingSecretEnv} is not set for the API`);
    const rawBody = await c.req.text();
    const verdict = verify(secret, {
      signature: c.req.header('x-slack-signature'),
      timestamp: c.req.header('x-slack-request-timestamp'),
      rawBody,
    });
    if (!verdict.ok) throw new ApiError(401, 'invalid-signature', `Slack request refused: ${verdict.reason}`);
    return new URLSearchParams(rawBody);
  }

  /** Unexpected failures still answer 200, so the user sees a sentence instead of Slack's generic error. */
  async function answer(c: Context, run: () => Promise<SlackReply>) {
    try {
      return c.json(await run(), 200);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      console.error('Slack request failed', error instanceof Error ? error.stack : error);
      return c.json(
        { response_type: 'ephemeral', text: 'Cutover could not handle this request; the API log has the details.' } satisfies SlackReply,
        200,
      );
    }
  }

  /** Slack ignores the HTTP answer to a button press: replies reach the user through response_url. */
  function respond(responseUrl: string | undefined, reply: SlackReply) {
    if (!responseUrl || !isSlackResponseUrl(responseUrl, deps.config.slack?.apiUrl)) return;
    post(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...reply, replace_original: false }),
    }).catch((error: unknown) => console.error('Slack response_url post failed', error instanceof Error ? error.message : error));
  }

  app.use(
    '/slack/*',
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json(errorBody('too-large', 'Slack request body is larger than 64 KiB'), 413) }),
  );

  app.post('/slack/interactivity', async (c) => {
    const form = await verifiedForm(c);
    let payload: unknown;
    try {
      payload = JSON.parse(form.get('payload') ?? '');
    } catch {
      throw new ApiError(400, 'invalid-request', 'body.payload: must be JSON');
    }
    // Other interactions (shortcuts, view submissions) are not Cutover's: acknowledge and ignore them.
    if ((payload as { type?: unknown } | null)?.type !== 'block_actions') return c.body(null, 200);
    const parsed = blockActions.safeParse(payload);
    if (!parsed.success) {
      throw new ApiError(400, 'invalid-request', 'body.payload: not a block_actions payload with a user, a trigger_id and an action');
    }
    const { user, actions, response_url, trigger_id } = parsed.data;
    const action = actions[0]!;
    return answer(c, async () => {
      const press = { userId: user.id, actionId: action.action_id, deploymentId: action.value, triggerId: trigger_id };
      const reply = await inbound.button(press);
      respond(response_url, reply);
      return reply;
    });
  });

  app.post('/slack/commands', async (c) => {
    const form = await verifiedForm(c);
    if (form.get('ssl_check') === '1') return c.body(null, 200);
    const userId = form.get('user_id');
    if (!userId) throw new ApiError(400, 'invalid-request', 'body.user_id: is required');
    const trigger = triggerId.safeParse(form.get('trigger_id'));
    if (!trigger.success) throw new ApiError(400, 'invalid-request', "body.trigger_id: is required: Slack's id of the command");
    return answer(c, () => inbound.command({ userId, text: form.get('text') ?? '', triggerId: trigger.data }));
  });

  return app;
}

/** Only Slack's own hooks (or the configured API's host, for a stand-in) receive replies: no request forgery. */
export function isSlackResponseUrl(url: string, apiUrl: string | undefined): boolean {
  try {
    const target = new URL(url);
    if (target.protocol === 'https:' && target.hostname === 'hooks.slack.com') return true;
    return apiUrl !== undefined && target.origin === new URL(apiUrl).origin;
  } catch {
    return false;
  }
}
