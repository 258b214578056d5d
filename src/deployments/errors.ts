/**
 * What the deployments service refuses or cannot do, in the product's words. The API maps them to HTTP
 * (src/api/errors.ts) and the Slack bot to replies (src/slack/inbound.ts); neither looks at messages.
 */
import type { Action } from '../workflows/definitions.js';

/** No deployment with this id, or none the caller may see: both answer the same. */
export class DeploymentNotFound extends Error {
  constructor(readonly deploymentId: string) {
    super(`no deployment with id ${deploymentId}`);
    this.name = 'DeploymentNotFound';
  }
}

/** Complete or Reset makes no sense in the deployment's current state (promise 7). */
export class ActionNotAvailable extends Error {
  constructor(
    readonly action: Action,
    /** The deployment's phase, or how its workflow ended (terminated, ...). */
    readonly state: string,
    message?: string,
  ) {
    super(message ?? `${action === 'complete' ? 'Complete' : 'Reset'} is not available: the deployment is ${state}`);
    this.name = 'ActionNotAvailable';
  }
}

/** The environment already runs a deployment (promise 4). */
export class EnvironmentBusy extends Error {
  constructor(
    readonly environment: string,
    readonly runningDeploymentId: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'EnvironmentBusy';
  }
}

/** Temporal answers, but no Cutover worker does: queries and updates need one. */
export class WorkerUnavailable extends Error {
  constructor(
    readonly taskQueue: string,
    /** The phase Temporal itself recorded (search attribute), when a deployment is concerned. */
    readonly phase: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerUnavailable';
  }
}

/** The Temporal server does not answer: nothing about deployments can be read or changed. */
export class TemporalUnavailable extends Error {
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(`Temporal at ${address} did not answer (${reason}): deployments cannot be read or changed until it is back`);
    this.name = 'TemporalUnavailable';
  }
}

/** A page token that this service did not give for this query. */
export class InvalidPageToken extends Error {
  constructor() {
    super('is not a page token given by this API for this query');
    this.name = 'InvalidPageToken';
  }
}
