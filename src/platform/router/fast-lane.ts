/**
 * The fast lane of a site's listener: plain reads (simple-request.ts) are read, proxied and answered on the client's
 * socket itself, sparing them Node's http server, which cost most of the router's CPU per request. Every other request
 * (a body, a hold, a canary, a page the router answers, a slot that failed before answering) goes, with the rest of its
 * connection, to that server, which reads it from its first byte as if it had come straight to it.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { keepFailedAttempt, requestEnded, type ClientSocket } from './client-socket.js';
import { endToEndHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import { outcome, outcomeOfStatus, type SlotSeries } from './metrics.js';
import type { SiteProxyOptions } from './proxy.js';
import { countInFlight, holdSlotForClient, uncountInFlight } from './relay.js';
import { simpleHeadMaxBytes, simpleRequestAt, type SimpleRequest } from './simple-request.js';
import type { SlotError, SlotExchangeController, SlotExchangeHandler } from './slot-connections.js';
import type { SlotTarget } from './targets.js';
import type { Upstream } from './upstream-pools.js';

/** Takes the listener's connections first; hands Node's server those (and what they sent) the fast lane does not serve. */
export function attachFastLane(server: Server, options: SiteProxyOptions): void {
  const [nodeConnection] = server.listeners('connection') as Array<(socket: Socket) => void>;
  if (!nodeConnection) throw new Error('the listener has no connection handler to hand requests to');
  server.removeListener('connection', nodeConnection);
  const lane = new FastLane(options, (socket) => nodeConnection.call(server, socket));
  server.on('connection', (socket: Socket) => lane.accept(socket));
  // Stopping closes the fast lane's idle connections too, and cuts its busy ones when told to cut Node's.
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    lane.closeIdle();
  };
  server.closeAllConnections = () => {
    closeAll();
    lane.closeAll();
  };
}

class FastLane {
  readonly connections = new Set<ClientConnection>();
  /** The listener stops: each connection closes once its answer is out. */
  closing = false;
  readonly keepAliveHeader: string;

