/**
 * Kept-alive HTTP/1.1 connections to one replica of a slot, as the proxy needs them: one request at a time on a
 * connection, the answer read by Node's own HTTP parser (llhttp), bodies streamed both ways with back-pressure.
 * It takes the place of undici's Pool on the hot path, where its layers cost a third of the router's CPU per request.
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { HTTPParser } from '_http_common';

/** Why a request to a slot failed, beside the socket's own codes (ECONNREFUSED, ECONNRESET, EPIPE, ...). */
export const slotErrorCodes = {
  /** The slot closed the connection before its answer was complete. */
  closed: 'SLOT_CLOSED',
  connectTimeout: 'SLOT_CONNECT_TIMEOUT',
  headersTimeout: 'SLOT_HEADERS_TIMEOUT',
  bodyTimeout: 'SLOT_BODY_TIMEOUT',
  /** The slot's answer is not HTTP/1.1 the parser accepts. */
  badAnswer: 'SLOT_BAD_ANSWER',
} as const;

export type SlotError = Error & { code?: string };

/** One request for a slot: headers as a flat list of names and values, the body streamed from the client. */
export interface SlotRequest {
  method: string;
  path: string;
  headers: string[];
  body: Readable | null;
  /** From the moment the request was sent until the answer's headers. */
  headersTimeout: number;
  /** Between two pieces of the answer's body (not while the proxy pauses it). */
  bodyTimeout: number;
}

export interface SlotExchangeController {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** What the proxy hears of its request; after an error or the end, nothing more. */
export interface SlotExchangeHandler {
  onRequestStart(controller: SlotExchangeController): void;
  onResponseStart(controller: SlotExchangeController, statusCode: number, headers: string[], statusMessage: string): void;
  onResponseData(controller: SlotExchangeController, chunk: Buffer): void;
  onResponseEnd(controller: SlotExchangeController): void;
  onResponseError(controller: SlotExchangeController, error: SlotError): void;
}

/** How long an idle connection is kept when the slot names no keep-alive timeout (Node's servers close theirs at 5 s). */
const IDLE_MS = 4_000;
/** Taken off a keep-alive timeout the slot names: a connection is never sent a request just as the slot closes it. */
const IDLE_MARGIN_MS = 1_000;

const onHeaders = HTTPParser.kOnHeaders | 0;
const onHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
const onBody = HTTPParser.kOnBody | 0;
const onMessageComplete = HTTPParser.kOnMessageComplete | 0;

function slotError(code: string, message: string): SlotError {
  return Object.assign(new Error(message), { code });
}

/** The connections to one replica: idle ones are reused, newest first. */
export class SlotConnections {
  private readonly idle: SlotConnection[] = [];
  private readonly busy = new Set<SlotConnection>();
  private closing: (() => void) | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly connectTimeoutMs: number,
  ) {}

  dispatch(request: SlotRequest, handler: SlotExchangeHandler): void {
    const connection = this.idle.pop() ?? new SlotConnection(this);
    this.busy.add(connection);
    connection.send(new SlotExchange(request, handler, connection));
  }

  /** A connection whose exchange ended: kept for the next request while it may be, else closed. */
  released(connection: SlotConnection, keepForMs: number): void {
    this.busy.delete(connection);
    if (keepForMs > 0 && !this.closing) {
      this.idle.push(connection);
      connection.idleFor(keepForMs);
    } else connection.socket.destroy();
    if (this.closing && this.busy.size === 0) this.closing();
  }

  /** A connection closed or failed: never used again. */
  forget(connection: SlotConnection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.busy.delete(connection) && this.closing && this.busy.size === 0) this.closing();
  }

  /** Graceful: idle connections close now, busy ones once their answer ended. */
  async close(): Promise<void> {
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    if (this.busy.size === 0) return;
    await new Promise<void>((resolve) => (this.closing = resolve));
  }

  /** Every connection cut now; requests still on them fail. */
  async destroy(): Promise<void> {
    for (const connection of [...this.idle.splice(0), ...this.busy])
      connection.fail(slotError(slotErrorCodes.closed, 'the router closed the connection'));
  }
}

