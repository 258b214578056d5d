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
function namedByConnection(connection: string | undefined): Set<string> | undefined {
  // The common values name no header: no set to build.
  if (connection === undefined) return undefined;
  const lower = connection.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  const tokens = lower.split(',').map((token) => token.trim());
  return new Set(tokens.filter(Boolean));
}

/** Every value of header `lower` in a flat list of names and values, joined as one (as Node joins repeats); undefined if none. */
function valueOf(raw: readonly string[], lower: string, firstOnly = false): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== lower.length || name.toLowerCase() !== lower) continue;
    if (firstOnly) return raw[i + 1]!;
    value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

/** A message's headers (flat names and values) without hop-by-hop ones (and those its Connection header names), keeping case, order and repeats. */
export function endToEndHeaders(raw: readonly string[], drop?: (lowerName: string) => boolean): string[] {
  const named = namedByConnection(valueOf(raw, 'connection'));
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) || named?.has(lower) || drop?.(lower)) continue;
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
 * Headers for the upstream request (from the client's, a flat list of names and values as sent): the client's, plus
 * who asked (`client`, its address), over what and for which host. Unless `trustClient` (a proxy in front of the
 * router sets them), whatever the client said about that is dropped: an app must not take a forged address or
 * scheme for the router's word.
 */
export function upstreamRequestHeaders(raw: readonly string[], client: string, trustClient: boolean): string[] {
  const host = valueOf(raw, 'host', true);
  if (!trustClient) {
    const headers = endToEndHeaders(raw, isForwardingHeader);
    headers.push('X-Forwarded-For', client, 'X-Forwarded-Proto', 'http', 'X-Real-IP', client);
    if (host) headers.push('X-Forwarded-Host', host);
    return headers;
  }
  const headers = endToEndHeaders(raw, (lower) => rewritten.has(lower));
  const priorFor = valueOf(raw, 'x-forwarded-for');
  headers.push('X-Forwarded-For', priorFor ? `${priorFor}, ${client}` : client);
  // The TLS terminator in front of the router already said https: keep what it said.
  headers.push('X-Forwarded-Proto', valueOf(raw, 'x-forwarded-proto', true) ?? 'http');
  const forwardedHost = valueOf(raw, 'x-forwarded-host', true) ?? host;
  if (forwardedHost) headers.push('X-Forwarded-Host', forwardedHost);
  if (!valueOf(raw, 'x-real-ip', true)) headers.push('X-Real-IP', client);
  return headers;
}
