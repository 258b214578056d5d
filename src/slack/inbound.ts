/**
 * What the Slack bot does with a verified button press or slash command: checks the approvers, then asks
 * the deployments service, which refuses whatever makes no sense in the current state.
 */
import { ApprovalRefused } from '../approvals/policy.js';
import type { LoadedConfig } from '../config/load.js';
import { ActionNotAvailable, DeploymentNotFound, EnvironmentBusy, TemporalUnavailable, WorkerUnavailable } from '../deployments/errors.js';
import { deploymentIdPattern } from '../deployments/ids.js';
import type { DeploymentRef, DeploymentsService } from '../deployments/service.js';
import type { DeploymentStatus } from '../workflows/definitions.js';
import { slackActionIds } from './contract.js';

/** Slack shows `ephemeral` answers only to the user who asked. */
export interface SlackReply {
  response_type: 'ephemeral';
  text: string;
}

export type SlackDecision = { action: 'complete' } | { action: 'reset'; rollbackDatabase: boolean };

export interface SlackInboundDeps {
  config: LoadedConfig;
  deployments: Pick<DeploymentsService, 'find' | 'status' | 'complete' | 'reset' | 'environmentState'>;
}

const reply = (text: string): SlackReply => ({ response_type: 'ephemeral', text });

export const commandUsage =
  'Usage: `/cutover status <environment>`, `/cutover complete <deployment-id>`, `/cutover reset <deployment-id> [database]`';

const buttonDecisions: Record<string, SlackDecision> = {
  [slackActionIds.complete]: { action: 'complete' },
  [slackActionIds.reset]: { action: 'reset', rollbackDatabase: false },
  [slackActionIds.resetDatabase]: { action: 'reset', rollbackDatabase: true },
};

export function describeDecision(decision: SlackDecision): string {
  if (decision.action === 'complete') return 'Complete';
  return decision.rollbackDatabase ? 'Reset (roll back code and database)' : 'Reset (roll back code only)';
}

/** Slack's id of the interaction (its trigger_id) becomes the decision's id: a replay of it changes nothing. */
export const decisionRequestId = (triggerId: string) => `slack-${triggerId}`;

