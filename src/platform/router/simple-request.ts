/**
 * The requests the router's fast lane serves itself: a GET or HEAD with no body, in plain HTTP/1.1, whose head arrived
 * whole. Only what can be read one way qualifies (no body framing, Expect or Upgrade, one Host, visible ASCII only);
 * anything else goes to Node's own parser (llhttp), which answers every case, including the malformed ones.
 */
export interface SimpleRequest {
  method: 'GET' | 'HEAD';
  /** The request target: a path, as sent. */
  path: string;
  /** Header names and values in order, as sent. */
  headers: string[];
  /** The client asked to close the connection after the answer. */
  close: boolean;
  /** Bytes of the head, its blank line included: where the next request begins. */
  length: number;
}

/** A head longer than this is left to Node's parser (its limit is 16 KiB; it answers 431 beyond). */
export const simpleHeadMaxBytes = 8192;

const requestLine = /^(GET|HEAD) (\/[!-~]*) HTTP\/1\.1$/;
// A token, a colon, and a value of visible ASCII, spaces and tabs (RFC 9110 §5.5 without obs-text).
const headerLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t -~]*?)[ \t]*$/;
/** Headers whose presence makes a request more than a plain read: Node's parser decides what they mean. */
const notSimple = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'http2-settings']);

/** The simple request at the start of `buffer`, or undefined when there is none (not simple, or not whole yet). */
export function simpleRequestAt(buffer: Buffer): SimpleRequest | undefined {
  const end = buffer.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0 || end + 4 > simpleHeadMaxBytes) return undefined;
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const first = requestLine.exec(lines[0]!);
  if (!first) return undefined;
  const headers: string[] = [];
  let hosts = 0;
  let close = false;
  for (let i = 1; i < lines.length; i += 1) {
    const header = headerLine.exec(lines[i]!);
    if (!header) return undefined;
    const name = header[1]!;
    const value = header[2]!;
    const lower = name.toLowerCase();
    if (notSimple.has(lower)) return undefined;
    if (lower === 'host') hosts += 1;
    else if (lower === 'connection') {
      const option = value.toLowerCase();
      if (option === 'close') close = true;
      else if (option !== 'keep-alive') return undefined;
    }
    headers.push(name, value);
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); Node's parser answers the others 400.
  if (hosts !== 1) return undefined;
  return { method: first[1] as SimpleRequest['method'], path: first[2]!, headers, close, length: end + 4 };
}
