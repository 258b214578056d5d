/**
 * What the API and the Slack bot ask of Temporal about deployments and environments. Every call answers
 * within a few seconds: the result, or a domain error (./errors.ts) that names what is missing.
 * A call that needs a worker (a query, an update) is always preceded by one that needs only the Temporal
 * server, so a silence is blamed on the right part.
 */
import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { checkApproval, defaultApprovalPolicy } from '../approvals/policy.js';
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
  type Action,
  type CompleteRequest,
  type DeploymentRequest,
  type DeploymentStatus,
  type EnvironmentState,
  type LogLine,
  type ResetRequest,
} from '../workflows/definitions.js';
import { environmentKey, phaseKey } from '../workflows/search-attributes.js';
import { ActionNotAvailable, DeploymentNotFound, EnvironmentBusy, TemporalUnavailable, WorkerUnavailable } from './errors.js';
import { listDeployments, type DeploymentFilter, type DeploymentPage } from './list.js';

/** A deployment as the Temporal server recorded it: answers without a worker. */
export interface DeploymentRef {
  deploymentId: string;
  environment: string;
  /** The phase search attribute, as far as Temporal knows it. */
  phase: string | null;
  /** Temporal's view of the workflow: running, completed, failed, terminated, ... */
  execution: string;
}

export interface DecisionOptions {
  /** Whoever asks more than once (a replayed Slack action) gets the first answer, and nothing happens twice. */
  requestId?: string;
}

export interface DeploymentsService {
  start(request: DeploymentRequest): Promise<{ deploymentId: string; workflowId: string }>;
  /** Where the deployment runs and how far it got, from Temporal alone: callers authorize on it before asking more. */
  find(id: string): Promise<DeploymentRef>;
  status(deployment: DeploymentRef): Promise<DeploymentStatus>;
  log(deployment: DeploymentRef, after?: number): Promise<LogLine[]>;
  complete(deployment: DeploymentRef, request: CompleteRequest, options?: DecisionOptions): Promise<DeploymentStatus>;
  reset(deployment: DeploymentRef, request: ResetRequest, options?: DecisionOptions): Promise<DeploymentStatus>;
  environmentState(environment: string): Promise<EnvironmentState>;
  /** Deployments from Temporal visibility (search attributes), newest first, a page at a time. */
  list(filter: DeploymentFilter): Promise<DeploymentPage>;
  temporalUiUrl(workflowId: string): string;
}

export interface DeploymentsServiceOptions {
  /** How long a call that needs only the Temporal server may take. */
  temporalAnswerMs?: number;
  /** How long a worker may take to answer; above its sticky timeout (3 s), so a query right after a worker restart lands. */
  workerAnswerMs?: number;
}

/** gRPC status codes the answers below depend on. */
const grpcCodes = { cancelled: 1, deadlineExceeded: 4, notFound: 5, unavailable: 14 } as const;
/** temporal.api.enums.v1.TaskQueueType */
const WORKFLOW_TASK_QUEUE = 1;

function grpcCode(error: unknown): number | undefined {
  if (isGrpcServiceError(error)) return error.code;
  const cause = (error as { cause?: unknown } | null)?.cause;
  const wrapped = error instanceof ServiceError || error instanceof WorkflowUpdateRPCTimeoutOrCancelledError;
  return wrapped && isGrpcServiceError(cause) ? cause.code : undefined;
}

/** Nobody answered in time: the deadline passed, or the server could not be reached. */
function unanswered(error: unknown): boolean {
  const code = grpcCode(error);
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  return code === grpcCodes.deadlineExceeded || code === grpcCodes.unavailable || code === grpcCodes.cancelled;
}

/** The workflow is closed or was never there: typed by the SDK, or the raw NOT_FOUND of a multi-operation. */
const closedOrMissing = (error: unknown) => error instanceof WorkflowNotFoundError || grpcCode(error) === grpcCodes.notFound;

const executionName = (description: WorkflowExecutionDescription) => description.status.name.toLowerCase().replace(/_/g, '-');

