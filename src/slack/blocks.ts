/** Block Kit messages of the Slack bot: pure functions of a deployment's status. */
import { describeStats } from '../workflows/analysis-definitions.js';
import { failureClasses } from '../failures.js';
import type { DeploymentStatus } from '../workflows/definitions.js';
import { slackActionIds } from './contract.js';

type Text = { type: 'mrkdwn'; text: string } | { type: 'plain_text'; text: string; emoji?: boolean };
interface ButtonElement {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  value: string;
  style?: 'primary' | 'danger';
  confirm?: {
    title: { type: 'plain_text'; text: string };
    text: Text;
    confirm: { type: 'plain_text'; text: string };
    deny: { type: 'plain_text'; text: string };
    style?: 'danger';
  };
}
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji?: boolean } }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] };

/** `text` is the notification and screen-reader fallback; `blocks` what Slack shows. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export type OutcomeEvent = 'completed' | 'reset' | 'failed' | 'rolled-back';

/** mrkdwn treats these three as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A section's text is limited to 3000 characters. */
function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const md = (text: string): Text => ({ type: 'mrkdwn', text });
const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });

/** Who asked: a Slack user is mentioned, anything else is named as is. */
export function formatRequester(requestedBy: string | undefined): string | null {
  if (!requestedBy) return null;
  const slackUser = /^slack:([UW][A-Z0-9]+)$/.exec(requestedBy);
  return slackUser ? `<@${slackUser[1]}>` : escapeMrkdwn(requestedBy);
}

/** Slack renders `<!date^...>` in the reader's time zone; the fallback is for clients that cannot. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} at {time}|${iso}>`;
}

export function awaitingSince(status: DeploymentStatus): string {
  return status.timings.find((t) => t.phase === 'awaiting-verification')?.startedAt ?? status.startedAt;
}

function facts(status: DeploymentStatus): SlackBlock {
  const previous = status.previousPackage ? escapeMrkdwn(status.previousPackage.version) : 'none (first deployment)';
  return {
    type: 'section',
    fields: [
      md(`*Deployment*\n\`${escapeMrkdwn(status.deploymentId)}\``),
      md(`*Environment*\n${escapeMrkdwn(status.environment)}`),
      md(`*Version*\n${escapeMrkdwn(status.package.name)} ${escapeMrkdwn(status.package.version)} (previous: ${previous})`),
      md(`*Mode*\n${status.mode}`),
    ],
  };
}

const analysisHeads = {
  pass: ':white_check_mark: *Analysis passed*',
  fail: ':rotating_light: *Analysis failed*',
  inconclusive: ':grey_question: *Analysis inconclusive*',
} as const;

/** The analysis' evidence: per check, the preview's requests, error rate and p99 next to the live version's. */
export function analysisBlock(status: DeploymentStatus): SlackBlock | null {
  const analysis = status.analysis;
  if (!analysis) return null;
  const head =
    analysis.state === 'running'
      ? ':mag: *Analysis running*'
      : analysis.state === 'stopped' || !analysis.verdict
        ? '*Analysis stopped*'
        : analysisHeads[analysis.verdict];
  const lines = [
    ...analysis.checks.map(
      (c) =>
        `• ${escapeMrkdwn(c.site)} \`GET ${escapeMrkdwn(c.path)}\`: ${c.verdict}; preview ${describeStats(c)}` +
        `${c.live ? `; live ${describeStats(c.live)}` : ''}`,
    ),
    ...analysis.metrics.map(
      (m) =>
        `• metric ${escapeMrkdwn(m.name)}: ${m.verdict}; ${escapeMrkdwn(m.reason)}` +
        `${m.preview ? `; preview ${describeStats(m.preview)}` : ''}${m.live ? `; live ${describeStats(m.live)}` : ''}`,
    ),
  ];
  return { type: 'section', text: md(truncate([`${head}: ${escapeMrkdwn(analysis.summary)}`, ...lines].join('\n'), 2900)) };
}

const withAnalysis = (status: DeploymentStatus): SlackBlock[] => {
  const block = analysisBlock(status);
  const replay = replayBlock(status);
  return [...(block ? [block] : []), ...(replay ? [replay] : [])];
};

/** readwrite-replay: the clone's writes replayed onto the originals, and the conflicts to decide with. */
export function replayBlock(status: DeploymentStatus): SlackBlock | null {
  const replay = status.replay;
  if (!replay) return null;
  const head = replay.conflictCount
    ? `:warning: *Clone writes replayed*: ${replay.applied} applied, ${replay.conflictCount} conflicts`
    : `*Clone writes replayed*: ${replay.applied} applied, no conflict`;
  const lines = replay.conflicts
    .slice(0, 10)
    .map((c) => `• ${escapeMrkdwn(c.database)} ${escapeMrkdwn(c.table)} ${escapeMrkdwn(JSON.stringify(c.key))}: ${escapeMrkdwn(c.reason)}`);
  return { type: 'section', text: md(truncate([head, ...lines].join('\n'), 2900)) };
}

function previewLinks(previewUrls: Record<string, string>): string {
  const links = Object.entries(previewUrls).map(([site, url]) => `<${url}|${escapeMrkdwn(site)}: ${escapeMrkdwn(url)}>`);
  return links.length > 0 ? links.join('\n') : '_no preview address_';
}

