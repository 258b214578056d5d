import type { z } from 'zod';
import { formatPath } from '../../config/fields.js';

/** Something a data plane refused or failed; the subclasses say whose fault it is. */
export class DataPlaneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request itself is wrong (bad target, unknown site, too many replicas): retrying it cannot help. Nothing changed. */
export class DataPlaneRefusal extends DataPlaneError {}

export class UnknownSiteError extends DataPlaneRefusal {
  constructor(
    readonly site: string,
    known: readonly string[],
  ) {
    super(`unknown site "${site}"; the data plane serves: ${known.join(', ') || 'no site'}`);
  }
}

export class InvalidRequestError extends DataPlaneRefusal {}

/** The adapter cannot do this (more replicas than it has room for, weights on the built-in router). */
export class UnsupportedError extends DataPlaneRefusal {}

/** The proxy could not be reached or did not apply the change; nothing was acknowledged. Worth retrying. */
export class DataPlaneUnavailableError extends DataPlaneError {}

/** "target.replicas[0].host: must be an IP address": every problem, each naming its field. */
export function invalidTarget(error: z.ZodError, root: string): InvalidRequestError {
  const field = (path: string) => (path === '' ? root : path.startsWith('[') ? `${root}${path}` : `${root}.${path}`);
  return new InvalidRequestError(error.issues.map((issue) => `${field(formatPath(issue.path))}: ${issue.message}`).join('; '));
}
