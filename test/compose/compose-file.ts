import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(import.meta.dirname, '../..');

/** A service of docker-compose.yml, as far as the tests read it. */
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  network_mode?: string;
  restart?: string;
  user?: string;
  profiles?: string[];
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

/** docker-compose.yml as Compose reads it: YAML 1.1 merge keys (<<: *anchor) resolved. */
export function readComposeFile(path = join(ROOT, 'docker-compose.yml')): ComposeFile {
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

/**
 * The Compose Specification's JSON schema (compose-spec/compose-spec, schema/compose-spec.json), as shipped
 * in the npm package dclint (schemas/compose.schema.json).
 */
export function composeSpecSchema(): Record<string, unknown> {
  const packageJson = createRequire(import.meta.url).resolve('dclint/package.json');
  return JSON.parse(readFileSync(join(dirname(packageJson), 'schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;
}

/**
 * A services table of the docs: name → what it is, its healthcheck. By default the demo stack's, in docs/sqlserver.md
 * ("## The docker compose stack"); the production profile's is in docs/operations.md.
 */
export function servicesNamedInDocs(
  doc = 'docs/sqlserver.md',
  heading = 'The docker compose stack',
): Map<string, { what: string; healthcheck: string }> {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith(heading)) ?? '';
  const rows = new Map<string, { what: string; healthcheck: string }>();
  for (const match of section.matchAll(/^\| `([a-z0-9-]+)` \| (.*) \| (.*) \|$/gm))
    rows.set(match[1]!, { what: match[2]!, healthcheck: match[3]! });
  return rows;
}