export function decisionButtons(deploymentId: string): SlackBlock {
  return {
    type: 'actions',
    block_id: 'cutover_decision',
    elements: [
      { type: 'button', action_id: slackActionIds.complete, text: plain('Complete'), value: deploymentId, style: 'primary' },
      { type: 'button', action_id: slackActionIds.reset, text: plain('Reset'), value: deploymentId },
      {
        type: 'button',
        action_id: slackActionIds.resetDatabase,
        text: plain('Reset with database'),
        value: deploymentId,
        style: 'danger',
        // Restoring the database throws away every write made since the restore point: ask twice.
        confirm: {
          title: plain('Reset with database?'),
          text: md(
            'The previous version goes back and the database is restored to the restore point taken before the migrations. ' +
              '*Writes made since then are lost.*',
          ),
          confirm: plain('Reset code and database'),
          deny: plain('Cancel'),
          style: 'danger',
        },
      },
    ],
  };
}

export function awaitingVerificationMessage(
  status: DeploymentStatus,
  previewUrls: Record<string, string>,
  approvers: string[],
): SlackMessage {
  const id = status.deploymentId;
  return {
    text: `Deployment ${id} of ${status.package.version} to ${status.environment} awaits verification`,
    blocks: [
      { type: 'header', text: plain(`Deployment awaiting verification: ${status.environment}`) },
      facts(status),
      { type: 'section', text: md(`*Preview*\n${previewLinks(previewUrls)}`) },
      ...withAnalysis(status),
      decisionButtons(id),
      {
        type: 'context',
        elements: [
          md(
            '*Complete* moves public traffic to the new version. *Reset* puts the previous version back (code only); ' +
              `*Reset with database* also restores the database. Approvers: ${approvers.map((u) => `<@${u}>`).join(', ')}`,
          ),
        ],
      },
    ],
  };
}

export function reminderMessage(status: DeploymentStatus, resetAt: string | null): SlackMessage {
  const since = awaitingSince(status);
  const deadline = resetAt ? ` Without a decision it is reset automatically ${slackDate(resetAt)}.` : '';
  return {
    text: `Deployment ${status.deploymentId} still awaits verification since ${since}`,
    blocks: [
      {
        type: 'section',
        text: md(
          `:hourglass_flowing_sand: Deployment \`${escapeMrkdwn(status.deploymentId)}\` still awaits verification ` +
            `since ${slackDate(since)}: *Complete* or *Reset* above.${deadline}`,
        ),
      },
    ],
  };
}

function outcomeLine(status: DeploymentStatus, event: OutcomeEvent): string {
  const by = formatRequester(status.decision?.requestedBy);
  const reason = status.decision?.reason ? escapeMrkdwn(status.decision.reason) : null;
  if (event === 'completed')
    return `:white_check_mark: *Completed*${by ? ` by ${by}` : ''}: public traffic is on ${escapeMrkdwn(status.package.version)}.`;
  if (event === 'rolled-back') {
    const live = escapeMrkdwn(status.previousPackage?.version ?? 'the previous version');
    const breach = escapeMrkdwn(status.bake?.breach ?? 'the thresholds were breached');
    return (
      `:rotating_light: *Rolled back automatically* during the bake after Complete: ${breach}. Public traffic is on ${live} ` +
      'again (code only: the databases keep the new migrations and every write). Deploy a fixed package to roll forward.'
    );
  }
  if (event === 'reset') {
    const what = status.decision?.rollbackDatabase ? 'code and database rolled back' : 'code rolled back, database kept';
    const who = by ? ` by ${by}` : reason ? ` automatically (${reason})` : '';
    const live = escapeMrkdwn(status.previousPackage?.version ?? 'the previous version');
    return `:leftwards_arrow_with_hook: *Reset*${who}: ${what}; public traffic is on ${live}.`;
  }
  const failure = status.failure;
  if (!failure) return ':x: *Failed*.';
  return [
    `:x: *Failed: ${failureClasses[failure.class]?.title ?? failure.class}* (\`${failure.class}\`)` +
      (failure.site ? ` on site ${escapeMrkdwn(failure.site)}` : ''),
    `>${escapeMrkdwn(truncate(failure.message, 2000)).replace(/\n/g, '\n>')}`,
    `*What to do:* ${escapeMrkdwn(failure.remediation)}`,
  ].join('\n');
}

const outcomeTitles: Record<OutcomeEvent, string> = {
  completed: 'Deployment completed',
  reset: 'Deployment reset',
  failed: 'Deployment failed',
  'rolled-back': 'Deployment rolled back automatically',
};

/** Replaces the awaiting-verification message: the buttons go, the outcome and who decided stay. */
export function outcomeMessage(status: DeploymentStatus, event: OutcomeEvent): SlackMessage {
  const text = outcomeLine(status, event);
  return {
    text: `${outcomeTitles[event]}: ${status.deploymentId} (${status.environment})`,
    blocks: [
      { type: 'header', text: plain(`${outcomeTitles[event]}: ${status.environment}`) },
      facts(status),
      { type: 'section', text: md(text) },
      ...withAnalysis(status),
    ],
  };
}