  constructor(
    readonly options: SiteProxyOptions,
    readonly toNodeServer: (socket: Socket) => void,
  ) {
    this.keepAliveHeader = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.limits.keepAliveTimeoutMs / 1000)}\r\n`;
  }

  accept(socket: Socket): void {
    this.connections.add(new ClientConnection(socket, this));
  }

  closeIdle(): void {
    this.closing = true;
    for (const connection of this.connections) if (connection.idle) connection.socket.destroy();
  }

  closeAll(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }
}

/** One client connection while the fast lane serves it: one request at a time, the next one read once the answer is out. */
class ClientConnection {
  /** Received and not served yet: the next request (a pipelined one, while an answer is under way). */
  private pending: Buffer | undefined;
  private exchange: FastExchange | undefined;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  // A client that stops sending has left, as for Node's server: what it asked is abandoned.
  private readonly onEnd = () => {
    this.exchange?.clientLeft();
    this.socket.end();
  };
  private readonly onClose = () => this.closed();
  // An idle connection, or one opened and silent, is closed without a word (the client asked nothing); a busy one is the slot's to time.
  private readonly onTimeout = () => this.exchange === undefined && this.socket.destroy();
  /** The socket's timeout now: every read and write starts it again, so it is set only when it changes. */
  private timeoutMs: number;

  constructor(
    readonly socket: Socket,
    private readonly lane: FastLane,
  ) {
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onClose).on('timeout', this.onTimeout);
    socket.on('error', noop);
    this.timeoutMs = lane.options.limits.headersTimeoutMs;
    socket.setTimeout(this.timeoutMs);
  }

  get idle(): boolean {
    return this.exchange === undefined && this.pending === undefined;
  }

  private received(chunk: Buffer): void {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.exchange === undefined) return this.next();
    // A client sending ahead of its answers waits once a request's worth is buffered.
    if (this.pending.length > simpleHeadMaxBytes) this.socket.pause();
  }

  /** Serves the request the pending bytes begin with, or hands the connection to Node's server. */
  private next(): void {
    const pending = this.pending;
    if (pending === undefined) {
      if (this.lane.closing) return void this.socket.end();
      const { keepAliveTimeoutMs } = this.lane.options.limits;
      if (this.timeoutMs !== keepAliveTimeoutMs) this.socket.setTimeout((this.timeoutMs = keepAliveTimeoutMs));
      return;
    }
    const request = simpleRequestAt(pending);
    const { state } = this.lane.options;
    const target = state.target;
    if (request === undefined || target?.kind !== 'slot' || state.hold || state.canary) return this.handOver(pending);
    this.pending = request.length < pending.length ? pending.subarray(request.length) : undefined;
    this.exchange = new FastExchange(this.lane, this, request, pending.subarray(0, request.length), target);
  }

  /** The answer is out (or the request was handed on): the connection serves what the client sent next. */
  exchangeEnded(keepOpen: boolean): void {
    this.exchange = undefined;
    if (!keepOpen) return void this.socket.end();
    requestEnded(this.socket, this.socket.bytesRead - (this.pending?.length ?? 0));
    if (this.socket.isPaused()) this.socket.resume();
    // A request sent ahead is served once this call returns: the slot's connection is still inside its parser.
    if (this.pending !== undefined) process.nextTick(() => this.exchange === undefined && !this.socket.destroyed && this.next());
    else this.next();
  }

  /** What the client sent after the request under way, taken off the connection. */
  takePending(): Buffer | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }

  /** From here on Node's server reads this connection, beginning with `bytes` (received, not served). */
  handOver(bytes: Buffer | undefined): void {
    const { socket } = this;
    socket.pause();
    socket.off('data', this.onData).off('end', this.onEnd).off('close', this.onClose).off('timeout', this.onTimeout).off('error', noop);
    socket.setTimeout(0);
    this.lane.connections.delete(this);
    this.pending = undefined;
    requestEnded(socket, socket.bytesRead - (bytes?.length ?? 0));
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    this.lane.toNodeServer(socket);
    socket.resume();
  }

  private closed(): void {
    this.lane.connections.delete(this);
    this.exchange?.clientLeft();
  }
}

function noop() {}

/** HTTP's Date, made once a second. */
let dateSecond = 0;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

function writeHeadIfWaiting(exchange: FastExchange) {
  exchange.writeHeadIfWaiting();
}

/** A body this small leaves in the same write as the head: one string, no gathered write. */
const smallBodyBytes = 16 * 1024;

/**
 * One plain read proxied to a slot through the fast lane: counted in flight from the choice of its target until its
 * answer is out, as the proxy's own exchanges are. A slot that fails before answering leaves the client nothing
 * written: the request goes to Node's server with the failed attempt, and its proxy carries on from there (another
 * replica, one more try, or the 502/504 page).
 */
class FastExchange implements SlotExchangeHandler {
  private controller: SlotExchangeController | undefined;
  private readonly upstream: Upstream;
  private readonly series: SlotSeries;
  private readonly started = performance.now();
  private readonly close: boolean;
  private status = 0;
  private answered = false;
  private chunked = false;
  /** The answer's head, until it leaves with the first piece of the body (or alone). */
  private head: string | undefined;
  private ended = false;
  private stalled: NodeJS.Timeout | undefined;

  constructor(
    private readonly lane: FastLane,
    private readonly connection: ClientConnection,
    private readonly request: SimpleRequest,
    /** The request as the client sent it: what Node's server reads if the slot fails before answering. */
    private readonly raw: Buffer,
    private readonly target: SlotTarget,
  ) {
    const { options } = lane;
    this.close = request.close || lane.closing;
    this.series = options.metrics.of(target);
    this.series.begin();
    countInFlight(options, target);
    this.upstream = target.pick();
    const socket = connection.socket;
    const slotTimeoutMs = options.limits.slotTimeoutMs;
    this.upstream.connections.dispatch(
      {
        method: request.method,
        path: request.path,
        headers: upstreamRequestHeaders(request.headers, socket.remoteAddress ?? 'unknown', options.trustForwardedHeaders),
        body: null,
        headersTimeout: slotTimeoutMs,
        bodyTimeout: slotTimeoutMs,
      },
      this,
    );
  }

  onRequestStart(controller: SlotExchangeController): void {
    this.controller = controller;
    if (this.ended) controller.abort(new Error('the client left'));
  }

  onResponseStart(_controller: SlotExchangeController, statusCode: number, headers: string[], statusMessage: string): void {
    this.answered = true;
    this.status = statusCode;
    const passed = endToEndHeaders(headers);
    let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
    let length = false;
    let date = false;
    for (let i = 0; i + 1 < passed.length; i += 2) {
      const name = passed[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
      head += `${name}: ${passed[i + 1]!}\r\n`;
    }
    if (!date) head += `date: ${httpDate()}\r\n`;
    // A body of unknown length (chunked by the slot, or until it closes) reaches the client chunked.
    const bodyless = this.request.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    this.chunked = !bodyless && !length;
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    head += this.close ? 'connection: close\r\n\r\n' : `${this.lane.keepAliveHeader}\r\n`;
    // The head waits for what came of the body with it (one write), or leaves alone if the slot sent it alone.
    this.head = head;
    process.nextTick(writeHeadIfWaiting, this);
  }

  writeHeadIfWaiting(): void {
    if (this.head === undefined) return;
    this.connection.socket.write(this.head, 'latin1');
    this.head = undefined;
  }

  onResponseData(controller: SlotExchangeController, chunk: Buffer): void {
    const socket = this.connection.socket;
    let written: boolean;
    if (this.head !== undefined && chunk.length <= smallBodyBytes) {
      const body = chunk.toString('latin1');
      written = socket.write(this.head + (this.chunked ? `${chunk.length.toString(16)}\r\n${body}\r\n` : body), 'latin1');
      this.head = undefined;
    } else {
      this.writeHeadIfWaiting();
      if (this.chunked) {
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        written = socket.write('\r\n', 'latin1');
      } else written = socket.write(chunk);
    }
    if (written) return;
    const giveUp = () => this.cutOff('the client stopped reading');
    this.stalled = holdSlotForClient(socket, controller, this.lane.options.limits.slotTimeoutMs, giveUp);
  }

  onResponseEnd(): void {
    if (this.chunked) {
      this.connection.socket.write(`${this.head ?? ''}0\r\n\r\n`, 'latin1');
      this.head = undefined;
    } else this.writeHeadIfWaiting();
    this.end(outcomeOfStatus(this.status));
    this.connection.exchangeEnded(!this.close);
  }

  onResponseError(_controller: SlotExchangeController, error: SlotError): void {
    if (this.ended) return;
    if (this.answered) {
      // The slot broke off mid-answer: so does the connection to the client, rather than end a truncated body cleanly.
      const { site, channel, logger } = this.lane.options;
      logger.warn(
        { site, channel, slotId: this.upstream.slotId, err: error.code ?? error.message },
        `${this.upstream.label} broke off its answer`,
      );
      this.end(outcome.proxyError);
      return void this.connection.socket.destroy();
    }
    this.end(undefined);
    keepFailedAttempt(this.connection.socket as ClientSocket, { target: this.target, upstream: this.upstream, error });
    this.connection.handOver(this.pendingWith(this.raw));
  }

  /** The client closed its connection: the slot's side is abandoned too. */
  clientLeft(): void {
    if (this.ended) return;
    this.end(outcome.clientClosed);
    this.controller?.abort(new Error('the client left'));
  }

  private cutOff(why: string): void {
    const { site, channel, logger } = this.lane.options;
    logger.warn(
      { site, channel, slotId: this.upstream.slotId, url: this.request.path },
      `response of ${this.upstream.label} cut off: ${why}`,
    );
    this.controller?.abort(new Error(`cut off: ${why}`));
    this.connection.socket.destroy();
  }

  /** The request's bytes followed by what the client sent after it. */
  private pendingWith(raw: Buffer): Buffer {
    const after = this.connection.takePending();
    return after === undefined ? raw : Buffer.concat([raw, after]);
  }

  /** No longer in flight: counted by outcome, or not at all when Node's server takes the request over. */
  private end(outcomeIndex: number | undefined): void {
    this.ended = true;
    clearTimeout(this.stalled);
    if (outcomeIndex === undefined) this.series.passedOn();
    else this.series.end(outcomeIndex, (performance.now() - this.started) / 1000);
    uncountInFlight(this.lane.options, this.target);
  }
}
