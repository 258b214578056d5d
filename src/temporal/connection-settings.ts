/**
 * Where and how Cutover's processes reach Temporal, read the way Temporal's own tools read it: the environment
 * variables and profile file of Temporal's client configuration, through the SDK's @temporalio/envconfig.
 *
 *   address, namespace   temporal.address / temporal.namespace when written in cutover.yaml, else TEMPORAL_ADDRESS /
 *                        TEMPORAL_NAMESPACE, else the profile's, else the local dev server (127.0.0.1:7233, default)
 *   profile              temporal.profile in cutover.yaml, else TEMPORAL_PROFILE, else "default" when the file has it
 *   profile file         TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml
 *   TLS, API key, gRPC   TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH|DATA, TEMPORAL_TLS_CLIENT_KEY_PATH|DATA,
 *   metadata             TEMPORAL_TLS_SERVER_CA_CERT_PATH|DATA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY,
 *                        TEMPORAL_GRPC_META_*, over the profile's [tls], api_key and [grpc_meta]
 *
 * Secrets (the API key, private keys, gRPC metadata values) are only handed to the connection: never to a log line,
 * an error or JSON. Every problem names the setting it comes from.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { TemporalConfig } from '../config/schema.js';

/** A Temporal setting that cannot be used, named as the operator wrote it (an environment variable, a profile key). */
export class TemporalSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalSettingsError';
  }
}

type Field = 'clientCert' | 'clientKey' | 'serverCACert';

/** The settings Cutover's processes connect with. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Whether the connection uses TLS. */
  tls: boolean;
  /** Where each setting in use came from ("TEMPORAL_ADDRESS", "temporal.address in cutover.yaml"…); never a secret's value. */
  origins: {
    address: string;
    namespace: string;
    profile?: string;
    clientCert?: string;
    clientKey?: string;
    serverCACert?: string;
    serverName?: string;
    apiKey?: string;
  };
  /** Subject and issuer of the client certificate, for messages. */
  clientCertificate?: { subject: string; issuer: string; validTo: string };
  /** Names of the gRPC metadata headers sent (never their values). */
  metadataKeys: string[];
  /** Settings that were given but lost to a stronger one (a TEMPORAL_ADDRESS under temporal.address, say). */
  notes: string[];
}

/** Resolved Temporal settings: a safe description, and the connection options (secrets included) for connecting only. */
export class TemporalSettings {
  readonly #options: NativeConnectionOptions;

  constructor(
    readonly target: TemporalTarget,
    options: NativeConnectionOptions,
  ) {
    this.#options = options;
  }

  get address(): string {
    return this.target.address;
  }

  get namespace(): string {
    return this.target.namespace;
  }

