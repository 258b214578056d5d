/** The Slack bot's outbound side: a Temporal activity the deployment workflow calls at each turn. */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, LogLevel, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import type { LoadedConfig } from '../config/load.js';
import { durationMs } from '../config/duration.js';
import { awaitingSince, awaitingVerificationMessage, outcomeMessage, reminderMessage, type SlackMessage } from './blocks.js';
import { slackMisconfigured, type SlackMessageRef, type SlackNotice } from './contract.js';

/** The part of WebClient the bot uses, so tests may inject their own. */
export interface SlackWebClient {
  chat: Pick<WebClient['chat'], 'postMessage' | 'update'>;
}

export interface SlackActivityDeps {
  config: LoadedConfig;
  /** Where the bot token is read from; process.env in production. */
  env?: NodeJS.ProcessEnv;
  webClient?: (token: string) => SlackWebClient;
}

/** Errors that retrying cannot fix: the token, the channel or the app's scopes. */
const misconfigurations: Record<string, (what: { tokenEnv: string; channel: string; environment: string }) => string> = {
  invalid_auth: ({ tokenEnv }) =>
    `Slack refused the bot token in ${tokenEnv} (invalid_auth): set it to the app's Bot User OAuth Token (xoxb-...)`,
  not_authed: ({ tokenEnv }) => `Slack received no bot token (not_authed): set ${tokenEnv}`,
  account_inactive: ({ tokenEnv }) => `the Slack bot token in ${tokenEnv} belongs to a deactivated app or user (account_inactive)`,
  token_revoked: ({ tokenEnv }) => `the Slack bot token in ${tokenEnv} was revoked (token_revoked): reinstall the app and update the token`,
  missing_scope: () => 'the Slack app lacks a scope (missing_scope): it needs chat:write and commands',
  channel_not_found: ({ channel, environment }) =>
    `Slack has no channel ${channel} the bot can see (channel_not_found): check environments.${environment}.slack.channel`,
  not_in_channel: ({ channel }) =>
    `the Slack bot is not a member of channel ${channel} (not_in_channel): invite it with /invite in that channel`,
  is_archived: ({ channel, environment }) =>
    `Slack channel ${channel} is archived (is_archived): unarchive it or change environments.${environment}.slack.channel`,
};

function isPlatformError(error: unknown): error is WebAPIPlatformError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === ErrorCode.PlatformError;
}

/** Slack's `ok: false` answers as Temporal failures: retried unless retrying cannot help. */
function slackFailure(method: string, error: unknown, context: { tokenEnv: string; channel: string; environment: string }): unknown {
  if (!isPlatformError(error)) return error;
  const code = error.data.error;
  const misconfigured = misconfigurations[code];
  if (misconfigured) return ApplicationFailure.nonRetryable(misconfigured(context), slackMisconfigured);
  return ApplicationFailure.retryable(`Slack ${method} failed: ${code}`, 'slack-error');
}

export function createSlackActivities({ config, env = process.env, webClient }: SlackActivityDeps) {
  const slack = config.slack;
  // Temporal retries the activity: the client itself neither retries nor waits out rate limits.
  const makeClient =
    webClient ??
    ((token: string): SlackWebClient =>
      new WebClient(token, {
        slackApiUrl: slack?.apiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: 10_000,
        logLevel: LogLevel.ERROR,
      }));

  return {
    /** Posts or updates the environment's Slack message; null when Slack is not configured for it. */
    async notifySlack(notice: SlackNotice): Promise<SlackMessageRef | null> {
      const { status } = notice;
      const environment = config.environments[status.environment];
      if (!slack || !environment?.slack) return null;
      const channel = environment.slack.channel;
      const token = env[slack.botTokenEnv];
      if (!token) {
        throw ApplicationFailure.nonRetryable(
          `Slack is configured for environment ${status.environment} but ${slack.botTokenEnv} (the bot token) is not set for the worker`,
          slackMisconfigured,
        );
      }
      const client = makeClient(token);
      const context = { tokenEnv: slack.botTokenEnv, channel, environment: status.environment };

      async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
        try {
          return await run();
        } catch (error) {
          throw slackFailure(method, error, context);
        }
      }

      async function post(message: SlackMessage, threadTs?: string): Promise<SlackMessageRef> {
        const answer = await call('chat.postMessage', () =>
          client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, thread_ts: threadTs, unfurl_links: false }),
        );
        return { channel: answer.channel ?? channel, ts: answer.ts ?? '' };
      }

      /** Updates the deployment's message in place. */
      async function replace(message: SlackMessage): Promise<SlackMessageRef> {
        const original = notice.message;
        if (!original) return post(message);
        try {
          await client.chat.update({ channel: original.channel, ts: original.ts, text: message.text, blocks: message.blocks });
          return original;
        } catch (error) {
          // Someone deleted the original message: say it anew rather than not at all.
          if (isPlatformError(error) && ['message_not_found', 'cant_update_message'].includes(error.data.error)) return post(message);
          throw slackFailure('chat.update', error, context);
        }
      }

      switch (notice.event) {
        case 'awaiting-verification':
          return post(awaitingVerificationMessage(status, notice.previewUrls, environment.slack.approvers));
        case 'analysis':
          // The approval message, buttons kept, now with the analysis' evidence.
          return replace(awaitingVerificationMessage(status, notice.previewUrls, environment.slack.approvers));
        case 'reminder': {
          const resetAt = new Date(Date.parse(awaitingSince(status)) + durationMs(environment.verificationTimeout)).toISOString();
          await post(reminderMessage(status, resetAt), notice.message?.ts);
          return notice.message;
        }
        default:
          return replace(outcomeMessage(status, notice.event));
      }
    },
  };
}

export type SlackActivities = ReturnType<typeof createSlackActivities>;
