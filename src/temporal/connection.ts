/**
 * The one way Cutover's processes connect to Temporal: the worker and the host agents (NativeConnection), the API and
 * `npm start` (Connection), all from the same settings (connection-settings.ts). A failure to connect is told with
 * the settings in use and the one to change, never with a secret.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config/schema.js';
import { resolveTemporalSettings, type TemporalSettings, type TemporalTarget } from './connection-settings.js';

export { resolveTemporalSettings, TemporalSettings, TemporalSettingsError, type TemporalTarget } from './connection-settings.js';

/** Temporal could not be reached or refused Cutover, with what to change. */
export class TemporalConnectionError extends Error {
  constructor(
    message: string,
    readonly target: TemporalTarget,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TemporalConnectionError';
  }
}

/** For a worker (Cutover's or a host agent's): connected now, or a TemporalConnectionError. */
export async function connectWorkerConnection(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connectionOptions());
  } catch (error) {
    throw explainConnectionFailure(error, settings);
  }
}

/** For a client that must start while Temporal is down (the API): connects on first use. */
export function lazyClientConnection(settings: TemporalSettings, options: { connectTimeout?: string } = {}): Connection {
  return Connection.lazy({ ...settings.connectionOptions(), ...options });
}

/** A client of the configured namespace over a lazy connection; close the connection when done. */
export function lazyClient(config: TemporalConfig, env: NodeJS.ProcessEnv = process.env, options: { connectTimeout?: string } = {}) {
  const settings = resolveTemporalSettings(config, env);
  const connection = lazyClientConnection(settings, options);
  return { settings, connection, client: new Client({ connection, namespace: settings.namespace }) };
}

/** Runs work against Temporal; a failure is rethrown as a TemporalConnectionError when it is one of reaching Temporal. */
export async function explained<T>(settings: TemporalSettings, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isConnectionFailure(error) ? explainConnectionFailure(error, settings) : error;
  }
}

/** gRPC UNAVAILABLE (14), UNAUTHENTICATED (16), PERMISSION_DENIED (7), INTERNAL (13, a proxy's HTTP answer) or a transport error. */
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof TemporalConnectionError) return false;
  const code = (error as { code?: unknown })?.code;
  if (code === 14 || code === 16 || code === 7 || code === 13) return true;
  return /Failed to connect|TransportError|transport error|Connection refused|certificate|handshake|HTTP status code/i.test(
    messageChain(error),
  );
}

export function explainConnectionFailure(error: unknown, settings: TemporalSettings): TemporalConnectionError {
  if (error instanceof TemporalConnectionError) return error;
  const cause = messageChain(error);
  const hint = hintFor(cause, settings.target);
  const message = `cannot connect to Temporal at ${settings.describe()}: ${cause}${hint ? `. ${hint}` : ''}`;
  return new TemporalConnectionError(message, settings.target, { cause: error });
}

/** The message of an error and of its causes, once each. */
function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  // grpc-js ends its messages with an empty "Resolution note" and OpenSSL's with a newline.
  return (
    parts
      .join(': ')
      .replace(/\s*Resolution note: *\.?/g, '')
      .replace(/\s+/g, ' ')
      .trim() || 'unknown error'
  );
}

const clientCertSettings =
  'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or client_cert_path and client_key_path in the profile)';

/** What failures say, by cause: Node's grpc-js, the SDK's Rust core (rustls) and a TLS proxy's HTTP answer. */
const says = {
  untrustedServer:
    /UnknownIssuer|unknown issuer|self.signed|unable to (get|verify)|certificate verify failed|invalid peer certificate|NotValidForName/i,
  refusedClient: /HTTP status code 4\d\d|status: 4\d\d|certificate required|bad certificate|unknown ca|certificate unknown|handshake/i,
  unauthenticated: /UNAUTHENTICATED|PERMISSION_DENIED|unauthori[sz]ed|invalid api key/i,
  wantsTls: /HTTP status code 400|status: 400|protocol error|invalid compression flag|connection reset|ECONNRESET|frame/i,
  noTls: /wrong version number|InvalidContentType|corrupt message|packet length/i,
  noNamespace: /namespace.*not found|NOT_FOUND/i,
  unreachable: /refused|ENOTFOUND|lookup|resolve|timed out|deadline|UNAVAILABLE|unreachable/i,
};

/** What to change, from what the failure says and the settings in use. */
function hintFor(cause: string, target: TemporalTarget): string | undefined {
  const { origins } = target;
  if (target.tls && says.untrustedServer.test(cause)) {
    const ca = origins.serverCACert ? `the CA of ${origins.serverCACert}` : "the system's CAs";
    return (
      `Cutover does not trust the server's certificate (it trusts ${ca}): set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed it, ` +
      'and TEMPORAL_TLS_SERVER_NAME to a name in it when the address is not'
    );
  }
  if (target.tls && says.refusedClient.test(cause)) {
    if (!origins.clientCert) return `the server, or a TLS proxy in front of it, requires a client certificate: set ${clientCertSettings}`;
    const who = target.clientCertificate ? ` (${target.clientCertificate.subject}, issued by ${target.clientCertificate.issuer})` : '';
    const what = `the client certificate of ${origins.clientCert}${who}`;
    return `the server, or a TLS proxy in front of it, refused ${what}: it must be signed by a CA the server trusts`;
  }
  if (says.unauthenticated.test(cause)) {
    return origins.apiKey
      ? `Temporal refused the API key of ${origins.apiKey}, or it has no access to namespace ${target.namespace}`
      : `Temporal wants credentials: set TEMPORAL_API_KEY, or ${clientCertSettings}`;
  }
  if (!target.tls && says.wantsTls.test(cause)) {
    const tls = 'TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)';
    return `the server may expect TLS: set ${tls}, or a client certificate`;
  }
  if (target.tls && says.noTls.test(cause)) {
    return 'the server does not speak TLS at that address: check the port, or set TEMPORAL_TLS=false';
  }
  if (says.noNamespace.test(cause)) return `check namespace ${target.namespace} (${origins.namespace})`;
  if (says.unreachable.test(cause)) {
    return origins.address === 'the default'
      ? 'nothing answers at the default address: set temporal.address in cutover.yaml, TEMPORAL_ADDRESS, or a profile (docs/operations.md)'
      : `nothing answers there: check ${origins.address}`;
  }
  return undefined;
}
