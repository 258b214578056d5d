import { isPortFree } from '../../src/process/free-port.js';

const handedOut = new Set<number>();

/**
 * A free loopback port for a process that starts listening only later (after a build, say): taken below the kernel's
 * ephemeral range (32768-60999 on Linux), so no outgoing connection of another test can take it in the meantime.
 */
export async function portToListenOnLater(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || !(await isPortFree(port))) continue;
    handedOut.add(port);
    return port;
  }
}
