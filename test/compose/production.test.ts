/**
 * The compose profile "production": a Temporal server on PostgreSQL with its UI (official images) and Cutover's
 * processes from the compiled image, reaching Temporal through Temporal's own variables. Docker is not run here: the
 * file is checked against the Compose Specification (compose.test.ts) and, below, for what each service runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DCLinter } from 'dclint';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { durationMs } from '../../src/config/duration.js';
import { resolveTemporalSettings } from '../../src/temporal/connection.js';
import { cutoverSearchAttributes } from '../../src/workflows/search-attributes.js';
import { readComposeFile, ROOT, servicesNamedInDocs, type ComposeService } from './compose-file.js';

const compose = readComposeFile();
const production = Object.fromEntries(Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('production')));
const cutoverProcesses = ['production-platform', 'production-worker', 'production-api'];
const service = (name: string): ComposeService => {
  const found = production[name];
  if (!found) throw new Error(`no service ${name} in the production profile`);
  return found;
};
/** What Compose gives a container when the shell sets nothing: every ${VAR:-default} is its default. */
const withDefaults = (env: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
const script = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('the production profile, as docs/operations.md lists it', () => {
  const named = servicesNamedInDocs('docs/operations.md', 'The compose profile production');

  test('the docs name exactly the services of the profile, and they are all in it', () => {
    expect([...named.keys()].sort()).toEqual(Object.keys(production).sort());
    expect(Object.keys(production)).toEqual(
      expect.arrayContaining([
        'temporal-postgresql',
        'temporal-schema',
        'temporal-server',
        'temporal-namespace',
        'temporal-ui',
        ...cutoverProcesses,
      ]),
    );
  });

  test.each([...servicesNamedInDocs('docs/operations.md', 'The compose profile production')])(
    '%s has the healthcheck the docs give',
    (name, row) => {
      const s = service(name);
      if (row.healthcheck === 'one-shot') {
        expect(s.restart).toBe('no');
        return;
      }
      if (row.healthcheck === 'none') {
        // Nothing may wait for a service that cannot say it is healthy.
        for (const other of Object.values(compose.services)) expect(Object.keys(other.depends_on ?? {})).not.toContain(name);
        return;
      }
      expect(s.healthcheck?.test?.[0]).toBe('CMD');
      for (const arg of s.healthcheck?.test ?? []) if (arg.startsWith('deploy/')) expect(existsSync(join(ROOT, arg)), arg).toBe(true);
    },
  );

  test('naming its services starts nothing of the demo: they depend on services of the profile only, and the demo on none of them', () => {
    for (const [name, s] of Object.entries(production)) {
      for (const dependency of Object.keys(s.depends_on ?? {})) expect(production[dependency], `${name} → ${dependency}`).toBeDefined();
      if (s.network_mode?.startsWith('service:')) expect(production[s.network_mode.slice('service:'.length)], name).toBeDefined();
    }
    for (const [name, s] of Object.entries(compose.services).filter(([, s]) => !s.profiles)) {
      for (const dependency of Object.keys(s.depends_on ?? {})) expect(production[dependency], `${name} → ${dependency}`).toBeUndefined();
    }
  });
});

describe('Temporal on PostgreSQL, from Temporal’s official images', () => {
  test('images are official and pinned; the server and its admin tools are the same release', () => {
    expect(service('temporal-postgresql').image).toMatch(/^postgres:\d+$/);
    const server = service('temporal-server').image!;
    expect(server).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    const release = server.split(':')[1];
    expect(service('temporal-schema').image).toBe(`temporalio/admin-tools:${release}`);
    expect(service('temporal-namespace').image).toBe(`temporalio/admin-tools:${release}`);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  });

  test('the server persists to PostgreSQL, after the one-shot brought both schemas up to date', () => {
    const server = service('temporal-server');
    expect(server.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-postgresql', POSTGRES_USER: 'temporal' });
    expect(server.environment?.POSTGRES_PWD).toBe(service('temporal-postgresql').environment?.POSTGRES_PASSWORD);
    expect(server.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(service('temporal-postgresql').volumes).toContain('temporal-postgresql-data:/var/lib/postgresql/data');
    expect(script('deploy/compose/temporal-databases.sql')).toMatch(/CREATE DATABASE temporal;\s+CREATE DATABASE temporal_visibility;/);
    const schema = script('deploy/compose/temporal-schema.sh');
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(schema).toContain(`--db ${db} setup-schema -v 0.0`);
      expect(schema).toMatch(
        new RegExp(`--db ${db} update-schema -d "\\$schemas/${db === 'temporal' ? 'temporal' : 'visibility'}/versioned"`),
      );
    }
    // The password reaches temporal-sql-tool through SQL_PASSWORD, never its command line.
    expect(schema).not.toMatch(/--pw|--password/);
    expect(service('temporal-schema').environment?.SQL_PASSWORD).toBe(service('temporal-postgresql').environment?.POSTGRES_PASSWORD);
  });

  test('the namespace one-shot registers exactly Cutover’s search attributes', () => {
    const namespace = script('deploy/compose/temporal-namespace.sh');
    const registered = namespace.match(/for name in ([A-Za-z ]+); do/)?.[1]?.split(' ') ?? [];
    expect(registered.sort()).toEqual(cutoverSearchAttributes.map((key) => key.name).sort());
    expect(namespace).toContain('--type Keyword');
    expect(withDefaults(service('temporal-namespace').environment).CUTOVER_NAMESPACE).toBe('cutover');
  });

  test('only the host’s loopback reaches Temporal and its UI, and PostgreSQL is not published at all', () => {
    expect(service('temporal-server').ports).toEqual(['127.0.0.1:7234:7233']);
    expect(service('temporal-ui').ports).toEqual(['127.0.0.1:8234:8080']);
    expect(service('temporal-postgresql').ports).toBeUndefined();
  });

  test('dclint finds no error in docker-compose.yml: no host port is published twice, by the demo and the profile', () => {
    const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
    const [result] = linter.lintFiles([join(ROOT, 'docker-compose.yml')], false);
    const errors = (result?.messages ?? [])
      .filter((m: { type: string }) => m.type === 'error')
      .map((m: { line: number; message: string }) => `${m.line}: ${m.message}`);
    expect(errors).toEqual([]);
  });
});

describe('Cutover’s processes from the compiled image', () => {
  const config = loadConfig(join(ROOT, 'deploy/compose/cutover.production.yaml'));

  test('each runs a compiled entry point of the image, with the production configuration mounted', () => {
    for (const name of cutoverProcesses) {
      const s = service(name);
      expect(s.build, name).toBe('.');
      const files = (s.command ?? []).join(' ').match(/\b(?:dist\/src|deploy)\/[\w/.-]+\.m?js\b/g) ?? [];
      expect(files.length, name).toBeGreaterThan(0);
      for (const file of files)
        expect(existsSync(join(ROOT, file.replace(/^dist\/(src\/.*)\.js$/, '$1.ts'))), `${name}: ${file}`).toBe(true);
      expect(s.volumes).toContain('./deploy/compose/cutover.production.yaml:/etc/cutover/cutover.yaml:ro');
      expect(s.environment?.CUTOVER_CONFIG).toBe('/etc/cutover/cutover.yaml');
    }
  });

  test('Temporal comes from Temporal’s own variables: the configuration names no address, the services name the cluster', () => {
    expect(config.temporal.written).toEqual({ address: false, namespace: false });
    for (const name of cutoverProcesses) {
      const settings = resolveTemporalSettings(config.temporal, { HOME: '/nonexistent', ...withDefaults(service(name).environment) });
      expect(settings.target, name).toMatchObject({
        address: 'temporal-server:7233',
        namespace: 'cutover',
        origins: { address: 'TEMPORAL_ADDRESS' },
      });
    }
  });

  test('each process gets only the database logins its job needs', () => {
    const env = (name: string) => Object.keys(service(name).environment ?? {});
    expect(env('production-platform')).toContain('APP_APPLICATION_DATABASE_URL');
    expect(env('production-platform')).not.toEqual(expect.arrayContaining(['APP_DATABASE_URL']));
    expect(env('production-platform')).not.toEqual(expect.arrayContaining(['APP_MIGRATION_DATABASE_URL']));
    expect(env('production-worker')).toEqual(expect.arrayContaining(['APP_DATABASE_URL', 'APP_MIGRATION_DATABASE_URL']));
    expect(env('production-worker')).not.toContain('APP_APPLICATION_DATABASE_URL');
    expect(env('production-api')).toContain('APP_DATABASE_URL');
    expect(env('production-api')).not.toContain('APP_MIGRATION_DATABASE_URL');
  });

  test('the worker has production settings, and Docker waits longer than its shutdown grace before killing it', () => {
    expect(config.worker).toMatchObject({
      maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentWorkflowTaskExecutions: 10,
      maxCachedWorkflows: 200,
    });
    expect(durationMs(service('production-worker').stop_grace_period!)).toBeGreaterThan(durationMs(config.worker.shutdownGraceTime));
  });

  test('the API listens beyond loopback inside the container, so it requires a token; published on the host’s loopback only', () => {
    expect(config.api.host).toBe('0.0.0.0');
    expect(config.auth?.tokens.length).toBeGreaterThan(0);
    for (const port of service('production-platform').ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });
});
