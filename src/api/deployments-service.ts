/** What the API (and later Slack and the CLI) asks of Temporal about deployments and environments. */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ServiceError } from '@temporalio/client';
import { environmentKey, phaseKey } from '../workflows/search-attributes.js';
import { randomBytes } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import {
  completeUpdate,
  environmentStateQuery,
  environmentWorkflowId,
  logQuery,
  refusals,
  requestDeploymentUpdate,
  resetUpdate,
  statusQuery,
  type DeploymentRequest,
  type DeploymentStatus,
  type EnvironmentState,
  type LogLine,
  type ResetRequest,
} from '../workflows/definitions.js';
import { listDeployments, type DeploymentFilter, type DeploymentPage } from './deployments-list.js';
import { ApiError } from './errors.js';

export interface DeploymentsService {
  newDeploymentId(environment: string): string;
  start(request: DeploymentRequest): Promise<{ deploymentId: string; workflowId: string }>;
  status(id: string): Promise<DeploymentStatus>;
  /** The deployment's environment, from its search attribute: answers without a worker. */
  environmentOf(id: string): Promise<string>;
  log(id: string, after?: number): Promise<LogLine[]>;
  complete(id: string, requestedBy?: string): Promise<DeploymentStatus>;
  reset(id: string, request: ResetRequest): Promise<DeploymentStatus>;
  environmentState(environment: string): Promise<EnvironmentState>;
  /** Deployments from Temporal visibility (search attributes), newest first, a page at a time. */
  list(filter: DeploymentFilter): Promise<DeploymentPage>;
  /** Temporal's view of the workflow: running, completed, failed, terminated, ... */
  execution(id: string): Promise<string>;
  temporalUiUrl(workflowId: string): string;
}

/** Above the worker's sticky timeout (3 s), so a query right after a worker restart still lands. */
const QUERY_DEADLINE_MS = 10_000;

export function createDeploymentsService(client: Client, config: LoadedConfig): DeploymentsService {
  const { namespace, taskQueue, uiPort } = config.temporal;
  const uiHost = config.temporal.address.split(':')[0] ?? '127.0.0.1';

  /** A worker answers a query in milliseconds; without one, say so soon rather than after Temporal's default deadline. */
  async function query<T>(id: string, run: () => Promise<T>): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, run);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ApiError(404, 'not-found', `no deployment with id ${id}`);
      if (error instanceof ServiceError) throw await workerUnavailable(id, error);
      throw error;
    }
  }

  /** Queries need a running worker; without one, say so and give the phase Temporal itself recorded. */
  async function workerUnavailable(id: string, error: ServiceError): Promise<Error> {
    try {
      const description = await client.workflow.getHandle(id).describe();
      const phase = description.typedSearchAttributes.get(phaseKey);
      return new ApiError(
        503,
        'worker-unavailable',
        `no Cutover worker answered for deployment ${id} (is the worker running?); its last recorded phase is ${phase ?? 'unknown'} and it is ${description.status.name.toLowerCase()}`,
        { state: phase ?? 'unknown' },
      );
    } catch {
      return error;
    }
  }

  /** Complete and Reset: refused with the current state named when they make no sense now (promise 7). */
  async function act(id: string, action: 'complete' | 'reset', send: () => Promise<DeploymentStatus>): Promise<DeploymentStatus> {
    const handle = client.workflow.getHandle(id);
    const description = await query(id, () => handle.describe());
    if (description.status.name !== 'RUNNING') {
      const status = await handle.query(statusQuery).catch(() => null);
      const state = status?.phase ?? description.status.name.toLowerCase();
      throw new ApiError(409, refusals.wrongState, `${action === 'complete' ? 'Complete' : 'Reset'} is not available: the deployment is ${state}`, { state });
    }
    try {
      return await send();
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === refusals.wrongState) {
        const status = await handle.query(statusQuery).catch(() => null);
        throw new ApiError(409, refusals.wrongState, cause.message, { state: status?.phase ?? 'unknown' });
      }
      if (error instanceof WorkflowUpdateFailedError) throw new ApiError(409, refusals.wrongState, error.cause?.message ?? error.message);
      throw error;
    }
  }

  return {
    newDeploymentId(environment) {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      return `${environment}-${stamp}-${randomBytes(2).toString('hex')}`;
    },

    async start(request) {
      for (let attempt = 1; ; attempt++) {
        // An operation is single-use: a new one per attempt.
        const startOperation = new WithStartWorkflowOperation('environmentWorkflow', {
          workflowId: environmentWorkflowId(request.environment),
          taskQueue,
          args: [request.environment],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        try {
          return await client.workflow.executeUpdateWithStart(requestDeploymentUpdate, { args: [request], startWorkflowOperation: startOperation });
        } catch (error) {
          const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type === refusals.environmentBusy) {
            throw new ApiError(409, refusals.environmentBusy, cause.message, { state: 'busy' });
          }
          // The environment workflow may have been ending just as the request came: a new one starts on retry.
          if (attempt < 3 && /completed|closed|not found/i.test(String(error))) continue;
          throw error;
        }
      }
    },

    environmentOf: (id) =>
      query(id, async () => {
        const description = await client.workflow.getHandle(id).describe();
        const environment = description.typedSearchAttributes.get(environmentKey);
        if (!environment) throw new ApiError(404, 'not-found', `no deployment with id ${id}`);
        return environment;
      }),
    status: (id) => query(id, () => client.workflow.getHandle(id).query(statusQuery)),
    log: (id, after) => query(id, async () => (await client.workflow.getHandle(id).query(logQuery, { after })).lines),
    complete: (id, requestedBy) => act(id, 'complete', () => client.workflow.getHandle(id).executeUpdate(completeUpdate, { args: [{ requestedBy }] })),
    reset: (id, request) => act(id, 'reset', () => client.workflow.getHandle(id).executeUpdate(resetUpdate, { args: [request] })),

    async environmentState(environment) {
      try {
        return await client.workflow.getHandle(environmentWorkflowId(environment)).query(environmentStateQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { environment, running: null, last: null };
        throw error;
      }
    },

    list: (filter) => listDeployments(client, filter),
    execution: (id) => query(id, async () => (await client.workflow.getHandle(id).describe()).status.name.toLowerCase().replace(/_/g, '-')),

    temporalUiUrl: (workflowId) => `http://${uiHost}:${uiPort}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`,
  };
}
