/**
 * A loopback service (the run's Temporal or PostgreSQL) made reachable from test hosts: a TCP forwarder listening on
 * the root-side address of the test hosts' bridge, a private address only the tests' namespaces reach.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface Forward {
  /** The port it listens on, at the address it was given. */
  port: number;
  close(): Promise<void>;
}

/** Forwards <listenAddress>:<port> (a free one) to 127.0.0.1:<targetPort>. */
export async function forwardToLoopback(listenAddress: string, targetPort: number): Promise<Forward> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, listenAddress, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
