/**
 * How Cutover reads its Temporal settings: cutover.yaml, Temporal's environment variables and its profile file, each
 * with the precedence docs/operations.md gives; every unusable setting is refused by name; no secret leaks.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { resolveTemporalSettings, TemporalSettingsError } from '../../src/temporal/connection.js';
import { makeTestCertificates, type TestCertificates } from './certificates.js';

let dir: string;
let certificates: TestCertificates;
/** HOME with no Temporal configuration file: nothing of the machine's leaks into a test. */
let home: string;

const temporalSection = (yaml = '') =>
  parseConfig(`${yaml ? `temporal: { ${yaml} }\n` : ''}environments: {}\n`, join(dir ?? '/tmp', 'cutover.yaml')).temporal;

function toml(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function refusal(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the settings to be refused');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-temporal-settings-'));
  home = join(dir, 'home');
  mkdirSync(home);
  certificates = makeTestCertificates(dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('where Cutover finds Temporal', () => {
  test('nothing said: the local dev server, namespace default, no TLS', () => {
    const settings = resolveTemporalSettings(temporalSection(), { HOME: home });
    expect(settings.target).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      tls: false,
      origins: { address: 'the default' },
    });
    expect(settings.connectionOptions()).toMatchObject({ address: '127.0.0.1:7233' });
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, as for the temporal CLI', () => {
    const settings = resolveTemporalSettings(temporalSection(), {
      HOME: home,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'deploys',
    });
    expect(settings.target).toMatchObject({
      address: 'temporal.internal:7233',
      namespace: 'deploys',
      origins: { address: 'TEMPORAL_ADDRESS', namespace: 'TEMPORAL_NAMESPACE' },
    });
  });

  test('a profile named in cutover.yaml, from TEMPORAL_CONFIG_FILE; the TEMPORAL_* variables override the profile', () => {
    const file = toml(
      'profiles.toml',
      '[profile.staging]\naddress = "staging.internal:7233"\nnamespace = "staging"\n\n[profile.other]\naddress = "x:1"\n',
    );
    const fromProfile = resolveTemporalSettings(temporalSection('profile: staging'), { HOME: home, TEMPORAL_CONFIG_FILE: file });
    expect(fromProfile.target).toMatchObject({ address: 'staging.internal:7233', namespace: 'staging' });
    expect(fromProfile.target.origins.address).toBe(`address of profile staging in ${file}`);
    expect(fromProfile.target.origins.profile).toBe(`staging (temporal.profile in cutover.yaml) in ${file}`);
    // cutover.yaml's profile wins over TEMPORAL_PROFILE; TEMPORAL_NAMESPACE over the profile's namespace.
    const overridden = resolveTemporalSettings(temporalSection('profile: staging'), {
      HOME: home,
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'other',
      TEMPORAL_NAMESPACE: 'hotfix',
    });
    expect(overridden.target).toMatchObject({
      address: 'staging.internal:7233',
      namespace: 'hotfix',
      origins: { namespace: 'TEMPORAL_NAMESPACE' },
    });
  });

  test('the default profile of ~/.config/temporalio/temporal.toml, or the one TEMPORAL_PROFILE names', () => {
    mkdirSync(join(home, '.config/temporalio'), { recursive: true });
    writeFileSync(
      join(home, '.config/temporalio/temporal.toml'),
      '[profile.default]\naddress = "home.internal:7233"\n[profile.prod]\naddress = "prod.internal:7233"\n',
    );
    try {
      expect(resolveTemporalSettings(temporalSection(), { HOME: home }).address).toBe('home.internal:7233');
      expect(resolveTemporalSettings(temporalSection(), { HOME: home, TEMPORAL_PROFILE: 'prod' }).address).toBe('prod.internal:7233');
    } finally {
      rmSync(join(home, '.config'), { recursive: true, force: true });
    }
  });

  test('address and namespace written in cutover.yaml win over everything, and the loser is noted', () => {
    const file = toml('winner.toml', '[profile.default]\naddress = "profile.internal:7233"\n');
    const settings = resolveTemporalSettings(temporalSection('address: "127.0.0.1:17233", namespace: mine'), {
      HOME: home,
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_ADDRESS: 'env.internal:7233',
    });
    expect(settings.target).toMatchObject({
      address: '127.0.0.1:17233',
      namespace: 'mine',
      origins: { address: 'temporal.address in cutover.yaml' },
    });
    expect(settings.target.notes).toEqual(['temporal.address in cutover.yaml wins over TEMPORAL_ADDRESS']);
  });
});

