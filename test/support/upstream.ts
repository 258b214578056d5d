/** Slot stand-ins for the tests of the data planes and the built-in router: small HTTP servers on ports of their own. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../src/process/free-port.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const handedOut = new Set<number>();
/** freePort, never the same one twice in a test file. */
export async function distinctFreePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A slot stand-in on 127.0.0.1: answers its own name unless given a handler, records when each request arrived. */
export interface Upstream {
  name: string;
  port: number;
  /** performance.now() at each request's arrival. */
  arrivals: number[];
  server: Server;
  close(): Promise<void>;
}

export async function startUpstream(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void,
): Promise<Upstream> {
  const port = await distinctFreePort();
  const upstream: Upstream = {
    name,
    port,
    arrivals: [],
    server: createServer((req, res) => {
      upstream.arrivals.push(performance.now());
      if (handler) return handler(req, res, upstream);
      req.resume();
      req.on('end', () => res.end(name));
    }),
    close: () =>
      new Promise((resolve) => {
        upstream.server.closeAllConnections();
        upstream.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => upstream.server.listen(port, '127.0.0.1', resolve));
  return upstream;
}
