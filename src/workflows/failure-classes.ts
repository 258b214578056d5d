/** Maps what really happened in an activity to a failure class of the design brief. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { failureClasses, isFailureClass, type ClassifiedFailure, type FailureClass } from '../failures.js';

/** Marks an error with the site it happened on, so the failure names it. */
export function withSite(error: unknown, site: string): unknown {
  (error as { cutoverSite?: string }).cutoverSite = site;
  return error;
}

export function classify(error: unknown): ClassifiedFailure {
  const site = (error as { cutoverSite?: string } | undefined)?.cutoverSite;
  let cause: unknown = error;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  let failureClass: FailureClass = 'transient';
  let message = error instanceof Error ? error.message : String(error);
  if (cause instanceof ApplicationFailure) {
    message = cause.message;
    if (isFailureClass(cause.type)) failureClass = cause.type;
  } else if (cause instanceof TimeoutFailure) {
    message = `timed out (${cause.timeoutType})`;
  } else if (cause instanceof Error) {
    message = cause.message;
  }
  return { class: failureClass, message, remediation: failureClasses[failureClass].remediation, ...(site ? { site } : {}) };
}