describe('TLS and credentials, through the SDK’s own client configuration', () => {
  test('a client certificate and a private CA from the profile; the certificate is checked against its key', () => {
    const file = toml(
      'mtls.toml',
      `[profile.mtls]\naddress = "127.0.0.1:7443"\n[profile.mtls.tls]\nserver_ca_cert_path = "${certificates.ca}"\n` +
        `client_cert_path = "${certificates.client.cert}"\nclient_key_path = "${certificates.client.key}"\nserver_name = "localhost"\n`,
    );
    const settings = resolveTemporalSettings(temporalSection('profile: mtls'), { HOME: home, TEMPORAL_CONFIG_FILE: file });
    expect(settings.target.tls).toBe(true);
    expect(settings.target.clientCertificate).toMatchObject({ subject: 'CN=cutover-worker', issuer: 'CN=cutover-test-ca' });
    const tls = settings.connectionOptions().tls as {
      serverNameOverride?: string;
      clientCertPair?: { crt: Buffer; key: Buffer };
      serverRootCACertificate?: Buffer;
    };
    expect(tls.serverNameOverride).toBe('localhost');
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(readFileSync(certificates.client.cert, 'utf8'));
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(readFileSync(certificates.ca, 'utf8'));
    expect(settings.describe()).toContain(`TLS with the client certificate of client_cert_path of profile mtls in ${file}`);
  });

  test('an API key turns TLS on (as the SDK does); TEMPORAL_TLS=false turns it off; no secret in describe() or JSON', () => {
    const apiKey = 'tk-0123456789abcdef-secret';
    const env = {
      HOME: home,
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_GRPC_META_X_TENANT_TOKEN: 'meta-secret-value',
    };
    const settings = resolveTemporalSettings(temporalSection(), env);
    expect(settings.target.tls).toBe(true);
    expect(settings.connectionOptions()).toMatchObject({ apiKey, tls: true, metadata: { 'x-tenant-token': 'meta-secret-value' } });
    for (const shown of [settings.describe(), JSON.stringify(settings), JSON.stringify({ temporal: settings })]) {
      expect(shown).not.toContain(apiKey);
      expect(shown).not.toContain('meta-secret-value');
    }
    expect(settings.describe()).toContain('API key of TEMPORAL_API_KEY');
    expect(resolveTemporalSettings(temporalSection(), { ...env, TEMPORAL_TLS: 'false' }).target.tls).toBe(false);
  });
});

