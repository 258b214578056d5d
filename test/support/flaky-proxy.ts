/** A TCP proxy in front of a database that can refuse new connections for a while; open ones carry on. */
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from '../../src/process/free-port.js';

export async function startFlakyProxy(targetPort: number) {
  const port = await freePort();
  let refuseUntil = 0;
  let refused = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      refused++;
      client.destroy();
      return;
    }
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
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    refuseNewConnectionsFor(ms: number) {
      refuseUntil = Date.now() + ms;
    },
    get refused() {
      return refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
