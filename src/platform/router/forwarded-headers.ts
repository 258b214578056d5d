import type { IncomingMessage } from 'node:http';

// Hop-by-hop headers describe one connection, not the message: never passed through a proxy (RFC 9110 §7.6.1).
// Expect too: the router's own listener already answered "100 Continue" to the client.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** The header names a Connection header lists: hop-by-hop for that message only. */
function namedByConnection(connection: string | string[] | undefined): Set<string> | undefined {
  // The common values name no header: no set to build.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return undefined;
  const tokens = (Array.isArray(connection) ? connection.join(',') : connection).split(',').map((token) => token.trim().toLowerCase());
  return new Set(tokens.filter(Boolean));
}

/** rawHeaders without hop-by-hop ones (and those the Connection header names), keeping case, order and repeats. */
export function endToEndHeaders(message: IncomingMessage, drop?: (lowerName: string) => boolean): string[] {
  const named = namedByConnection(message.headers.connection);
  const out: string[] = [];
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) || named?.has(lower) || drop?.(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** A slot's response headers (a flat list of names and values, as sent) without hop-by-hop ones. */
export function endToEndResponseHeaders(raw: readonly string[]): string[] {
  let connection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection')
      connection = connection ? `${connection},${raw[i + 1]!}` : raw[i + 1]!;
  }
  const named = namedByConnection(connection?.toLowerCase());
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) || named?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

/** Headers in which a proxy says who the client is; a client can forge every one of them. */
function isForwardingHeader(lower: string): boolean {
  return lower.startsWith('x-forwarded-') || lower === 'forwarded' || lower === 'x-real-ip';
}

const rewritten = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * Headers for the upstream request: the client's, plus who asked, over what and for which host. Unless
 * `trustClient` (a proxy in front of the router sets them), whatever the client said about that is dropped:
 * an app must not take a forged address or scheme for the router's word.
 */
export function upstreamRequestHeaders(request: IncomingMessage, trustClient: boolean): string[] {
  const client = request.socket.remoteAddress ?? 'unknown';
  if (!trustClient) {
    const headers = endToEndHeaders(request, isForwardingHeader);
    headers.push('X-Forwarded-For', client, 'X-Forwarded-Proto', 'http', 'X-Real-IP', client);
    if (request.headers.host) headers.push('X-Forwarded-Host', request.headers.host);
    return headers;
  }
  const headers = endToEndHeaders(request, (lower) => rewritten.has(lower));
  const priorFor = request.headers['x-forwarded-for'];
  headers.push('X-Forwarded-For', priorFor ? `${priorFor}, ${client}` : client);
  // The TLS terminator in front of the router already said https: keep what it said.
  headers.push('X-Forwarded-Proto', first(request.headers['x-forwarded-proto']) ?? 'http');
  const host = first(request.headers['x-forwarded-host']) ?? request.headers.host;
  if (host) headers.push('X-Forwarded-Host', host);
  if (!request.headers['x-real-ip']) headers.push('X-Real-IP', client);
  return headers;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
