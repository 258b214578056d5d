/**
 * Failure classes of the design brief. Pure data: imported by workflows, activities and the API alike.
 * Activities raise them as non-retryable ApplicationFailures whose `type` is the class.
 */
export const failureClasses = {
  'readonly-not-supported': {
    title: 'ReadOnly mode not supported',
    remediation:
      'The application writes during startup or warmup against a read-only database. ' +
      'Support read-only mode in the application, or deploy in readwrite or maintenance-page mode.',
  },
  'warmup-failed': {
    title: 'Site warmup failed',
    remediation: 'No HTTP 200 on the warmup path before the timeout. Check the startup logs and make the warmup path answer 200.',
  },
  'startup-error': {
    title: 'Application startup error',
    remediation: 'The application process exited or crashed. Fix the code and deploy another package.',
  },
  'ip-forbidden': {
    title: 'Warmup request forbidden (403)',
    remediation: 'The application answered 403 to the warmup request. Allow warmup requests from the platform.',
  },
  'migration-failed': {
    title: 'Database migration failed',
    remediation:
      'A migration script failed, or the package lacks migrations the database already applied (the message names them). ' +
      'Fix the migration or the package and deploy again.',
  },
  transient: {
    title: 'Transient infrastructure error',
    remediation:
      'Retried automatically with backoff and the retries ran out. ' +
      'Check that the databases and hosts are reachable, then start the deployment again.',
  },
  'invalid-input': {
    title: 'Invalid input',
    remediation: 'Fix the request, package or configuration named in the message and start the deployment again.',
  },
} as const;

export type FailureClass = keyof typeof failureClasses;

export function isFailureClass(value: unknown): value is FailureClass {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(failureClasses, value);
}

export interface ClassifiedFailure {
  class: FailureClass;
  message: string;
  remediation: string;
  site?: string;
}
