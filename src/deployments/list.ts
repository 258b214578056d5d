/** Lists deployments from Temporal visibility, by Cutover's search attributes, a page at a time. */
import type { Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Mode, Phase } from '../workflows/definitions.js';
import { environmentKey, modeKey, packageVersionKey, phaseKey } from '../workflows/search-attributes.js';
import { InvalidPageToken } from './errors.js';

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
  if (filter.environments) clauses.push(`${environmentKey.name} IN (${filter.environments.map(quote).join(', ')})`);
  if (filter.phase) clauses.push(`${phaseKey.name} = ${quote(filter.phase)}`);
  if (filter.mode) clauses.push(`${modeKey.name} = ${quote(filter.mode)}`);
  if (filter.version) clauses.push(`${packageVersionKey.name} = ${quote(filter.version)}`);
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
  (WorkflowExecutionStatus[status ?? 0] ?? 'WORKFLOW_EXECUTION_STATUS_UNSPECIFIED')
    .replace('WORKFLOW_EXECUTION_STATUS_', '')
    .toLowerCase()
    .replace(/_/g, '-');

function keyword(fields: Record<string, Payload> | null | undefined, name: string): string | null {
  const payload = fields?.[name];
  if (!payload) return null;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : null;
}

/** Temporal's page token, tagged with the query it belongs to: garbage or another query's token is refused, not Temporal's 500. */
const queryTag = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 16);

function wrapToken(query: string, token: Uint8Array): string {
  return Buffer.from(JSON.stringify({ q: queryTag(query), t: Buffer.from(token).toString('base64') })).toString('base64url');
}

function unwrapToken(query: string, pageToken: string): Buffer {
  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageToken();
  }
  const { q, t } = (envelope ?? {}) as { q?: unknown; t?: unknown };
  if (q !== queryTag(query) || typeof t !== 'string' || t.length === 0) throw new InvalidPageToken();
  return Buffer.from(t, 'base64');
}

export async function listDeployments(client: Client, filter: DeploymentFilter): Promise<DeploymentPage> {
  if (filter.environments?.length === 0) return { deployments: [], nextPageToken: null };
  const query = visibilityQuery(filter);
  const nextPageToken = filter.pageToken ? unwrapToken(query, filter.pageToken) : undefined;
  let response;
  try {
    const { namespace } = client.options;
    response = await client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: filter.pageSize, nextPageToken });
  } catch (error) {
    if ((error as { code?: number }).code === 3 && nextPageToken) throw new InvalidPageToken();
    throw error;
  }
  const deployments = response.executions.map((info) => {
    const fields = info.searchAttributes?.indexedFields as Record<string, Payload> | null | undefined;
    return {
      deploymentId: info.execution?.workflowId ?? '',
      environment: keyword(fields, environmentKey.name),
      phase: keyword(fields, phaseKey.name),
      mode: keyword(fields, modeKey.name),
      packageVersion: keyword(fields, packageVersionKey.name),
      execution: executionName(info.status),
      startedAt: isoTime(info.startTime as Timestamp),
      endedAt: isoTime(info.closeTime as Timestamp),
    };
  });
  const next = response.nextPageToken;
  return { deployments, nextPageToken: next && next.length > 0 ? wrapToken(query, next) : null };
}