export function createSlackInbound({ config, deployments }: SlackInboundDeps) {
  /** Refusals name what is wrong; null when the environment takes Slack decisions from this user. */
  function refuseDecision(environment: string, userId: string, decision: SlackDecision): SlackReply | null {
    const slack = config.environments[environment]?.slack;
    if (!slack) return reply(`Slack approvals are not enabled for environment ${environment}.`);
    if (!slack.approvers.includes(userId))
      return reply(`Only the approvers of ${environment} can ${decision.action} a deployment; nothing was changed.`);
    return null;
  }

  const approvesSomewhere = (userId: string) => Object.values(config.environments).some((env) => env.slack?.approvers.includes(userId));

  /** Looks the deployment up (Temporal alone), checks the approver, then decides once for this request id. */
  async function decide(deploymentId: string, userId: string, decision: SlackDecision, triggerId: string): Promise<SlackReply> {
    // Refuse who approves nothing before saying anything about deployments.
    if (!approvesSomewhere(userId)) return reply(`Only approvers can ${decision.action} a deployment; nothing was changed.`);
    return answerRefusals(async () => {
      const deployment: DeploymentRef = await deployments.find(deploymentId);
      const refusal = refuseDecision(deployment.environment, userId, decision);
      if (refusal) return refusal;
      const requestedBy = `slack:${userId}`;
      const options = { requestId: decisionRequestId(triggerId) };
      // The Slack user id is the approver the environment's approval policy names.
      if (decision.action === 'complete') {
        const status = await deployments.complete(deployment, { requestedBy, approver: userId }, options);
        const approvals = status.approvals;
        if (!status.decision && approvals) {
          const count = `${approvals.received.length} of ${approvals.required}`;
          return reply(`Approval ${count} recorded for deployment \`${deploymentId}\`: it completes once enough approvers did.`);
        }
      } else await deployments.reset(deployment, { rollbackDatabase: decision.rollbackDatabase, requestedBy }, options);
      // The workflow accepted the decision and carries it out now; the channel message tells the outcome.
      const outcome = decision.action === 'complete' ? 'completed' : 'reset';
      return reply(`${describeDecision(decision)} accepted for deployment \`${deploymentId}\`: it is being ${outcome}.`);
    });
  }

  return {
    /** A button of the awaiting-verification message; its value is the deployment id. */
    async button(input: { userId: string; actionId: string; deploymentId: string | undefined; triggerId: string }): Promise<SlackReply> {
      const decision = buttonDecisions[input.actionId];
      if (!decision) return reply(`Unknown action ${input.actionId}.`);
      if (!input.deploymentId || !deploymentIdPattern.test(input.deploymentId)) return reply('This button names no deployment.');
      return decide(input.deploymentId, input.userId, decision, input.triggerId);
    },

    /** `/cutover status <environment>`, `/cutover complete <deployment-id>`, `/cutover reset <deployment-id> [database]` */
    async command(input: { userId: string; text: string; triggerId: string }): Promise<SlackReply> {
      const [verb, subject, extra, ...rest] = input.text.trim().split(/\s+/).filter(Boolean);
      if (!verb || !subject || rest.length > 0 || !['status', 'complete', 'reset'].includes(verb)) return reply(commandUsage);
      if (extra !== undefined && !(verb === 'reset' && ['database', '--database'].includes(extra))) return reply(commandUsage);

      if (verb === 'status') {
        const environment = subject;
        if (!config.environments[environment]) return reply(`No environment named ${environment}.`);
        if (!config.environments[environment].slack) return reply(`Slack approvals are not enabled for environment ${environment}.`);
        return answerRefusals(async () => {
          const state = await deployments.environmentState(environment);
          if (!state.running) {
            const last = state.last ? ` The last one, \`${state.last.deploymentId}\`, ended ${state.last.outcome}.` : '';
            return reply(`No deployment is running in ${environment}.${last}`);
          }
          return reply(statusLine(await deployments.status(await deployments.find(state.running.deploymentId))));
        });
      }
      // A decision names its deployment: a replayed `/cutover complete <environment>` would act on whatever runs then.
      if (config.environments[subject]) {
        const hint = `\`/cutover status ${subject}\` shows the running one`;
        return reply(`\`/cutover ${verb}\` takes a deployment id, not an environment: ${hint}. ${commandUsage}`);
      }
      if (!deploymentIdPattern.test(subject)) return reply(commandUsage);
      const decision: SlackDecision =
        verb === 'complete' ? { action: 'complete' } : { action: 'reset', rollbackDatabase: extra !== undefined };
      return decide(subject, input.userId, decision, input.triggerId);
    },
  };
}

export function statusLine(status: DeploymentStatus): string {
  const actions =
    status.actions.length > 0
      ? `Available now: ${status.actions.map((a) => (a === 'complete' ? 'Complete' : 'Reset')).join(', ')}.`
      : 'No action is available now.';
  const previous = status.previousPackage ? ` (previous: ${status.previousPackage.version})` : '';
  const what = `${status.package.name} ${status.package.version}${previous}`;
  return `Deployment \`${status.deploymentId}\` of ${what} to ${status.environment}, mode ${status.mode}, is *${status.phase}*. ${actions}`;
}

/** The deployments service's refusals and outages as answers for the user: the one place they become Slack replies. */
async function answerRefusals(run: () => Promise<SlackReply>): Promise<SlackReply> {
  try {
    return await run();
  } catch (error) {
    const refused = error instanceof ApprovalRefused || error instanceof EnvironmentBusy;
    if (error instanceof DeploymentNotFound || error instanceof ActionNotAvailable || refused) {
      return reply(`${error.message}; nothing was changed.`);
    }
    if (error instanceof WorkerUnavailable || error instanceof TemporalUnavailable) {
      return reply(`Cutover cannot answer now: ${error.message}.`);
    }
    throw error;
  }
}
