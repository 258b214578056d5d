/**
 * What the deployment workflow asks of the Slack bot. Side-effect free and type-only: workflows import it.
 */
import type { DeploymentStatus } from '../workflows/definitions.js';

/** `analysis`: the awaiting-verification message is updated with the analysis' evidence. */
/** `rolled-back`: a bake after Complete sent the traffic back to the previous version by itself. */
export type SlackEvent = 'awaiting-verification' | 'analysis' | 'reminder' | 'completed' | 'reset' | 'failed' | 'rolled-back';

/** A posted message: where it is and its timestamp, which Slack uses as its id. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface SlackNotice {
  event: SlackEvent;
  status: DeploymentStatus;
  /** Site name to preview address. */
  previewUrls: Record<string, string>;
  /** The message to update, if any. */
  message: SlackMessageRef | null;
}

/** Identifiers of the buttons; their `value` is the deployment id. */
export const slackActionIds = {
  complete: 'cutover_complete',
  reset: 'cutover_reset',
  resetDatabase: 'cutover_reset_database',
} as const;

/** The failure type of a Slack setup that retrying cannot fix (bad token, unknown channel, bot not invited). */
export const slackMisconfigured = 'slack-misconfigured';
