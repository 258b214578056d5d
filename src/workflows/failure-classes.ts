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
  let remediation: string | undefined;
  if (cause instanceof ApplicationFailure) {
    message = cause.message;
    if (isFailureClass(cause.type)) failureClass = cause.type;
    remediation = ownRemediation(cause.details);
  } else if (cause instanceof TimeoutFailure) {
    message = `timed out (${cause.timeoutType})`;
  } else if (cause instanceof Error) {
    message = cause.message;
  }
  return {
    class: failureClass,
    message,
    remediation: remediation ?? failureClasses[failureClass].remediation,
    ...(site ? { site } : {}),
  };
}

/** A failure the workflow raises itself may say what to do in its own words (details: [{ remediation }]). */
function ownRemediation(details: unknown[] | null | undefined): string | undefined {
  const first = details?.[0] as { remediation?: unknown } | null | undefined;
  return typeof first?.remediation === 'string' ? first.remediation : undefined;
}
