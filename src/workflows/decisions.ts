/** The deployment's handlers: status and log queries, Complete and Reset (updates and signals), supersede. */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  completeSignal,
  completeUpdate,
  logQuery,
  refusals,
  resetSignal,
  resetUpdate,
  statusQuery,
  supersedeSignal,
  type Action,
  type CompleteRequest,
  type Decision,
  type DeploymentStatus,
} from './definitions.js';
import type { DeploymentRecord } from './deployment-record.js';

/** Set before the workflow's first await, so no early message is lost. */
export function handleMessages(record: DeploymentRecord): void {
  setHandler(statusQuery, () => record.status());
  setHandler(logQuery, (opts) => ({ lines: record.lines.slice(opts?.after ?? 0) }));
  setHandler(completeUpdate, (opts) => approve(record, opts), {
    validator: (opts) => {
      refuseUnless(record, 'complete');
      const refusal = approvalRefusal(record, opts);
      if (refusal) throw ApplicationFailure.create({ type: refusals.alreadyApproved, message: refusal, nonRetryable: true });
    },
  });
  setHandler(
    resetUpdate,
    (req) => decide(record, { action: 'reset', rollbackDatabase: req.rollbackDatabase, requestedBy: req.requestedBy, reason: req.reason }),
    {
      validator: (req) => {
        if (typeof req?.rollbackDatabase !== 'boolean') throw new Error('rollbackDatabase must be true or false');
        refuseUnless(record, 'reset');
        if (req.rollbackDatabase && record.request.mode === 'expand-contract') throw new Error(NO_DATABASE_ROLLBACK);
        if (req.rollbackDatabase && record.rolling) throw new Error(NO_ROLLING_DATABASE_ROLLBACK);
      },
    },
  );
  setHandler(completeSignal, (opts) => {
    const refusal = record.actions().includes('complete') ? approvalRefusal(record, opts) : notAvailable(record, 'complete');
    if (refusal) record.log(`Ignored a Complete signal: ${refusal}`, 'warn');
    else approve(record, opts);
  });
  setHandler(resetSignal, (req) => {
    const decision: Decision = {
      action: 'reset',
      // Expand/contract mode takes no restore point: a Reset there is always code only.
      rollbackDatabase: req?.rollbackDatabase === true && record.request.mode !== 'expand-contract' && !record.rolling,
      requestedBy: req?.requestedBy,
      reason: req?.reason,
    };
    if (record.actions().includes('reset')) decide(record, decision);
    else record.log(`Ignored a Reset signal: ${notAvailable(record, 'reset')}`, 'warn');
  });
  setHandler(supersedeSignal, () => {
    record.superseded = true;
  });
}

const NO_DATABASE_ROLLBACK =
  'rollbackDatabase: expand-contract mode takes no restore point (every write is kept): Reset rolls back the code only, with rollbackDatabase false';

const NO_ROLLING_DATABASE_ROLLBACK =
  'rollbackDatabase: a rolling deployment takes no restore point (every write is kept): ' +
  'Reset rolls back the code only, host by host, with rollbackDatabase false';

function notAvailable(record: DeploymentRecord, action: Action): string {
  if (record.decision)
    return `the deployment is already being ${record.decision.action === 'complete' ? 'completed' : 'reset'} (current state: ${record.phase})`;
  return `${action === 'complete' ? 'Complete' : 'Reset'} is not available while the deployment is ${record.phase}`;
}

/** Complete and Reset are accepted exactly once, and only where they make sense (promise 7). */
function refuseUnless(record: DeploymentRecord, action: Action) {
  if (!record.actions().includes(action)) {
    throw ApplicationFailure.create({ type: refusals.wrongState, message: notAvailable(record, action), nonRetryable: true });
  }
}

const requiredOf = (opts: CompleteRequest | undefined) => Math.max(1, Math.floor(Number(opts?.approvalsRequired ?? 1)) || 1);

/** With more than one approval required, each approver counts once, and only a named one counts. */
function approvalRefusal(record: DeploymentRecord, opts: CompleteRequest | undefined): string | null {
  const required = requiredOf(opts);
  if (required === 1) return null;
  if (!opts?.approver) return `Complete names no approver, and ${required} distinct approvers must Complete this deployment`;
  if (record.approvals.some((a) => a.by === opts.approver)) {
    const count = `${record.approvals.length} of ${required} approvals`;
    return `${opts.approver} already approved this deployment (${count}): another approver must Complete it`;
  }
  return null;
}

/** Records the approver's Complete; decides once the required number of distinct approvers said so. */
function approve(record: DeploymentRecord, opts: CompleteRequest | undefined): DeploymentStatus {
  const required = requiredOf(opts);
  record.approvalsRequired = required;
  if (opts?.approver) record.approvals.push({ by: opts.approver, at: record.at() });
  // One approval needed: any Complete decides, named or not (the Temporal CLI, histories from before approvals).
  if (required > 1 && record.approvals.length < required) {
    const who = opts?.requestedBy ?? opts?.approver;
    const missing = required - record.approvals.length;
    record.log(`Approval ${record.approvals.length} of ${required} for Complete by ${who}; waiting for ${missing} more`);
    return record.status();
  }
  return decide(record, { action: 'complete', rollbackDatabase: false, requestedBy: opts?.requestedBy });
}

/** Every decision goes through here, a person's or the analysis' own Reset, so each reads the same in the log. */
export function decide(record: DeploymentRecord, decision: Decision): DeploymentStatus {
  record.decision = { ...decision, at: record.at() };
  const what =
    decision.action === 'complete'
      ? 'Complete'
      : decision.rollbackDatabase
        ? 'Reset (roll back code and database)'
        : 'Reset (roll back code only)';
  record.log(
    `${what} requested${decision.requestedBy ? ` by ${decision.requestedBy}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`,
  );
  return record.status();
}
