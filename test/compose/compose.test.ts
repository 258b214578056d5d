import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveDatabaseHandle } from '../../src/engines/index.js';
import { splitBatches } from '../../src/engines/sqlserver/batches.js';
import { composeSpecSchema, readComposeFile, ROOT, servicesNamedInDocs, type ComposeFile } from './compose-file.js';

const compose = readComposeFile();

function validator() {
  // The schema is draft-07, spelt https://…/draft-07/schema; Ajv knows draft-07 by its canonical http://…# id.
  const schema = { ...composeSpecSchema(), $schema: 'http://json-schema.org/draft-07/schema#' };
  // strict: false, because the specification uses keywords draft-07 does not define (e.g. "deprecated").
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

describe('docker-compose.yml against the Compose Specification', () => {
  test('the schema is the Compose Specification’s own', () => {
    expect(composeSpecSchema()).toMatchObject({ $id: 'compose_spec.json', title: 'Compose Specification' });
  });

  test('docker-compose.yml is valid', () => {
    const validate = validator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  test('the validator is not a rubber stamp: a misspelt key and a wrong healthcheck are refused', () => {
    const validate = validator();
    const broken = structuredClone(compose) as ComposeFile & { services: Record<string, Record<string, unknown>> };
    broken.services.sqlserver!.healthchek = broken.services.sqlserver!.healthcheck;
    broken.services.temporal!.healthcheck = { test: 5 } as unknown as Record<string, unknown>;
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
    expect(paths.join('\n')).toMatch(/\/services\/sqlserver must NOT have additional properties/);
    expect(paths.join('\n')).toMatch(/\/services\/temporal\/healthcheck\/test/);
  });
});

describe('the services the docs name', () => {
  const named = servicesNamedInDocs();

  test('the docs name the stack’s services, and the stack has no service the docs do not name', () => {
    expect([...named.keys()]).toEqual([
      'temporal',
      'sqlserver',
      'sqlserver-init',
      'cutover-platform',
      'cutover-worker',
      'cutover-api',
      'demo',
    ]);
    // The demo stack is every service outside a profile; the production profile has a table of its own (production.test.ts).
    const demo = Object.entries(compose.services)
      .filter(([, service]) => !service.profiles)
      .map(([name]) => name);
    expect(demo.sort()).toEqual([...named.keys()].sort());
  });

  test.each([...servicesNamedInDocs()])('%s exists with its healthcheck (or is a one-shot that others wait for)', (name, row) => {
    const service = compose.services[name];
    expect(service, `service ${name}`).toBeDefined();
    if (row.healthcheck === 'one-shot') {
      expect(service?.restart).toBe('no');
      expect(service?.healthcheck).toBeUndefined();
      return;
    }
    expect(service?.healthcheck?.disable).not.toBe(true);
    expect(service?.healthcheck?.test?.[0]).toBe('CMD');
    // Everything a healthcheck runs that lives in this repository exists.
    for (const arg of service?.healthcheck?.test ?? []) if (arg.startsWith('deploy/')) expect(existsSync(join(ROOT, arg)), arg).toBe(true);
  });

  test('services that need another wait for it to be healthy, or for a one-shot to have completed', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = compose.services[dependency];
        expect(target, `${name} depends on ${dependency}`).toBeDefined();
        const expected =
          target?.restart === 'no' ? 'service_completed_successfully' : target?.healthcheck ? 'service_healthy' : 'service_started';
        // network_mode: service:x only needs x started; everything else waits for health.
        if (service.network_mode === `service:${dependency}` && condition === 'service_started') continue;
        expect(condition, `${name} → ${dependency}`).toBe(expected);
      }
    }
  });
});

