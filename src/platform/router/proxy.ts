import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { endToEndHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import type { InFlightCount } from './in-flight.js';
import { outcome, outcomeOfStatus, type ListenerMetrics, type SlotSeries } from './metrics.js';
import { answerBadGateway, answerBadRequest, answerGatewayTimeout, answerMaintenance, answerNoVersion } from './router-answers.js';
import type { Channel } from '../data-plane/target-fields.js';
import type { ListenerState } from './switchboard.js';
import { slotErrorCodes, type SlotError, type SlotExchangeController, type SlotExchangeHandler } from './slot-connections.js';
import type { SlotTarget } from './targets.js';
import type { Upstream } from './upstream-pools.js';
import { receivingRequest, requestEnded, takeFailedAttempt, type ClientSocket } from './client-socket.js';
import { attachFastLane } from './fast-lane.js';
import { countInFlight, holdSlotForClient, uncountInFlight } from './relay.js';

export interface SiteProxyOptions {
  /** What the listener serves, switched by the admin API. */
  state: ListenerState;
  site: string;
  /** 'live' for the public listener, 'preview' for the preview listener. */
  channel: Channel;
  /** Every request of the router in flight (shutdown waits for it). */
  inFlight: InFlightCount;
  logger: Logger;
  limits: ListenerLimits;
  /** What this listener counts: requests by outcome, durations, in flight, per slot. */
  metrics: ListenerMetrics;
  /** Keep clients' X-Forwarded-*, Forwarded and X-Real-IP (a trusted proxy in front set them); else the router's own replace them. */
  trustForwardedHeaders: boolean;
}

/** router.limits of the config, in milliseconds. */
export interface ListenerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  slotTimeoutMs: number;
}

