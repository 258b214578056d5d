import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { endToEndHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import { answerBadGateway, answerMaintenance, answerNoVersion } from './router-answers.js';
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
}

/** One listener of one site: every request looks its target up when it arrives, so a switch takes effect on the next request. */
export function createSiteProxy(options: SiteProxyOptions): Server {
  const server = createServer((request, response) => handle(options, request, response));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.writableEnded) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
    options.logger.debug({ site: options.site, channel: options.channel, err: error.code ?? error.message }, 'bad client request');
  });
  return server;
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
  const headers = upstreamRequestHeaders(request);
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