describe('a setting that cannot be used is refused, by name, before anything connects', () => {
  test.each([
    [
      'a profile cutover.yaml names that the file lacks',
      'profile: missing',
      { TEMPORAL_CONFIG_FILE: 'profiles.toml' },
      /^temporal\.profile in cutover\.yaml: profile "missing" is not in .*profiles\.toml$/,
    ],
    [
      'a profile TEMPORAL_PROFILE names that the file lacks',
      '',
      { TEMPORAL_CONFIG_FILE: 'profiles.toml', TEMPORAL_PROFILE: 'nope' },
      /^TEMPORAL_PROFILE: profile "nope" is not in /,
    ],
    [
      'TEMPORAL_CONFIG_FILE naming no file',
      '',
      { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' },
      /^TEMPORAL_CONFIG_FILE: \/nonexistent\/temporal\.toml does not exist$/,
    ],
  ])('%s', (_what, yaml, vars, message) => {
    const env: NodeJS.ProcessEnv = { HOME: home, ...vars };
    if (env.TEMPORAL_CONFIG_FILE === 'profiles.toml')
      env.TEMPORAL_CONFIG_FILE = toml('profiles.toml', '[profile.staging]\naddress = "a:1"\n');
    const error = refusal(() => resolveTemporalSettings(temporalSection(yaml), env));
    expect(error).toBeInstanceOf(TemporalSettingsError);
    expect(error.message).toMatch(message);
  });

  test('a broken profile file: its name and line, never its text (it may hold an API key)', () => {
    const file = toml('broken.toml', '[profile.default]\napi_key = "tk-very-secret\naddress = "a:1"\n');
    const error = refusal(() => resolveTemporalSettings(temporalSection(), { HOME: home, TEMPORAL_CONFIG_FILE: file }));
    expect(error.message).toMatch(new RegExp(`^${file} at line 2: not a Temporal client configuration file: `));
    expect(error.message).not.toContain('tk-very-secret');
  });

  test('certificate and key files: unreadable, missing their pair, not PEM, not each other’s, expired', () => {
    const notPem = toml('not-a-certificate.pem', 'hello\n');
    const base = { HOME: home, TEMPORAL_ADDRESS: '127.0.0.1:7443' };
    const pair = { TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.client.key };
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [
        { ...pair, TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'absent.pem') },
        `TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read ${join(dir, 'absent.pem')} (ENOENT)`,
      ],
      [
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.client.cert },
        'TEMPORAL_TLS_CLIENT_CERT_PATH gives a client certificate without its key: set TEMPORAL_TLS_CLIENT_KEY_PATH (or client_key_path)',
      ],
      [
        { TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.client.key },
        'TEMPORAL_TLS_CLIENT_KEY_PATH gives a client key without its certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH (or client_cert_path)',
      ],
      [{ ...pair, TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPem }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH: not a PEM certificate'],
      [{ ...pair, TEMPORAL_TLS_CLIENT_CERT_PATH: notPem }, 'TEMPORAL_TLS_CLIENT_CERT_PATH: not a PEM certificate'],
      [
        { TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.client.cert, TEMPORAL_TLS_CLIENT_KEY_DATA: 'my-secret-key-material' },
        'TEMPORAL_TLS_CLIENT_KEY_DATA: not a PEM private key',
      ],
      [
        { ...pair, TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.intruder.key },
        'TEMPORAL_TLS_CLIENT_KEY_PATH: this key is not the key of the certificate of TEMPORAL_TLS_CLIENT_CERT_PATH (CN=cutover-worker)',
      ],
    ];
    for (const [vars, message] of cases) {
      const error = refusal(() => resolveTemporalSettings(temporalSection(), { ...base, ...vars }));
      expect(error).toBeInstanceOf(TemporalSettingsError);
      expect(error.message).toBe(message);
      expect(error.message).not.toContain('my-secret-key-material');
    }
    const inThreeDays = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    const expired = refusal(() => resolveTemporalSettings(temporalSection(), { ...base, ...pair }, inThreeDays));
    expect(expired.message).toMatch(/^TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate expired on /);
  });
});

describe('cutover.yaml’s temporal and worker sections', () => {
  test.each([
    ['temporal: { address: "https://temporal:7233" }', 'temporal.address: must be host:port, like temporal.example.com:7233'],
    ['temporal: { profile: "a b" }', 'temporal.profile: must be a profile name: letters, digits, ".", "-" and "_"'],
    ['temporal: { apiKey: x }', 'temporal: unknown field(s) apiKey'],
    ['worker: { maxConcurrentActivityTaskExecutions: 0 }', 'worker.maxConcurrentActivityTaskExecutions: must be at least 1'],
    ['worker: { maxCachedWorkflows: 1 }', 'worker.maxCachedWorkflows: must be 0 (no cache) or at least 2'],
    [
      'worker: { maxCachedWorkflows: 10, maxConcurrentWorkflowTaskExecutions: 20 }',
      'worker.maxConcurrentWorkflowTaskExecutions: must not exceed maxCachedWorkflows',
    ],
    ['worker: { shutdownGraceTime: soon }', 'worker.shutdownGraceTime: must be a duration like "30s", "10m" or "24h"'],
  ])('%s is refused', (yaml, message) => {
    expect(() => parseConfig(`${yaml}\nenvironments: {}\n`, '/etc/cutover/cutover.yaml')).toThrow(message);
  });
});
