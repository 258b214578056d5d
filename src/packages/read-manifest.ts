import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { PackageError } from './errors.js';
import { MANIFEST_FILE, manifestSchema, type PackageManifest } from './manifest.js';

const MAX_MANIFEST_BYTES = 64 * 1024;

export interface ParsedManifest {
  manifest: PackageManifest;
  /** The manifest names its migrations folder itself (then the folder must exist). */
  migrationsDeclared: boolean;
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** One zod issue as "field: what is wrong", in words an operator fixing the file can act on. */
function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const field = fieldName(issue.path);
  const prefix = field === '' ? '' : `${field}: `;
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(manifestSchema.shape).join(', ');
    return `${prefix}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed})`;
  }
  if (issue.code === 'invalid_type') {
    const value = valueAt(data, issue.path);
    const expected = issue.expected === 'object' || issue.expected === 'array' ? `an ${issue.expected}` : `a ${issue.expected}`;
    if (value === undefined && issue.path.length > 0) return `${prefix}is required (${expected})`;
    return `${prefix}must be ${expected}, got ${describeType(value)}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) return `${prefix}must not be empty`;
  return `${prefix}${issue.message}`;
}

/** Parses and validates `cutover-package.json`; every error starts with the file name and names the field. */
export function parseManifest(text: string): ParsedManifest {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new PackageError(
      'invalid-manifest',
      `${MANIFEST_FILE}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const result = manifestSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(issue, data));
    throw new PackageError('invalid-manifest', `${MANIFEST_FILE}: ${problems.join('; ')}`);
  }
  const migrationsDeclared = typeof data === 'object' && data !== null && 'migrations' in data;
  return { manifest: result.data, migrationsDeclared };
}

/** Reads the manifest at the root of a package folder. */
export async function readManifest(root: string): Promise<ParsedManifest> {
  const file = join(root, MANIFEST_FILE);
  const stats = await stat(file).catch(() => undefined);
  if (!stats?.isFile()) {
    throw new PackageError('invalid-manifest', `${MANIFEST_FILE}: not found at the root of the package`);
  }
  if (stats.size > MAX_MANIFEST_BYTES) {
    throw new PackageError('invalid-manifest', `${MANIFEST_FILE}: larger than ${MAX_MANIFEST_BYTES / 1024} KB`);
  }
  return parseManifest(await readFile(file, 'utf8'));
}
