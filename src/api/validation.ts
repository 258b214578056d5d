import type { Hook } from '@hono/zod-openapi';
import { validationError } from './errors.js';

const targetNames: Record<string, string> = { json: 'body', param: 'path', query: 'query', header: 'header' };

/** Validation failures become one 400 that names each field; thrown so onError shapes it. */
export const validationHook: Hook<unknown, never, string, unknown> = (result) => {
  if (!result.success) throw validationError(result.error, targetNames[result.target] ?? result.target);
};
