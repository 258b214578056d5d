import type { ValidationTargets } from 'hono';
import type { ZodError } from 'zod';
import { validationError } from './errors.js';

const targetNames: Record<string, string> = { json: 'body', param: 'path', query: 'query', header: 'header' };

type ValidationResult = ({ success: true } | { success: false; error: ZodError }) & { target: keyof ValidationTargets };

/** Validation failures become one 400 that names each field; thrown so onError shapes it. Fits any sub-app's Env. */
export const validationHook = (result: ValidationResult): undefined => {
  if (!result.success) throw validationError(result.error, targetNames[result.target] ?? result.target);
  return undefined;
};
