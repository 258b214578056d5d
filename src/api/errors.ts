import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { formatPath } from '../config/schema.js';

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

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 502 | 503;

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

/** The one place errors become responses; anything unexpected is a 500 that leaks nothing. */
export function onError(error: Error, c: Context) {
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
  const fields = error.issues.map((issue) => ({ field: [target, formatPath(issue.path)].filter(Boolean).join('.'), message: issue.message }));
  return new ApiError(400, 'invalid-request', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
}