/** One listener of one site: every request looks its target up when it arrives, so a switch takes effect on the next request. */
export function createSiteProxy(options: SiteProxyOptions): Server {
  const { limits, logger, site, channel } = options;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default): a slow client would outlive them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (request, response) => handle(options, request, response),
  );
  attachFastLane(server, options);
  server.maxConnections = limits.maxConnections;
  let lastDropLog = 0;
  server.on('drop', () => {
    if (Date.now() - lastDropLog < 10_000) return;
    lastDropLog = Date.now();
    const message = `connection limit of the ${channel} listener of ${site} reached: new connections are closed`;
    logger.warn({ site, channel, maxConnections: limits.maxConnections }, message);
  });
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: ClientSocket) => {
    const answer = clientErrorAnswer(error, receivingRequest(socket));
    const writable = socket.writable && !socket.writableEnded;
    if (answer && writable) socket.end(`HTTP/1.1 ${answer}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
    logger.debug({ site, channel, err: error.code ?? error.message, answered: answer ?? 'nothing' }, 'client connection error');
  });
  return server;
}

/**
 * The status line for a client error, or none: a connection on which nothing was sent since the last
 * request (idle, or opened and silent) is closed without a word, as the client asked nothing.
 */
function clientErrorAnswer(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, receiving: boolean): string | undefined {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return receiving ? '408 Request Timeout' : undefined;
  if (error.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  // Parse errors carry the bytes that broke the request; socket errors (a reset) have no request to answer.
  return error.code?.startsWith('HPE_') && receiving ? '400 Bad Request' : undefined;
}

function handle(options: SiteProxyOptions, request: IncomingMessage, response: ServerResponse, started = performance.now()) {
  const { state, site } = options;
  // Traffic held for a switch: the request waits for the next target (counted from its arrival), or the maintenance page.
  if (state.hold) {
    const resume = () => handle(options, request, response, started);
    return state.hold.add(response, resume, () => expireHeld(options, request, response, started));
  }
  let target = state.target;
  let setCookie: string | undefined;
  // A canary takes its share of clients (and the allow-list) from a live slot, never from a page the router answers.
  if (state.canary && target?.kind === 'slot') {
    const choice = state.canary.choose(request);
    if (choice.canary) target = state.canary.target;
    setCookie = choice.setCookie;
  }
  const series = options.metrics.of(target);
  const path = target?.kind === 'slot' ? originForm(request.url!) : undefined;
  if (target?.kind === 'slot' && path !== undefined) {
    const exchange = new Exchange(options, request, response, target, path, series, started, setCookie);
    const failed = takeFailedAttempt(request.socket, target);
    return failed ? exchange.carryOn(failed.upstream, failed.error) : exchange.send(target.pick());
  }
  // The router answers itself: a page written at once.
  if (target === null) answerNoVersion(request, response, site, options.channel);
  else if (target.kind === 'maintenance') answerMaintenance(request, response, site, target.route.message);
  else answerBadRequest(request, response, site, `the request target must be a path, got ${JSON.stringify(request.url)}`);
  series.count(outcomeOfStatus(response.statusCode), (performance.now() - started) / 1000);
  requestEnded(request.socket);
}

/** A request held longer than its hold allows: the maintenance page, with Retry-After, rather than an endless wait. */
function expireHeld(options: SiteProxyOptions, request: IncomingMessage, response: ServerResponse, started: number) {
  if (response.headersSent || response.destroyed) return;
  answerMaintenance(request, response, options.site, 'The switch to a new version took longer than expected. Please try again shortly.');
  options.metrics.of(options.state.target).count(outcomeOfStatus(response.statusCode), (performance.now() - started) / 1000);
  requestEnded(request.socket);
}

/** The path to ask a slot for: as sent, or the path of an absolute URL (sent to a proxy); undefined for anything else ("*"). */
function originForm(url: string): string | undefined {
  if (url.startsWith('/')) return url;
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    const { pathname, search } = new URL(url);
    return pathname + search;
  } catch {
    return undefined;
  }
}

function flushHeadersIfWaiting(exchange: Exchange) {
  exchange.flushHeadersIfWaiting();
}

/** Sent again once when a pooled connection to the slot turns out to have been closed by it: no body, and safe to repeat. */
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Errors of a connection the slot closed or reset under a request it had not answered. */
const connectionLost = new Set<string>([slotErrorCodes.closed, 'ECONNRESET', 'EPIPE']);

/** Errors of a connection that never opened: the request never reached the slot, and another replica may take it. */
const neverConnected = new Set<string>(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', slotErrorCodes.connectTimeout]);

/** How long a replica that did not take a connection is passed over (a host lost, a slot gone). */
const UNREACHABLE_MS = 10_000;

/**
 * One request proxied to a slot, streamed both ways: the handler of its exchange with the slot for the slot's side, the listener's
 * response for the client's. It counts as in flight from the moment its target was chosen until the client's
 * response closed, so a switch right after the choice still waits for it.
 */
class Exchange implements SlotExchangeHandler {
  private controller: SlotExchangeController | undefined;
  private upstream!: Upstream;
  private readonly bodyless: boolean;
  private retriesLeft: number;
  /** Other replicas of the target to try when one does not take the connection. */
  private otherReplicasLeft: number;
  private answered = false;
  /** The status the slot answered (once answered). */
  private status = 0;
  /** The slot gave no complete answer: refused, timed out, failed or broke off. */
  private slotFailed = false;
  private bodyStarted = false;
  private clientLeft = false;
  private stalled: NodeJS.Timeout | undefined;
  private readonly socket: ClientSocket | null;

  constructor(
    private readonly options: SiteProxyOptions,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly target: SlotTarget,
    private readonly path: string,
    private readonly series: SlotSeries,
    private readonly started: number,
    /** The canary cookie a new client gets with the slot's answer. */
    private readonly setCookie: string | undefined,
  ) {
    this.socket = request.socket;
    series.begin();
    countInFlight(options, target);
    const length = request.headers['content-length'];
    this.bodyless = request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
    this.retriesLeft = this.bodyless && idempotent.has(request.method!) ? 1 : 0;
    this.otherReplicasLeft = this.bodyless && idempotent.has(request.method!) ? target.upstreams.length - 1 : 0;
    // Each is emitted once: `on` spares the wrapper `once` makes on every request.
    response.on('close', () => this.closed());
    request.on('error', () => this.controller?.abort(new Error('the client request failed')));
  }

  send(upstream: Upstream) {
    this.upstream = upstream;
    const { request } = this;
    const slotTimeoutMs = this.options.limits.slotTimeoutMs;
    upstream.connections.dispatch(
      {
        path: this.path,
        method: request.method!,
        headers: upstreamRequestHeaders(request.rawHeaders, request.socket.remoteAddress ?? 'unknown', this.options.trustForwardedHeaders),
        body: this.bodyless ? null : request,
        // Counted from when the request was sent: until then the client's own requestTimeout bounds a slow upload.
        headersTimeout: slotTimeoutMs,
        bodyTimeout: slotTimeoutMs,
      },
      this,
    );
  }

  /** The fast lane's attempt at `upstream` failed before any answer: go on as if this exchange's own first attempt had. */
  carryOn(upstream: Upstream, error: SlotError) {
    this.upstream = upstream;
    this.onResponseError(undefined, error);
  }

  onRequestStart(controller: SlotExchangeController) {
    this.controller = controller;
    if (this.clientLeft) controller.abort(new Error('the client left'));
  }

  onResponseStart(controller: SlotExchangeController, statusCode: number, headers: string[], statusMessage: string) {
    this.answered = true;
    this.status = statusCode;
    try {
      const passed = endToEndHeaders(headers);
      if (this.setCookie !== undefined) passed.push('set-cookie', this.setCookie);
      this.response.writeHead(statusCode, statusMessage, passed);
    } catch (error) {
      this.answered = false;
      return controller.abort(error as Error);
    }
    // A body that came with the headers leaves with them; a slot still working on it has its headers sent now.
    process.nextTick(flushHeadersIfWaiting, this);
  }

  /** Headers still held for the body to come (the slot sent them alone): the client gets them now. */
  flushHeadersIfWaiting() {
    if (!this.bodyStarted && !this.clientLeft) this.response.flushHeaders();
  }

  onResponseData(controller: SlotExchangeController, chunk: Buffer) {
    this.bodyStarted = true;
    if (this.response.write(chunk)) return;
    const giveUp = () => this.cutOff('the client stopped reading');
    this.stalled = holdSlotForClient(this.response, controller, this.options.limits.slotTimeoutMs, giveUp);
  }

  onResponseEnd() {
    this.bodyStarted = true;
    this.response.end();
  }

  onResponseError(_controller: SlotExchangeController | undefined, error: SlotError) {
    if (this.clientLeft) return;
    const { upstream, request } = this;
    if (this.answered) {
      this.slotFailed = true;
      // The slot broke off or went silent mid-body: break off to the client too, rather than end a truncated body cleanly.
      if (error.code === slotErrorCodes.bodyTimeout) this.cutOff('the slot went silent');
      else this.response.destroy();
      return;
    }
    if (neverConnected.has(error.code ?? '')) {
      upstream.unreachableUntil = performance.now() + UNREACHABLE_MS;
      const other = this.otherReplicasLeft > 0 ? this.target.pick() : upstream;
      if (other !== upstream) {
        this.otherReplicasLeft -= 1;
        this.options.logger.warn(
          { slotId: upstream.slotId, err: error.code },
          `${upstream.label} did not take the connection: another replica takes it`,
        );
        return void setImmediate(() => this.clientLeft || this.send(other));
      }
    }
    if (this.retriesLeft > 0 && connectionLost.has(error.code ?? '')) {
      this.retriesLeft -= 1;
      // Once the lost connection is done with: sent from inside its error callback, the request would follow it.
      return void setImmediate(() => this.clientLeft || this.send(upstream));
    }
    this.slotFailed = true;
    const { site, channel, logger } = this.options;
    const timedOut = error.code === slotErrorCodes.headersTimeout || error.code === slotErrorCodes.connectTimeout;
    const detail =
      error.code === slotErrorCodes.headersTimeout
        ? `${upstream.label} did not answer within ${this.options.limits.slotTimeoutMs} ms`
        : error.code === slotErrorCodes.connectTimeout
          ? `${upstream.label} did not accept the connection in time`
          : error.code === 'ECONNREFUSED'
            ? `${upstream.label} refused the connection (is it running?)`
            : `${upstream.label} failed before answering: ${error.code ?? error.message}`;
    const context = { site, channel, slotId: upstream.slotId, err: error.code ?? error.message, method: request.method, url: request.url };
    logger.error(context, detail);
    if (this.response.headersSent) this.response.destroy();
    else if (timedOut) answerGatewayTimeout(request, this.response, site, detail);
    else answerBadGateway(request, this.response, site, detail);
  }

  private cutOff(why: string) {
    const { site, channel, logger } = this.options;
    const context = { site, channel, slotId: this.upstream.slotId, url: this.request.url };
    logger.warn(context, `response of ${this.upstream.label} cut off: ${why}`);
    this.controller?.abort(new Error(`cut off: ${why}`));
    this.response.destroy();
  }

  /** The client's response closed: finished, or the client left (then the slot's side is abandoned too). */
  private closed() {
    clearTimeout(this.stalled);
    if (!this.response.writableFinished) {
      this.clientLeft = true;
      this.controller?.abort(new Error('the client left'));
    } else requestEnded(this.socket);
    const ended = this.slotFailed ? outcome.proxyError : this.answered ? outcomeOfStatus(this.status) : outcome.clientClosed;
    this.series.end(ended, (performance.now() - this.started) / 1000);
    uncountInFlight(this.options, this.target);
  }
}