/** One request and its answer; the controller the proxy holds, inert once the exchange is over. */
class SlotExchange implements SlotExchangeController {
  done = false;
  bodySent: boolean;
  answered = false;
  paused = false;
  /** Stops sending the client's body (the answer ended or failed first). */
  stopSending: () => void = () => undefined;
  private readonly queue: Array<Buffer | null> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly request: SlotRequest,
    readonly handler: SlotExchangeHandler,
    /** The connection it runs on; null once the whole answer arrived (what the proxy paused waits in the queue). */
    public connection: SlotConnection | null,
  ) {
    this.bodySent = request.body === null;
  }

  abort(reason: Error): void {
    if (this.done) return;
    if (this.connection) this.connection.fail(reason);
    else this.fail(reason);
  }

  pause(): void {
    if (this.done || this.paused) return;
    this.paused = true;
    clearTimeout(this.timer);
    this.connection?.socket.pause();
  }

  resume(): void {
    if (this.done || !this.paused) return;
    this.paused = false;
    while (!this.paused && !this.done && this.queue.length > 0) this.deliver(this.queue.shift()!);
    if (this.paused || this.done || !this.connection) return;
    this.connection.socket.resume();
    this.watchBody();
  }

  /** A piece of the body, or its end (null): passed on at once unless the proxy paused the answer. */
  deliver(chunk: Buffer | null): void {
    if (this.done) return;
    if (this.paused) return void this.queue.push(chunk);
    if (chunk !== null) {
      if (this.connection) this.watchBody();
      return this.handler.onResponseData(this, chunk);
    }
    this.finish();
    this.handler.onResponseEnd(this);
  }

  watch(ms: number, code: string, message: string): void {
    clearTimeout(this.timer);
    if (ms > 0) this.timer = setTimeout(() => this.abort(slotError(code, message)), ms);
  }

  watchBody(): void {
    this.watch(this.request.bodyTimeout, slotErrorCodes.bodyTimeout, 'the slot sent nothing more of its answer in time');
  }

  /** The whole answer arrived: no timeout any more, and the connection goes its own way. */
  received(): void {
    clearTimeout(this.timer);
    this.stopSending();
    this.connection = null;
  }

  fail(error: SlotError): void {
    if (this.done) return;
    this.finish();
    this.handler.onResponseError(this, error);
  }

  private finish(): void {
    this.done = true;
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.stopSending();
  }
}

/** One TCP connection to the replica and its answer parser. */
class SlotConnection {
  readonly socket: Socket;
  private readonly parser = new HTTPParser();
  private exchange: SlotExchange | null = null;
  private connectTimer: NodeJS.Timeout | undefined;
  private socketError: SlotError | undefined;
  /** Headers the parser handed over before the end of a long header block. */
  private headers: string[] = [];
  private keepAlive = false;
  private keepForMs = IDLE_MS;
  private informational = false;

