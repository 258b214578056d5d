import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { DeploymentRequest } from '../../src/workflows/definitions.js';

/** The request a deployment workflow was started with, as Temporal recorded it: what the API really passed on. */
export async function deploymentRequestOf(client: Client, workflowId: string): Promise<DeploymentRequest> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`workflow ${workflowId} has no recorded input`);
  return defaultPayloadConverter.fromPayload<DeploymentRequest>(payload);
}
