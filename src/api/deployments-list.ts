/** Lists deployments from Temporal visibility, by Cutover's search attributes, a page at a time. */
import type { Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Mode, Phase } from '../workflows/definitions.js';
import { ApiError } from './errors.js';

export interface DeploymentFilter {
  /** Only these environments; every one when undefined. */
  environments?: readonly string[];
  phase?: Phase;
  mode?: Mode;
  version?: string;
  pageSize: number;
  pageToken?: string;
}

export interface DeploymentSummary {
  deploymentId: string;
  environment: string | null;
  phase: string | null;
  mode: string | null;
  packageVersion: string | null;
  /** Temporal's view of the workflow: running, completed, failed, terminated, ... */
  execution: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface DeploymentPage {
  deployments: DeploymentSummary[];
  nextPageToken: string | null;
}

const quote = (value: string) => `"${value}"`;

/** Every value is validated upstream to a safe alphabet (no quotes), so interpolation cannot change the query. */
export function visibilityQuery(filter: Omit<DeploymentFilter, 'pageSize' | 'pageToken'>): string {
  const clauses = ['WorkflowType = "deploymentWorkflow"'];
  if (filter.environments) clauses.push(`CutoverEnvironment IN (${filter.environments.map(quote).join(', ')})`);
  if (filter.phase) clauses.push(`CutoverPhase = ${quote(filter.phase)}`);
  if (filter.mode) clauses.push(`CutoverMode = ${quote(filter.mode)}`);
  if (filter.version) clauses.push(`CutoverPackageVersion = ${quote(filter.version)}`);
  return clauses.join(' AND ');
}

type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;
const isoTime = (ts: Timestamp): string | null => {
  if (!ts?.seconds && !ts?.nanos) return null;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : (ts.seconds?.toNumber() ?? 0);
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
};

const { WorkflowExecutionStatus } = proto.temporal.api.enums.v1;
const executionName = (status: number | null | undefined) =>
  (WorkflowExecutionStatus[status ?? 0] ?? 'WORKFLOW_EXECUTION_STATUS_UNSPECIFIED').replace('WORKFLOW_EXECUTION_STATUS_', '').toLowerCase().replace(/_/g, '-');

function keyword(fields: Record<string, Payload> | null | undefined, name: string): string | null {
  const payload = fields?.[name];
  if (!payload) return null;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : null;
}

const invalidToken = () =>
  new ApiError(400, 'invalid-request', 'query.pageToken: is not a page token given by this API for this query', {
    fields: [{ field: 'query.pageToken', message: 'is not a page token given by this API for this query' }],
  });

/** Temporal's page token, wrapped with a tag of the query it belongs to: garbage or another query's token is a 400, not Temporal's 500. */
const queryTag = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 16);

function wrapToken(query: string, token: Uint8Array): string {
  return Buffer.from(JSON.stringify({ q: queryTag(query), t: Buffer.from(token).toString('base64') })).toString('base64url');
}

function unwrapToken(query: string, pageToken: string): Buffer {
  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  const { q, t } = (envelope ?? {}) as { q?: unknown; t?: unknown };
  if (q !== queryTag(query) || typeof t !== 'string' || t.length === 0) throw invalidToken();
  return Buffer.from(t, 'base64');
}

export async function listDeployments(client: Client, filter: DeploymentFilter): Promise<DeploymentPage> {
  if (filter.environments?.length === 0) return { deployments: [], nextPageToken: null };
  const query = visibilityQuery(filter);
  const nextPageToken = filter.pageToken ? unwrapToken(query, filter.pageToken) : undefined;
  let response;
  try {
    response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: filter.pageSize, nextPageToken });
  } catch (error) {
    if ((error as { code?: number }).code === 3 && nextPageToken) throw invalidToken();
    throw error;
  }
  const deployments = response.executions.map((info) => {
    const fields = info.searchAttributes?.indexedFields as Record<string, Payload> | null | undefined;
    return {
      deploymentId: info.execution?.workflowId ?? '',
      environment: keyword(fields, 'CutoverEnvironment'),
      phase: keyword(fields, 'CutoverPhase'),
      mode: keyword(fields, 'CutoverMode'),
      packageVersion: keyword(fields, 'CutoverPackageVersion'),
      execution: executionName(info.status),
      startedAt: isoTime(info.startTime as Timestamp),
      endedAt: isoTime(info.closeTime as Timestamp),
    };
  });
  const next = response.nextPageToken;
  return { deployments, nextPageToken: next && next.length > 0 ? wrapToken(query, next) : null };
}