  /** For NativeConnection.connect / Connection.connect only: it holds the API key and the private key. */
  connectionOptions(): NativeConnectionOptions {
    return { ...this.#options };
  }

  /** "127.0.0.1:7443 (TEMPORAL_ADDRESS), namespace default, TLS with the client certificate of TEMPORAL_TLS_CLIENT_CERT_PATH" */
  describe(): string {
    const { target } = this;
    const parts = [`${target.address} (${target.origins.address})`, `namespace ${target.namespace} (${target.origins.namespace})`];
    if (target.origins.profile) parts.push(`profile ${target.origins.profile}`);
    if (!target.tls) parts.push('no TLS');
    else {
      const cert = target.origins.clientCert ? `the client certificate of ${target.origins.clientCert}` : 'no client certificate';
      const ca = target.origins.serverCACert ? `server CA of ${target.origins.serverCACert}` : "the system's CAs";
      parts.push(`TLS with ${cert}, trusting ${ca}`);
    }
    if (target.origins.apiKey) parts.push(`API key of ${target.origins.apiKey}`);
    if (target.metadataKeys.length) parts.push(`gRPC metadata ${target.metadataKeys.join(', ')}`);
    return parts.join(', ');
  }

  /** What a log line shows: where and how, never a secret. */
  toJSON(): Omit<TemporalTarget, 'notes'> {
    const { notes: _notes, ...safe } = this.target;
    return safe;
  }
}

/** What each setting is called in the environment and in a profile's TOML. */
const names: Record<Field, { env: string; toml: string }> = {
  clientCert: { env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'client_cert' },
  clientKey: { env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'client_key' },
  serverCACert: { env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'server_ca_cert' },
};

/** The profile file Temporal's tools read (for messages; the SDK finds it itself). */
export function profileFilePath(env: NodeJS.ProcessEnv): string {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  const base = env.XDG_CONFIG_HOME || join(env.HOME ?? '~', '.config');
  return join(base, 'temporalio', 'temporal.toml');
}

/** Cutover's Temporal settings from cutover.yaml's temporal section and the process environment. */
export function resolveTemporalSettings(config: TemporalConfig, env: NodeJS.ProcessEnv = process.env, now = new Date()): TemporalSettings {
  const vars = definedVariables(env);
  const file = profileFilePath(env);
  if (vars.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(vars.TEMPORAL_CONFIG_FILE)) {
    throw new TemporalSettingsError(`TEMPORAL_CONFIG_FILE: ${vars.TEMPORAL_CONFIG_FILE} does not exist`);
  }
  const profileName = config.profile ?? vars.TEMPORAL_PROFILE;
  const profileOrigin = config.profile ? 'temporal.profile in cutover.yaml' : 'TEMPORAL_PROFILE';
  const fromFile = loadProfile({ profile: config.profile, disableEnv: true, overrideEnvVars: vars }, profileName, profileOrigin, file);
  const merged = loadProfile({ profile: config.profile, overrideEnvVars: vars }, profileName, profileOrigin, file);
  const inProfile = (key: string) => `${key} of profile ${profileName ?? 'default'} in ${file}`;
  const origin = (envName: string, present: boolean, tomlKey: string) =>
    vars[envName] !== undefined ? envName : present ? inProfile(tomlKey) : undefined;

  const notes: string[] = [];
  const pick = (field: 'address' | 'namespace', envName: string, fallback: string) => {
    const fromEnvOrProfile = origin(envName, fromFile[field] !== undefined, field);
    if (config.written[field]) {
      if (fromEnvOrProfile) notes.push(`temporal.${field} in cutover.yaml wins over ${fromEnvOrProfile}`);
      return { value: config[field], origin: `temporal.${field} in cutover.yaml` };
    }
    if (merged[field] !== undefined && fromEnvOrProfile) return { value: merged[field], origin: fromEnvOrProfile };
    return { value: fallback, origin: 'the default' };
  };
  const address = pick('address', 'TEMPORAL_ADDRESS', config.address);
  const namespace = pick('namespace', 'TEMPORAL_NAMESPACE', config.namespace);

  const fieldOrigin = (field: Field) => {
    const { env: envName, toml } = names[field];
    for (const suffix of ['PATH', 'DATA'] as const) if (vars[`${envName}_${suffix}`] !== undefined) return `${envName}_${suffix}`;
    const source = fromFile.tls?.[field];
    return source ? inProfile(`${toml}_${'path' in source ? 'path' : 'data'}`) : undefined;
  };
  const origins: TemporalTarget['origins'] = { address: address.origin, namespace: namespace.origin };
  if (profileName) origins.profile = `${profileName} (${profileOrigin}) in ${file}`;
  const loaded: Partial<Record<Field, Buffer>> = {};
  for (const field of ['clientCert', 'clientKey', 'serverCACert'] as const) {
    const source = merged.tls?.[field];
    if (!source) continue;
    origins[field] = fieldOrigin(field);
    loaded[field] = readSource(source, origins[field] ?? field);
  }
  origins.serverName = merged.tls?.serverName !== undefined ? origin('TEMPORAL_TLS_SERVER_NAME', true, 'server_name') : undefined;
  origins.apiKey = merged.apiKey !== undefined ? origin('TEMPORAL_API_KEY', true, 'api_key') : undefined;

  const clientCertificate = checkTlsFiles(loaded, origins, now);
  // The SDK's own mapping (TLS on with an API key, off with TEMPORAL_TLS=false), from the bytes checked above.
  const withData: ClientConfigProfile = {
    ...merged,
    tls: merged.tls && {
      ...merged.tls,
      clientCert: loaded.clientCert && { data: loaded.clientCert },
      clientKey: loaded.clientKey && { data: loaded.clientKey },
      serverCACert: loaded.serverCACert && { data: loaded.serverCACert },
    },
  };
  const { connectionOptions } = toClientOptions(withData);
  const tls = connectionOptions.tls !== undefined && connectionOptions.tls !== false && connectionOptions.tls !== null;
  for (const key of Object.keys(origins) as Array<keyof typeof origins>) if (origins[key] === undefined) delete origins[key];
  const target: TemporalTarget = {
    address: address.value,
    namespace: namespace.value,
    tls,
    origins,
    ...(clientCertificate && tls ? { clientCertificate } : {}),
    metadataKeys: Object.keys(merged.grpcMeta ?? {}),
    notes,
  };
  return new TemporalSettings(target, { ...connectionOptions, address: address.value });
}

function definedVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The SDK's profile loading, its errors told in the operator's words (and never quoting the file: it may hold a key). */
function loadProfile(
  options: Parameters<typeof loadClientConfigProfile>[0],
  profileName: string | undefined,
  profileOrigin: string,
  file: string,
): ClientConfigProfile {
  try {
    return loadClientConfigProfile(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/^Profile '.*' not found/.test(message)) {
      const where = `${file}${existsSync(file) ? '' : ' (no such file)'}`;
      throw new TemporalSettingsError(`${profileOrigin}: profile ${JSON.stringify(profileName)} is not in ${where}`);
    }
    if (/^Cannot specify both/.test(message)) {
      throw new TemporalSettingsError(`${message}: ${file} and the TEMPORAL_TLS_* variables give the same file two ways; give one`);
    }
    const where = typeof (error as { line?: unknown }).line === 'number' ? ` at line ${(error as { line: number }).line}` : '';
    throw new TemporalSettingsError(`${file}${where}: not a Temporal client configuration file: ${message.split('\n')[0] ?? message}`);
  }
}

function readSource(source: ConfigDataSource, origin: string): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (error) {
    throw new TemporalSettingsError(`${origin}: cannot read ${source.path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** Certificates and key parse, the key is the certificate's, the certificate is in date: else an error naming the setting. */
function checkTlsFiles(
  loaded: Partial<Record<Field, Buffer>>,
  origins: TemporalTarget['origins'],
  now: Date,
): TemporalTarget['clientCertificate'] {
  const { clientCert, clientKey, serverCACert } = loaded;
  if (clientCert && !clientKey) {
    const set = 'set TEMPORAL_TLS_CLIENT_KEY_PATH (or client_key_path)';
    throw new TemporalSettingsError(`${origins.clientCert} gives a client certificate without its key: ${set}`);
  }
  if (clientKey && !clientCert) {
    const set = 'set TEMPORAL_TLS_CLIENT_CERT_PATH (or client_cert_path)';
    throw new TemporalSettingsError(`${origins.clientKey} gives a client key without its certificate: ${set}`);
  }
  if (serverCACert) certificateOf(serverCACert, origins.serverCACert!);
  if (!clientCert || !clientKey) return undefined;
  const certificate = certificateOf(clientCert, origins.clientCert!);
  let key: KeyObject;
  try {
    key = createPrivateKey(clientKey);
  } catch {
    throw new TemporalSettingsError(`${origins.clientKey}: not a PEM private key`);
  }
  if (!certificate.checkPrivateKey(key)) {
    const whose = `${origins.clientCert} (${oneLine(certificate.subject)})`;
    throw new TemporalSettingsError(`${origins.clientKey}: this key is not the key of the certificate of ${whose}`);
  }
  if (new Date(certificate.validTo) < now) {
    throw new TemporalSettingsError(`${origins.clientCert}: the client certificate expired on ${certificate.validTo}`);
  }
  if (new Date(certificate.validFrom) > now) {
    throw new TemporalSettingsError(`${origins.clientCert}: the client certificate is not valid before ${certificate.validFrom}`);
  }
  return { subject: oneLine(certificate.subject), issuer: oneLine(certificate.issuer), validTo: certificate.validTo };
}

/** "CN=a\nO=b" → "CN=a, O=b" */
function oneLine(name: string): string {
  return name.replace(/\n/g, ', ');
}

function certificateOf(pem: Buffer, origin: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TemporalSettingsError(`${origin}: not a PEM certificate`);
  }
}
