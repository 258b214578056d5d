/** Test data for the Slack bot: a deployment status, configurations, signed requests. */
import { randomBytes } from 'node:crypto';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { signSlackRequest } from '../../src/slack/verify.js';
import type { DeploymentStatus } from '../../src/workflows/definitions.js';

export const approver = 'U0APPROVER';
export const stranger = 'U0STRANGER';
export const channel = 'C0CUTOVER';

export function deploymentStatus(overrides: Partial<DeploymentStatus> = {}): DeploymentStatus {
  return {
    deploymentId: 'shop-20250101-120000-ab12',
    environment: 'shop',
    mode: 'readonly',
    package: { sha256: 'a'.repeat(64), name: 'demo-app', version: '2.0.0', warmupPath: '/healthz' },
    previousPackage: { sha256: 'b'.repeat(64), version: '1.0.0' },
    phase: 'awaiting-verification',
    sites: [],
    actions: ['complete', 'reset'],
    decision: null,
    failure: null,
    timings: [
      { phase: 'preflight', startedAt: '2025-01-01T12:00:00.000Z', endedAt: '2025-01-01T12:00:01.000Z' },
      { phase: 'awaiting-verification', startedAt: '2025-01-01T12:01:00.000Z' },
    ],
    warnings: [],
    startedAt: '2025-01-01T12:00:00.000Z',
    endedAt: null,
    ...overrides,
  };
}

/** A configuration with the environment `shop` (Slack-enabled unless told) and `quiet` (never). */
export function slackConfig(
  options: {
    apiUrl?: string;
    topLevel?: boolean;
    shopSlack?: boolean;
    tokenEnv?: string;
    secretEnv?: string;
    /** Makes `quiet` Slack-enabled with these approvers. */
    quietApprovers?: string[];
  } = {},
): LoadedConfig {
  const top =
    options.topLevel === false
      ? ''
      : `slack: { apiUrl: "${options.apiUrl ?? 'https://slack.com/api/'}", botTokenEnv: ${options.tokenEnv ?? 'TEST_SLACK_BOT_TOKEN'}, ` +
        `signingSecretEnv: ${options.secretEnv ?? 'TEST_SLACK_SIGNING_SECRET'} }`;
  const shopSlack = options.shopSlack === false ? '' : `slack: { channel: ${channel}, approvers: [${approver}, U0SECOND] },`;
  const quietSlack = options.quietApprovers ? `slack: { channel: ${channel}, approvers: [${options.quietApprovers.join(', ')}] },` : '';
  return parseConfig(
    `
${top}
environments:
  shop:
    { ${shopSlack} verificationTimeout: 2h, router: { adminPort: 7401 }, sites: [{ name: web, role: zdd, publicPort: 8090, previewPort: 8091 }] }
  quiet:
    { ${quietSlack} router: { adminPort: 7401 }, sites: [{ name: web, role: zdd, publicPort: 8092, previewPort: 8093 }] }
`,
    '/tmp/cutover.slack-test.yaml',
  );
}

export interface SignedOptions {
  /** Seconds since the epoch; now by default. */
  timestamp?: number;
  /** Replaces the computed signature. */
  signature?: string;
  /** Signs with another secret. */
  secret?: string;
}

/** A form-encoded request signed the way Slack signs it. */
export function signedForm(secret: string, fields: Record<string, string>, options: SignedOptions = {}): RequestInit {
  const body = new URLSearchParams(fields).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': options.signature ?? signSlackRequest(options.secret ?? secret, timestamp, body),
    },
    body,
  };
}

/** Slack gives every interaction an id of its own, like 13345224609.738474920.8088930838d88f008e0. */
export const newTriggerId = () => `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`;

/** The block_actions payload Slack sends when a user presses one of the bot's buttons. */
export function buttonPayload(userId: string, actionId: string, deploymentId: string, responseUrl?: string): Record<string, string> {
  return {
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: userId, username: userId.toLowerCase(), team_id: 'T0TEAM' },
      team: { id: 'T0TEAM' },
      channel: { id: channel },
      trigger_id: newTriggerId(),
      response_url: responseUrl,
      actions: [{ type: 'button', action_id: actionId, block_id: 'cutover_decision', value: deploymentId, action_ts: '1700000000.000200' }],
    }),
  };
}

/** The form Slack posts for `/cutover <text>`. */
export function commandForm(userId: string, text: string): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T0TEAM',
    channel_id: channel,
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/cutover',
    text,
    response_url: 'https://hooks.slack.com/commands/T0TEAM/1/abc',
    trigger_id: newTriggerId(),
  };
}
