/** Shared pieces of the route declarations: response helpers, the error responses, the security scheme. */
import { z } from '@hono/zod-openapi';
import { errorSchema } from './errors.js';

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const error = (description: string) => json(errorSchema, description);

/** Every error response a route may declare; each route picks the ones it can answer. */
export const errors = {
  400: error('Invalid request: the message names the field'),
  401: {
    ...error('No valid bearer token (the response carries WWW-Authenticate: Bearer)'),
    headers: z.object({ 'WWW-Authenticate': z.string().openapi({ example: 'Bearer realm="cutover"' }) }),
  },
  403: error("The token's roles or environments do not allow this"),
  404: error('No such deployment or environment'),
  409: error('Not possible in the current state: the message names it'),
  413: error('The upload is larger than the API accepts'),
  415: error('The request body has the wrong content type'),
  422: error('The package is unusable: the message says why'),
  503: error('A part Cutover needs is down: worker-unavailable (state: the phase Temporal last recorded) or temporal-unavailable'),
} as const;

/** The routes under /v1 need a bearer token when auth is configured. */
export const BEARER = 'bearerAuth';
export const secured = [{ [BEARER]: [] }];

/** The role a route needs, as a line of its description in the document. */
export const needs = (roles: string) => `Needs a token with ${roles}.`;

/** The error responses a route can answer, by status. */
export function failures<K extends keyof typeof errors>(...statuses: K[]): Pick<typeof errors, K> {
  return Object.fromEntries(statuses.map((s) => [s, errors[s]])) as Pick<typeof errors, K>;
}