describe('what each service runs', () => {
  test('Temporal: the dev server on 0.0.0.0 with a persistent SQLite file, UI on 8233, Cutover’s search attributes', () => {
    const temporal = compose.services.temporal!;
    expect(temporal.image).toMatch(/^temporalio\/temporal(:|$)/);
    const args = temporal.command!.join(' ');
    expect(args).toMatch(/^server start-dev /);
    expect(args).toContain('--ip 0.0.0.0');
    expect(args).toContain('--ui-port 8233');
    expect(args).toContain('--db-filename /data/temporal.sqlite');
    expect(temporal.volumes).toContain('temporal-data:/data');
    expect(temporal.ports).toEqual(expect.arrayContaining(['127.0.0.1:7233:7233', '127.0.0.1:8233:8233']));
    for (const attribute of ['CutoverEnvironment', 'CutoverPhase', 'CutoverPackageVersion', 'CutoverMode'])
      expect(args).toContain(`--search-attribute ${attribute}=Keyword`);
  });

  test('SQL Server 2022 with the EULA accepted, its data on a volume, and a healthcheck by sqlcmd -C', () => {
    const sqlserver = compose.services.sqlserver!;
    expect(sqlserver.image).toBe('mcr.microsoft.com/mssql/server:2022-latest');
    expect(sqlserver.environment).toMatchObject({ ACCEPT_EULA: 'Y' });
    expect(sqlserver.environment?.MSSQL_SA_PASSWORD).toBeTruthy();
    expect(sqlserver.volumes).toContain('sqlserver-data:/var/opt/mssql');
    expect(sqlserver.healthcheck?.test?.slice(0, 3)).toEqual(['CMD', '/opt/mssql-tools18/bin/sqlcmd', '-C']);
  });

  test('sqlserver-init runs its script with sqlcmd -C; the script creates the database and a least-privilege login', () => {
    const init = compose.services['sqlserver-init']!;
    expect(init.entrypoint).toEqual(['/opt/mssql-tools18/bin/sqlcmd']);
    expect(init.command).toEqual(expect.arrayContaining(['-C', '-b', '-i', '/init/sqlserver-init.sql']));
    expect(init.volumes).toContain('./deploy/compose/sqlserver-init.sql:/init/sqlserver-init.sql:ro');
    const script = readFileSync(join(ROOT, 'deploy/compose/sqlserver-init.sql'), 'utf8');
    const batches = splitBatches(script).map((b) => b.text);
    expect(batches).toHaveLength(4);
    expect(script).toMatch(/CREATE DATABASE \[app\]/);
    expect(script).toMatch(/ALTER SERVER ROLE \[dbcreator\] ADD MEMBER \[cutover\]/);
    expect(script).toMatch(/ALTER ROLE \[db_owner\] ADD MEMBER \[cutover\]/);
    expect(script).not.toMatch(/ALTER SERVER ROLE \[sysadmin\]/);
  });

  test('Cutover’s services are built from the Dockerfile and run files that exist', () => {
    for (const name of ['cutover-platform', 'cutover-worker', 'cutover-api', 'demo']) {
      const service = compose.services[name]!;
      expect(service.build, name).toBe('.');
      const files = (service.command ?? []).join(' ').match(/\b(?:dist\/src|deploy)\/[\w/.-]+\.m?js\b/g) ?? [];
      expect(files.length, name).toBeGreaterThan(0);
      // The image runs the build (dist/, made by the Dockerfile): each compiled entry point has its source here.
      const sources = files.map((file) => file.replace(/^dist\/(src\/.*)\.js$/, '$1.ts'));
      for (const file of sources) expect(existsSync(join(ROOT, file)), `${name}: ${file}`).toBe(true);
    }
    for (const service of Object.values(compose.services)) {
      // No TypeScript through tsx at run time: the processes and their healthchecks run JavaScript.
      expect([...(service.command ?? []), ...(service.healthcheck?.test ?? [])].join(' ')).not.toMatch(/tsx|\.ts\b/);
    }
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    // Built in a stage of its own; the image that runs has the build and production dependencies only.
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^CMD \["node", .*"dist\/src\/api\/main\.js"\]$/m);
    expect(dockerfile).toContain('cp deploy/compose/cutover.yaml /app/cutover.compose.yaml');
    expect(compose.services['cutover-api']!.environment?.CUTOVER_CONFIG).toBe('/app/cutover.compose.yaml');
  });

  test('the demo environment runs on SQL Server: the compose config loads, and its connection string is one Cutover accepts', () => {
    const config = loadConfig(join(ROOT, 'deploy/compose/cutover.yaml'));
    const database = config.environments.demo?.databases[0];
    expect(database).toMatchObject({ name: 'app', engine: 'sqlserver', connectionEnv: 'DEMO_DATABASE_URL' });
    const env = compose.services['cutover-worker']!.environment ?? {};
    // Compose fills ${VAR:-default} from the shell; here, the default.
    const url = (env[database!.connectionEnv] ?? '').replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    expect(url).toMatch(/^sqlserver:\/\/cutover:[^@]+@sqlserver:1433\/app\?/);
    expect(resolveDatabaseHandle(database!, { DEMO_DATABASE_URL: url }).connectionString).toBe(url);
    // The API, the site and its preview are published where every Cutover process listens.
    const published = ['127.0.0.1:8080:8080', '127.0.0.1:8081:8081', '127.0.0.1:7300:7300'];
    expect(compose.services['cutover-platform']!.ports).toEqual(expect.arrayContaining(published));
  });

  test("every published port is on the host's loopback only: nothing of the demo is reachable from the network", () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((p) => [name, p] as const));
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });
});
