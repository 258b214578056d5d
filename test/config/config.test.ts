import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';

const valid = `
environments:
  prod:
    router: { adminPort: 7400 }
    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
      - { name: scheduler, role: maintenance-page, publicPort: 8090, previewPort: 8091 }
    databases:
      - { name: app, engine: postgres, connectionEnv: PROD_APP_DB }
`;

/** The problems a config produces, as "path: message". */
function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, '/etc/cutover.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('/etc/cutover.yaml');
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('the config was accepted');
}

describe('environment configuration', () => {
  test('a valid file loads with defaults filled in', () => {
    const config = parseConfig(valid, '/etc/cutover.yaml');
    expect(config.environments.prod!.sites.map((s) => s.role)).toEqual(['zdd', 'maintenance-page']);
    expect(config.environments.prod!.host).toBe('local');
    expect(config.environments.prod!.verificationTimeout).toBe('24h');
    expect(config.stateDir).toBe('/etc/.cutover');
    expect(config.temporal.taskQueue).toBe('cutover');
  });

  test('missing field', () => {
    expect(problems(valid.replace('name: web, role: zdd,', 'role: zdd,'))).toEqual(['environments.prod.sites[0].name: is required']);
  });

  test('wrong type', () => {
    expect(problems(valid.replace('publicPort: 8080', 'publicPort: "eighty"'))).toEqual([
      'environments.prod.sites[0].publicPort: must be a port number, got string "eighty"',
    ]);
  });

  test('unknown role', () => {
    expect(problems(valid.replace('role: maintenance-page', 'role: blue-green'))).toEqual([
      'environments.prod.sites[1].role: unknown role "blue-green"; expected one of zdd, maintenance-page',
    ]);
  });

  test('duplicate site name', () => {
    expect(problems(valid.replace('name: scheduler', 'name: web'))).toEqual(['environments.prod.sites[1].name: duplicate site name "web"']);
  });

  test('unknown engine', () => {
    expect(problems(valid.replace('engine: postgres', 'engine: oracle'))).toEqual([
      'environments.prod.databases[0].engine: unknown engine "oracle"; expected one of postgres, sqlserver',
    ]);
  });

  test('unknown field, a port used twice and a connection string pasted in are each named', () => {
    expect(problems(valid.replace('previewPort: 8091', 'previewPort: 8080'))).toEqual([
      'environments.prod.sites[1].previewPort: port 8080 is already used by environments.prod.sites[0].publicPort',
    ]);
    expect(problems(valid.replace('{ adminPort: 7400 }', '{ adminPort: 7400, tls: true }'))).toEqual([
      'environments.prod.router: unknown field(s) tls',
    ]);
    expect(problems(valid.replace('connectionEnv: PROD_APP_DB', 'connectionEnv: "postgres://u:secret@db/app"'))).toEqual([
      'environments.prod.databases[0].connectionEnv: must be an environment variable name (A-Z, 0-9, _)',
    ]);
  });

  test('several mistakes are all reported at once', () => {
    const found = problems(valid.replace('role: maintenance-page', 'role: blue').replace('engine: postgres', 'engine: db2'));
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^environments\.prod\.sites\[1\]\.role: /);
    expect(found[1]).toMatch(/^environments\.prod\.databases\[0\]\.engine: /);
  });

  test('YAML syntax errors and duplicate keys name the line', () => {
    expect(problems('environments:\n  prod: [unclosed\n')[0]).toMatch(/^line \d+, column \d+: /);
    expect(problems('environments: {}\nenvironments: {}\n')[0]).toMatch(/line 2.*unique|Map keys must be unique/i);
  });

  test('an unreadable file names the file and the reason', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'cutover-config-')), 'nope.yaml');
    expect(() => loadConfig(missing)).toThrow(/nope\.yaml.*cannot read the file \(ENOENT\)/s);
    const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'));
    writeFileSync(join(dir, 'cutover.yaml'), valid);
    expect(loadConfig(join(dir, 'cutover.yaml')).stateDir).toBe(join(dir, '.cutover'));
  });
});