/** What an ended deployment is: its last phase when its workflow completed, else how the workflow ended. */
const endedState = (deployment: DeploymentRef) =>
  deployment.execution === 'completed' ? (deployment.phase ?? 'completed') : deployment.execution;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function createDeploymentsService(
  client: Client,
  config: LoadedConfig,
  options: DeploymentsServiceOptions = {},
): DeploymentsService {
  const { namespace, taskQueue, uiPort, address } = config.temporal;
  const uiHost = address.split(':')[0] ?? '127.0.0.1';
  const temporalAnswerMs = options.temporalAnswerMs ?? 3000;
  const workerAnswerMs = options.workerAnswerMs ?? 4000;

  /** A call to the Temporal server alone: its silence is Temporal's. */
  async function fromTemporal<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await client.withDeadline(Date.now() + temporalAnswerMs, run);
    } catch (error) {
      if (!unanswered(error)) throw error;
      const code = grpcCode(error);
      const reason = code === grpcCodes.deadlineExceeded ? `no answer within ${seconds(temporalAnswerMs)}` : `gRPC status ${code}`;
      throw new TemporalUnavailable(address, reason);
    }
  }

  /** A query or update, right after Temporal itself answered: its silence is the worker's. */
  async function fromWorker<T>(
    run: () => Promise<T>,
    silence: () => WorkerUnavailable,
    deadline = Date.now() + workerAnswerMs,
  ): Promise<T> {
    try {
      return await client.withDeadline(deadline, run);
    } catch (error) {
      if (unanswered(error)) throw silence();
      throw error;
    }
  }

  const noWorker = (about: string) =>
    `no Cutover worker answered ${about} within ${seconds(workerAnswerMs)} ` +
    `(is the worker running? it polls Temporal task queue ${taskQueue})`;
  const silentFor = (deployment: DeploymentRef, afterwards = '') =>
    new WorkerUnavailable(
      taskQueue,
      deployment.phase,
      `${noWorker(`for deployment ${deployment.deploymentId}`)}; ` +
        `Temporal last recorded it in phase ${deployment.phase ?? 'unknown'}, ${deployment.execution}${afterwards}`,
    );

  async function find(id: string): Promise<DeploymentRef> {
    let description: WorkflowExecutionDescription;
    try {
      description = await fromTemporal(() => client.workflow.getHandle(id).describe());
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new DeploymentNotFound(id);
      throw error;
    }
    const environment = description.typedSearchAttributes.get(environmentKey);
    // Another kind of workflow (an environment's, say) is no deployment.
    if (description.type !== 'deploymentWorkflow' || !environment) throw new DeploymentNotFound(id);
    const phase = description.typedSearchAttributes.get(phaseKey) ?? null;
    return { deploymentId: id, environment, phase, execution: executionName(description) };
  }

  async function query<T>(deployment: DeploymentRef, run: (handle: WorkflowHandle) => Promise<T>): Promise<T> {
    try {
      return await fromWorker(
        () => run(client.workflow.getHandle(deployment.deploymentId)),
        () => silentFor(deployment),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new DeploymentNotFound(deployment.deploymentId);
      throw error;
    }
  }

  /** Complete and Reset: refused with the current state named when they make no sense now (promise 7). */
  async function decide(
    deployment: DeploymentRef,
    action: Action,
    send: (handle: WorkflowHandle, updateId: string | undefined, current: DeploymentStatus | null) => Promise<DeploymentStatus>,
    options: DecisionOptions,
  ): Promise<DeploymentStatus> {
    const handle = client.workflow.getHandle(deployment.deploymentId);
    const deadline = Date.now() + workerAnswerMs;
    // Only a worker that answers now gets the update: a silent one would carry it out later, after the caller heard no.
    // An ended workflow needs none: Temporal answers a known update id with its outcome, and refuses a new one.
    const current =
      deployment.execution === 'running'
        ? await fromWorker(
            () => handle.query(statusQuery),
            () => silentFor(deployment),
            deadline,
          )
        : null;
    try {
      const sent = `; the ${action === 'complete' ? 'Complete' : 'Reset'} was sent and may still be carried out once a worker takes it`;
      return await fromWorker(
        () => send(handle, options.requestId, current),
        () => silentFor(deployment, sent),
        deadline,
      );
    } catch (error) {
      if (closedOrMissing(error)) throw new ActionNotAvailable(action, endedState(await find(deployment.deploymentId)));
      if (!(error instanceof WorkflowUpdateFailedError)) throw error;
      const state = current?.phase ?? deployment.phase ?? 'unknown';
      const refused = error.cause instanceof ApplicationFailure && error.cause.type === refusals.wrongState;
      const refusal = refused ? error.cause!.message : undefined;
      throw new ActionNotAvailable(action, state, refusal ?? error.cause?.message ?? error.message);
    }
  }

  /** Nothing to ask before a start when no environment workflow runs: at least a worker must poll. */
  async function assertWorkerPolls(): Promise<void> {
    const answer = await fromTemporal(() =>
      client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: WORKFLOW_TASK_QUEUE }),
    );
    if ((answer.pollers ?? []).length === 0) {
      throw new WorkerUnavailable(taskQueue, null, `no Cutover worker polls Temporal task queue ${taskQueue} (is the worker running?)`);
    }
  }

  /** The environment workflow's description; null when it never ran. */
  async function describeEnvironment(environment: string): Promise<WorkflowExecutionDescription | null> {
    try {
      return await fromTemporal(() => client.workflow.getHandle(environmentWorkflowId(environment)).describe());
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
  }

  async function environmentState(environment: string, description: WorkflowExecutionDescription | null): Promise<EnvironmentState> {
    if (!description) return { environment, running: null, last: null };
    return fromWorker(
      () => client.workflow.getHandle(environmentWorkflowId(environment)).query(environmentStateQuery),
      () => new WorkerUnavailable(taskQueue, null, `${noWorker(`for environment ${environment}`)}: its running deployment cannot be read`),
    );
  }

  return {
    async start(request) {
      const environment = await describeEnvironment(request.environment);
      // A running environment workflow that answers proves a worker takes the request now; else, one must at least poll.
      if (environment?.status.name === 'RUNNING') await environmentState(request.environment, environment);
      else await assertWorkerPolls();
      const pending = `; Temporal holds the request, and deployment ${request.deploymentId} may still start once a worker takes it`;
      for (let attempt = 1; ; attempt++) {
        // An operation is single-use: a new one per attempt.
        const startWorkflowOperation = new WithStartWorkflowOperation('environmentWorkflow', {
          workflowId: environmentWorkflowId(request.environment),
          taskQueue,
          args: [request.environment],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        try {
          return await fromWorker(
            () => client.workflow.executeUpdateWithStart(requestDeploymentUpdate, { args: [request], startWorkflowOperation }),
            () => new WorkerUnavailable(taskQueue, null, `${noWorker(`for environment ${request.environment}`)}${pending}`),
          );
        } catch (error) {
          const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type === refusals.environmentBusy) {
            const running = cause.details?.[0];
            throw new EnvironmentBusy(request.environment, typeof running === 'string' ? running : null, cause.message);
          }
          // The environment workflow ended (idle) just as the request came: a new one starts on retry.
          if (attempt < 3 && closedOrMissing(error)) continue;
          throw error;
        }
      }
    },

    find,
    status: (deployment) => query(deployment, (handle) => handle.query(statusQuery)),
    log: (deployment, after) => query(deployment, async (handle) => (await handle.query(logQuery, { after })).lines),
    complete: (deployment, request, options = {}) =>
      decide(
        deployment,
        'complete',
        async (handle, updateId, current) => {
          const policy = config.environments[deployment.environment]?.approval ?? defaultApprovalPolicy;
          // An ended deployment has nothing to approve: Temporal refuses the update (or answers a replayed one) itself.
          const approvalsRequired = current ? checkApproval(policy, request.approver ?? 'anonymous', current) : policy.required;
          return handle.executeUpdate(completeUpdate, { args: [{ ...request, approvalsRequired }], updateId });
        },
        options,
      ),
    reset: (deployment, request, options = {}) =>
      decide(deployment, 'reset', (handle, updateId) => handle.executeUpdate(resetUpdate, { args: [request], updateId }), options),

    async environmentState(environment) {
      return environmentState(environment, await describeEnvironment(environment));
    },

    list: (filter) => fromTemporal(() => listDeployments(client, filter)),

    temporalUiUrl: (workflowId) =>
      `http://${uiHost}:${uiPort}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`,
  };
}
