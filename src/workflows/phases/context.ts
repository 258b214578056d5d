/** What every phase of a deployment works with: the request, the environment's plan, the record and the activity presets. */
import type { EnvironmentPlan } from '../../activities/contract.js';
import { activityPresets, type ActivityPresets } from '../activity-presets.js';
import type { DeploymentRequest } from '../definitions.js';
import type { DeploymentRecord } from '../deployment-record.js';

export interface DeploymentContext {
  request: DeploymentRequest;
  plan: EnvironmentPlan;
  record: DeploymentRecord;
  activities: ActivityPresets;
  /** How long a traffic switch waits for requests in flight to the previous target. */
  drainTimeoutMs: number;
}

export function deploymentContext(request: DeploymentRequest, plan: EnvironmentPlan, record: DeploymentRecord): DeploymentContext {
  // Router switches drain in-flight requests within the step's time.
  return { request, plan, record, activities: activityPresets(plan), drainTimeoutMs: Math.max(1000, Math.floor(plan.timeouts.stepMs / 2)) };
}

/** The environment and site an activity acts on. */
export const siteStep = (ctx: DeploymentContext, site: string) => ({ environment: ctx.request.environment, site });
export const databaseStep = (ctx: DeploymentContext, database: string) => ({ environment: ctx.request.environment, database });
