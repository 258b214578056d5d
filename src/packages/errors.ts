/** Why a package was refused; the API maps `unknown-package` to 404 and the rest to 422. */
export type PackageErrorCode =
  | 'invalid-source'
  | 'invalid-manifest'
  | 'invalid-migrations'
  | 'unsafe-entry'
  | 'too-large'
  | 'too-deep'
  | 'too-slow'
  | 'invalid-id'
  | 'unknown-package';

/** Bad package input (promise 8): the message names what is wrong, and nothing was stored. */
export class PackageError extends Error {
  readonly failureClass = 'invalid-input' as const;

  constructor(
    readonly code: PackageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PackageError';
  }
}
