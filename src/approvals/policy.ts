/**
 * Who may Complete a deployment of an environment (its `approval` section). The deployments service checks it
 * before every Complete, whichever channel sent it (API, console, Slack, CLI); the workflow counts the approvals.
 */
import type { EnvironmentConfig } from '../config/schema.js';
import type { DeploymentStatus } from '../workflows/definitions.js';

export type ApprovalPolicy = EnvironmentConfig['approval'];

/** Any approver, self-approval allowed, one approval: what an environment without an `approval` section gets. */
export const defaultApprovalPolicy: ApprovalPolicy = { allowSelfApproval: true, required: 1 };

/** The policy refuses this approver's Complete; nothing was changed. */
export class ApprovalRefused extends Error {
  constructor(
    readonly environment: string,
    readonly approver: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalRefused';
  }
}

/** Why `approver` (a token name or Slack user id) may not Complete this deployment now; null when they may. */
export function approvalRefusal(
  policy: ApprovalPolicy,
  approver: string,
  deployment: Pick<DeploymentStatus, 'deploymentId' | 'environment' | 'startedBy'>,
): string | null {
  const { deploymentId, environment } = deployment;
  if (policy.approvers && !policy.approvers.includes(approver)) {
    return `${approver} may not Complete deployments of ${environment}: its approval.approvers are ${policy.approvers.join(', ')}`;
  }
  if (!policy.allowSelfApproval && deployment.startedBy === approver) {
    return `${approver} started deployment ${deploymentId} and may not Complete it: ${environment} does not allow self-approval`;
  }
  return null;
}

/** Refuses with ApprovalRefused, or returns the number of approvals the Complete must carry to the workflow. */
export function checkApproval(
  policy: ApprovalPolicy,
  approver: string,
  deployment: Pick<DeploymentStatus, 'deploymentId' | 'environment' | 'startedBy'>,
): number {
  const refusal = approvalRefusal(policy, approver, deployment);
  if (refusal) throw new ApprovalRefused(deployment.environment, approver, refusal);
  return policy.required;
}
