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
  type Decision,
  type DeploymentStatus,
} from './definitions.js';
import type { DeploymentRecord } from './deployment-record.js';

/** Set before the workflow's first await, so no early message is lost. */
export function handleMessages(record: DeploymentRecord): void {
  setHandler(statusQuery, () => record.status());
  setHandler(logQuery, (opts) => ({ lines: record.lines.slice(opts?.after ?? 0) }));
  setHandler(completeUpdate, (opts) => decide(record, { action: 'complete', rollbackDatabase: false, requestedBy: opts?.requestedBy }), {
    validator: (_opts) => refuseUnless(record, 'complete'),
  });
  setHandler(resetUpdate, (req) => decide(record, { action: 'reset', rollbackDatabase: req.rollbackDatabase, requestedBy: req.requestedBy, reason: req.reason }), {
    validator: (req) => {
      if (typeof req?.rollbackDatabase !== 'boolean') throw new Error('rollbackDatabase must be true or false');
      refuseUnless(record, 'reset');
    },
  });
  setHandler(completeSignal, (opts) => {
    if (record.actions().includes('complete')) decide(record, { action: 'complete', rollbackDatabase: false, requestedBy: opts?.requestedBy });
    else record.log(`Ignored a Complete signal: ${notAvailable(record, 'complete')}`, 'warn');
  });
  setHandler(resetSignal, (req) => {
    const decision: Decision = { action: 'reset', rollbackDatabase: req?.rollbackDatabase === true, requestedBy: req?.requestedBy, reason: req?.reason };
    if (record.actions().includes('reset')) decide(record, decision);
    else record.log(`Ignored a Reset signal: ${notAvailable(record, 'reset')}`, 'warn');
  });
  setHandler(supersedeSignal, () => {
    record.superseded = true;
  });
}

function notAvailable(record: DeploymentRecord, action: Action): string {
  if (record.decision) return `the deployment is already being ${record.decision.action === 'complete' ? 'completed' : 'reset'} (current state: ${record.phase})`;
  return `${action === 'complete' ? 'Complete' : 'Reset'} is not available while the deployment is ${record.phase}`;
}

/** Complete and Reset are accepted exactly once, and only where they make sense (promise 7). */
function refuseUnless(record: DeploymentRecord, action: Action) {
  if (!record.actions().includes(action)) {
    throw ApplicationFailure.create({ type: refusals.wrongState, message: notAvailable(record, action), nonRetryable: true });
  }
}

function decide(record: DeploymentRecord, decision: Decision): DeploymentStatus {
  record.decision = decision;
  const what = decision.action === 'complete' ? 'Complete' : decision.rollbackDatabase ? 'Reset (roll back code and database)' : 'Reset (roll back code only)';
  record.log(`${what} requested${decision.requestedBy ? ` by ${decision.requestedBy}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`);
  return record.status();
}