  constructor(private readonly pool: SlotConnections) {
    this.socket = connect({ host: pool.host, port: pool.port, noDelay: true });
    const timeoutMs = pool.connectTimeoutMs;
    this.connectTimer = setTimeout(
      () => this.fail(slotError(slotErrorCodes.connectTimeout, `no connection within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.socket.once('connect', () => clearTimeout(this.connectTimer));
    this.parser.initialize(HTTPParser.RESPONSE, {});
    this.parser[onHeaders] = (headers: string[]) => void this.headers.push(...headers);
    this.parser[onHeadersComplete] = this.headersComplete.bind(this);
    this.parser[onBody] = (chunk: Buffer) => this.exchange?.deliver(chunk);
    this.parser[onMessageComplete] = this.messageComplete.bind(this);
    this.socket.on('data', (data: Buffer) => {
      if (!this.exchange) return this.fail(slotError(slotErrorCodes.badAnswer, 'the slot sent bytes nobody asked for'));
      const parsed = this.parser.execute(data);
      if (parsed instanceof Error) this.fail(slotError(slotErrorCodes.badAnswer, `the slot's answer is not valid HTTP: ${parsed.message}`));
    });
    this.socket.on('end', () => {
      // A body that lasts until the connection closes ends here.
      if (this.exchange?.answered) this.parser.finish();
      this.fail(slotError(slotErrorCodes.closed, 'the slot closed the connection before its answer was complete'));
    });
    this.socket.on('error', (error: SlotError) => (this.socketError = error));
    this.socket.on('close', () => this.fail(this.socketError ?? slotError(slotErrorCodes.closed, 'the slot closed the connection')));
    this.socket.on('timeout', () => this.exchange || this.fail(slotError(slotErrorCodes.closed, 'idle')));
  }

  send(exchange: SlotExchange): void {
    this.exchange = exchange;
    this.socket.setTimeout(0);
    const { request } = exchange;
    let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
    let host = false;
    let length = false;
    const headers = request.headers;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === 4 && name.toLowerCase() === 'host') host = true;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      head += `${name}: ${headers[i + 1]!}\r\n`;
    }
    if (!host) head += `host: ${this.pool.host}:${this.pool.port}\r\n`;
    const chunked = request.body !== null && !length;
    if (chunked) head += 'transfer-encoding: chunked\r\n';
    exchange.handler.onRequestStart(exchange);
    if (exchange.done) return;
    this.socket.write(`${head}\r\n`, 'latin1');
    if (request.body === null) return this.sent(exchange);
    this.sendBody(exchange, request.body, chunked);
  }

  /** The client's body, as it arrives; the client is held while the slot reads slower. */
  private sendBody(exchange: SlotExchange, body: Readable, chunked: boolean) {
    const { socket } = this;
    const resume = () => body.resume();
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      const written = chunked
        ? socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1') && socket.write(chunk) && socket.write('\r\n', 'latin1')
        : socket.write(chunk);
      if (!written) body.pause();
    };
    const onEnd = () => {
      exchange.stopSending();
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      this.sent(exchange);
    };
    const onFailed = () => exchange.abort(slotError(slotErrorCodes.closed, 'the client did not send its whole request'));
    exchange.stopSending = () => {
      exchange.stopSending = () => undefined;
      body.off('data', onData).off('end', onEnd).off('error', onFailed).off('aborted', onFailed);
      socket.off('drain', resume);
      body.resume();
    };
    body.on('data', onData).on('end', onEnd).on('error', onFailed).on('aborted', onFailed);
    socket.on('drain', resume);
  }

  private sent(exchange: SlotExchange) {
    exchange.bodySent = true;
    // Counted once sent, unless the answer began first.
    if (!exchange.done && !exchange.answered) {
      exchange.watch(exchange.request.headersTimeout, slotErrorCodes.headersTimeout, 'the slot did not answer in time');
    }
  }

  private headersComplete(
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: number,
    _url: string,
    statusCode: number,
    statusMessage: string,
    _upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    const exchange = this.exchange;
    if (!exchange) {
      this.fail(slotError(slotErrorCodes.badAnswer, 'the slot sent an answer nobody asked for'));
      return 0;
    }
    const all = this.headers.length > 0 ? [...this.headers, ...(headers ?? [])] : (headers ?? []);
    this.headers = [];
    if (statusCode < 200) {
      // 100 Continue, 103 Early Hints: the client gets the final answer only; a switch of protocol is not proxied.
      if (statusCode === 101) this.fail(slotError(slotErrorCodes.badAnswer, 'the slot switched protocols'));
      this.informational = true;
      return 0;
    }
    exchange.answered = true;
    this.keepAlive = shouldKeepAlive;
    this.keepForMs = keepAliveHint(all);
    exchange.watchBody();
    exchange.handler.onResponseStart(exchange, statusCode, all, statusMessage);
    // A HEAD answer has no body, whatever its Content-Length says.
    return exchange.request.method === 'HEAD' ? 1 : 0;
  }

  /** The whole answer arrived: the connection serves the next request (or closes), the exchange passes on what is left. */
  private messageComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const exchange = this.exchange;
    if (!exchange) return;
    this.exchange = null;
    const reusable = this.keepAlive && exchange.bodySent && !exchange.done;
    exchange.received();
    if (this.socket.isPaused()) this.socket.resume();
    this.pool.released(this, reusable ? this.keepForMs : 0);
    exchange.deliver(null);
  }

  idleFor(ms: number): void {
    this.socket.setTimeout(ms);
  }

  /** The connection is done for: its exchange, if any, fails with `error`. */
  fail(error: SlotError): void {
    clearTimeout(this.connectTimer);
    this.socket.destroy();
    this.pool.forget(this);
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.fail(error);
  }
}

/** How long to keep a connection after an answer whose Keep-Alive header names a timeout (seconds). */
function keepAliveHint(headers: string[]): number {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.length !== 10 || headers[i]!.toLowerCase() !== 'keep-alive') continue;
    const seconds = /timeout=(\d+)/i.exec(headers[i + 1]!)?.[1];
    if (seconds !== undefined) return Math.min(IDLE_MS, Number(seconds) * 1000 - IDLE_MARGIN_MS);
  }
  return IDLE_MS;
}
