import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { ApprovalRefused } from '../approvals/policy.js';
import { formatPath } from '../config/fields.js';
import {
  ActionNotAvailable,
  DeploymentNotFound,
  EnvironmentBusy,
  InvalidPageToken,
  TemporalUnavailable,
  WorkerUnavailable,
} from '../deployments/errors.js';
import { refusals } from '../workflows/definitions.js';

/** Every error the API answers has this one shape. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid-request' }),
      message: z.string().openapi({ example: 'body.mode: must be one of readonly, readwrite, maintenance-page' }),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      state: z.string().optional(),
    }),
  })
  .openapi('Error');

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 421 | 422 | 500 | 502 | 503;

export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly extra: { fields?: Array<{ field: string; message: string }>; state?: string } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(code: string, message: string, extra: ApiError['extra'] = {}) {
  return { error: { code, message, ...extra } };
}

const httpCodes: Partial<Record<number, string>> = { 400: 'invalid-request', 413: 'too-large', 415: 'unsupported-media-type' };

/** A part that is down answers again soon: clients may retry after this many seconds. */
const RETRY_AFTER = { 'Retry-After': '5' };

/** The deployments service's domain errors as HTTP answers: the one place they are mapped. */
function fromDomain(error: Error): ApiError | null {
  if (error instanceof DeploymentNotFound) return new ApiError(404, 'not-found', error.message);
  if (error instanceof ActionNotAvailable) return new ApiError(409, refusals.wrongState, error.message, { state: error.state });
  if (error instanceof ApprovalRefused) return new ApiError(403, 'approval-refused', error.message);
  if (error instanceof EnvironmentBusy) return new ApiError(409, refusals.environmentBusy, error.message, { state: 'busy' });
  if (error instanceof WorkerUnavailable) {
    return new ApiError(503, 'worker-unavailable', error.message, error.phase ? { state: error.phase } : {}, RETRY_AFTER);
  }
  if (error instanceof TemporalUnavailable) return new ApiError(503, 'temporal-unavailable', error.message, {}, RETRY_AFTER);
  if (error instanceof InvalidPageToken) {
    const fields = [{ field: 'query.pageToken', message: error.message }];
    return new ApiError(400, 'invalid-request', `query.pageToken: ${error.message}`, { fields });
  }
  return null;
}

/** The one place errors become responses; anything unexpected is a 500 that leaks nothing. */
export function onError(error: Error, c: Context) {
  error = fromDomain(error) ?? error;
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.extra), error.status, error.headers);
  if (error instanceof HTTPException) {
    const status = error.status as ErrorStatus;
    const message = error.status === 400 ? `malformed request: ${error.message}` : error.message;
    return c.json(errorBody(httpCodes[status] ?? 'http-error', message), status);
  }
  // The request (and so its Authorization header) is never logged: only the error.
  console.error('unexpected API error', error instanceof Error ? error.stack : error);
  return c.json(errorBody('internal-error', 'Cutover could not handle this request; the API log has the details.'), 500);
}

/** zod failures name the part of the request and the field: `body.mode: ...`. */
export function validationError(error: ZodError, target: string): ApiError {
  const fields = error.issues.map((issue) => ({
    field: [target, formatPath(issue.path)].filter(Boolean).join('.'),
    message: issue.message,
  }));
  return new ApiError(400, 'invalid-request', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
}
