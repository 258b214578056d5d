/**
 * What the Slack bot does with a verified button press or slash command: checks the approvers, then asks
 * the deployments service, which refuses (409) whatever makes no sense in the current state.
 */
import type { DeploymentsService } from '../api/deployments-service.js';
import { ApiError } from '../api/errors.js';
import type { LoadedConfig } from '../config/load.js';
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
  deployments: Pick<DeploymentsService, 'status' | 'complete' | 'reset' | 'environmentState'>;
}

const reply = (text: string): SlackReply => ({ response_type: 'ephemeral', text });

export const commandUsage = 'Usage: `/cutover status <environment>`, `/cutover complete <environment>`, `/cutover reset <environment> [database]`';

const buttonDecisions: Record<string, SlackDecision> = {
  [slackActionIds.complete]: { action: 'complete' },
  [slackActionIds.reset]: { action: 'reset', rollbackDatabase: false },
  [slackActionIds.resetDatabase]: { action: 'reset', rollbackDatabase: true },
};

const deploymentIdPattern = /^[a-z][a-z0-9-]{0,80}$/;

export function describeDecision(decision: SlackDecision): string {
  if (decision.action === 'complete') return 'Complete';
  return decision.rollbackDatabase ? 'Reset (roll back code and database)' : 'Reset (roll back code only)';
}

export function createSlackInbound({ config, deployments }: SlackInboundDeps) {
  /** Refusals name what is wrong; null when the environment takes Slack decisions from this user. */
  function refuseDecision(environment: string, userId: string, decision: SlackDecision): SlackReply | null {
    const slack = config.environments[environment]?.slack;
    if (!slack) return reply(`Slack approvals are not enabled for environment ${environment}.`);
    if (!slack.approvers.includes(userId)) return reply(`Only the approvers of ${environment} can ${decision.action} a deployment; nothing was changed.`);
    return null;
  }

  async function decide(status: DeploymentStatus, userId: string, decision: SlackDecision): Promise<SlackReply> {
    const refusal = refuseDecision(status.environment, userId, decision);
    if (refusal) return refusal;
    const requestedBy = `slack:${userId}`;
    return answerRefusals(async () => {
      if (decision.action === 'complete') await deployments.complete(status.deploymentId, requestedBy);
      else await deployments.reset(status.deploymentId, { rollbackDatabase: decision.rollbackDatabase, requestedBy });
      // The workflow accepted the decision and carries it out now; the channel message tells the outcome.
      return reply(`${describeDecision(decision)} accepted for deployment \`${status.deploymentId}\`: it is being ${decision.action === 'complete' ? 'completed' : 'reset'}.`);
    });
  }

  async function runningDeployment(environment: string): Promise<DeploymentStatus | SlackReply> {
    const state = await deployments.environmentState(environment);
    if (!state.running) {
      const last = state.last ? ` The last one, \`${state.last.deploymentId}\`, ended ${state.last.outcome}.` : '';
      return reply(`No deployment is running in ${environment}.${last}`);
    }
    return deployments.status(state.running.deploymentId);
  }

  return {
    /** A button of the awaiting-verification message; its value is the deployment id. */
    async button(input: { userId: string; actionId: string; deploymentId: string | undefined }): Promise<SlackReply> {
      const decision = buttonDecisions[input.actionId];
      if (!decision) return reply(`Unknown action ${input.actionId}.`);
      if (!input.deploymentId || !deploymentIdPattern.test(input.deploymentId)) return reply('This button names no deployment.');
      const id = input.deploymentId;
      return answerRefusals(async () => decide(await deployments.status(id), input.userId, decision));
    },

    /** `/cutover status|complete|reset <environment> [database]` */
    async command(input: { userId: string; text: string }): Promise<SlackReply> {
      const [verb, environment, extra, ...rest] = input.text.trim().split(/\s+/).filter(Boolean);
      if (!verb || !environment || rest.length > 0 || !['status', 'complete', 'reset'].includes(verb)) return reply(commandUsage);
      if (extra !== undefined && !(verb === 'reset' && ['database', '--database'].includes(extra))) return reply(commandUsage);
      if (!config.environments[environment]) return reply(`No environment named ${environment}.`);
      if (!config.environments[environment].slack) return reply(`Slack approvals are not enabled for environment ${environment}.`);

      if (verb === 'status') {
        return answerRefusals(async () => {
          const running = await runningDeployment(environment);
          return 'response_type' in running ? running : reply(statusLine(running));
        });
      }
      const decision: SlackDecision = verb === 'complete' ? { action: 'complete' } : { action: 'reset', rollbackDatabase: extra !== undefined };
      // Refuse non-approvers before saying anything about the environment's deployments.
      const refusal = refuseDecision(environment, input.userId, decision);
      if (refusal) return refusal;
      return answerRefusals(async () => {
        const running = await runningDeployment(environment);
        return 'response_type' in running ? running : decide(running, input.userId, decision);
      });
    },
  };
}

export function statusLine(status: DeploymentStatus): string {
  const actions = status.actions.length > 0 ? `Available now: ${status.actions.map((a) => (a === 'complete' ? 'Complete' : 'Reset')).join(', ')}.` : 'No action is available now.';
  const previous = status.previousPackage ? ` (previous: ${status.previousPackage.version})` : '';
  return `Deployment \`${status.deploymentId}\` of ${status.package.name} ${status.package.version}${previous} to ${status.environment}, mode ${status.mode}, is *${status.phase}*. ${actions}`;
}

/** 404 and 409 from the deployments service are answers for the user, not errors. */
async function answerRefusals(run: () => Promise<SlackReply>): Promise<SlackReply> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) return reply(`${error.message}; nothing was changed.`);
    throw error;
  }
}
