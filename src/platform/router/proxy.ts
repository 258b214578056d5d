import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { endToEndHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import { answerBadGateway, answerGatewayTimeout, answerMaintenance, answerNoVersion } from './router-answers.js';
import { targetKey, type Channel, type SlotRoute } from './routes.js';
import type { Switchboard } from './switchboard.js';

export interface SiteProxyOptions {
  switchboard: Switchboard;
  site: string;
  /** 'live' for the public listener, 'preview' for the preview listener. */
  channel: Channel;
  /** Shared keep-alive pool to the slots: connections are per target, so a switch never reuses the old one. */
  agent: Agent;
  logger: Logger;
  limits: ListenerLimits;
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
  server.maxConnections = limits.maxConnections;
  let lastDropLog = 0;
  server.on('drop', () => {
    if (Date.now() - lastDropLog < 10_000) return;
    lastDropLog = Date.now();
    const message = `connection limit of the ${channel} listener of ${site} reached: new connections are closed`;
    logger.warn({ site, channel, maxConnections: limits.maxConnections }, message);
  });
  // Bytes the socket had read when its last request ended: more since then means a new request began.
  const readAtLastRequest = new WeakMap<Socket, number>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    response.once('finish', () => readAtLastRequest.set(request.socket, request.socket.bytesRead));
  });
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const receiving = socket.bytesRead > (readAtLastRequest.get(socket) ?? 0);
    const answer = clientErrorAnswer(error, receiving);
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

export function createUpstreamAgent(): Agent {
  return new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo' });
}

function handle(options: SiteProxyOptions, request: IncomingMessage, response: ServerResponse) {
  const { switchboard, site, channel } = options;
  const route = switchboard.route(site, channel);
  if (route === null) return answerNoVersion(request, response, site, channel);
  if (route.kind === 'maintenance') return answerMaintenance(request, response, site, route.message);
  // Counted from the moment the target is chosen, so a switch right after this line still waits for it.
  const inFlight = switchboard.inFlight.start(targetKey(route), site, channel);
  response.once('close', inFlight.finish);
  forward(options, request, response, route);
}

/** A request without a body can be sent again when a pooled connection turned out to be closed by the slot. */
function hasNoBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

function forward(options: SiteProxyOptions, request: IncomingMessage, response: ServerResponse, route: SlotRoute) {
  const { logger, site, channel } = options;
  const bodyless = hasNoBody(request);
  const headers = upstreamRequestHeaders(request, options.trustForwardedHeaders);
  let upstream: ClientRequest | undefined;
  let answered = false;
  let clientLeft = false;

  // The client left before the response ended: stop the work upstream too.
  response.once('close', () => {
    if (response.writableFinished) return;
    clientLeft = true;
    upstream?.destroy();
  });
  request.on('error', () => upstream?.destroy());

  const attempt = (retriesLeft: number) => {
    const current = httpRequest({ host: route.host, port: route.port, method: request.method, path: request.url, headers, agent: options.agent });
    upstream = current;
    // Once the request is sent, no progress for this long (no answer, or a stalled response) gives the slot up.
    // Until then the client's own requestTimeout bounds a slow upload.
    const limitSilence = () =>
      current.setTimeout(options.limits.slotTimeoutMs, () => {
        const where = `slot ${route.slotId} at ${route.host}:${route.port}`;
        current.destroy();
        if (answered) {
          const who = response.writableNeedDrain ? 'the client stopped reading' : 'the slot went silent';
          logger.warn({ site, channel, slotId: route.slotId, url: request.url }, `response of ${where} cut off: ${who}`);
          return response.destroy();
        }
        answered = true;
        const detail = `${where} did not answer within ${options.limits.slotTimeoutMs} ms`;
        logger.error({ site, channel, slotId: route.slotId, method: request.method, url: request.url }, detail);
        if (response.headersSent) response.destroy();
        else answerGatewayTimeout(request, response, site, detail);
      });
    if (bodyless) limitSilence();
    else request.once('end', limitSilence);
    current.on('response', (reply) => {
      answered = true;
      if (clientLeft) return void reply.resume();
      response.writeHead(reply.statusCode ?? 502, reply.statusMessage, endToEndHeaders(reply));
      response.flushHeaders();
      reply.pipe(response);
      // The slot broke off mid-body: break off to the client too, rather than end a truncated body cleanly.
      reply.on('error', () => response.destroy());
      reply.once('close', () => {
        if (!reply.complete) response.destroy();
      });
    });
    current.on('error', (error: NodeJS.ErrnoException) => {
      if (answered || clientLeft) return;
      if (bodyless && retriesLeft > 0 && current.reusedSocket && error.code === 'ECONNRESET') return attempt(retriesLeft - 1);
      const where = `slot ${route.slotId} at ${route.host}:${route.port}`;
      const detail =
        error.code === 'ECONNREFUSED' ? `${where} refused the connection (is it running?)` : `${where} failed before answering: ${error.code ?? error.message}`;
      logger.error({ site, channel, slotId: route.slotId, target: `${route.host}:${route.port}`, err: error.code ?? error.message, method: request.method, url: request.url }, detail);
      if (response.headersSent) response.destroy();
      else answerBadGateway(request, response, site, detail);
    });
    if (bodyless) current.end();
    else request.pipe(current);
  };
  attempt(1);
}
