/** What `cutover` exits with, so a CI pipeline can act on it (documented in docs/api.md). */
export const exitCodes = {
  /** Done; with --wait: the deployment is awaiting verification or completed (or reset, for `reset --wait`). */
  ok: 0,
  /** The deployment failed, or was reset when it was meant to go live. */
  deploymentFailed: 1,
  /** Bad command line, or input the API refused: 400, 404, 413, 415, 422. */
  usage: 2,
  /** Refused in the current state (409): the environment is busy, or Complete/Reset is not available now. */
  refused: 3,
  /** No valid token (401) or not allowed (403). */
  auth: 4,
  /** The API is unreachable or failing (network error, 5xx). */
  unreachable: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** An error the CLI reports in one line and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return exitCodes.auth;
  if (status === 409) return exitCodes.refused;
  if (status >= 500) return exitCodes.unreachable;
  return exitCodes.usage;
}
