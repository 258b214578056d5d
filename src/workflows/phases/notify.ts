/** Tells the environment's Slack channel; a Slack problem is logged and never fails the deployment. */
import type { SlackEvent } from '../../slack/contract.js';
import { notify, run } from '../activity-presets.js';
import { classify } from '../failure-classes.js';
import type { DeploymentContext } from './context.js';

export async function announce({ plan, record }: DeploymentContext, event: SlackEvent): Promise<void> {
  if (!plan.slack) return;
  try {
    const previewUrls = Object.fromEntries(plan.sites.map((site) => [site.name, site.previewUrl]));
    const ref = await run(notify.notifySlack, `Tell Slack: ${event}`, {
      event,
      status: record.status(),
      previewUrls,
      message: record.slackMessage,
    });
    if (ref) record.slackMessage = ref;
  } catch (error) {
    record.log(`Could not tell Slack (${event}): ${classify(error).message}`, 'warn');
  }
}
