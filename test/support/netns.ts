/**
 * Test hosts: several "machines" on this one, each a Linux network namespace with its own address on a private
 * /24 behind a bridge in the root namespace, so tests run a host agent and its slots per host behind a real data
 * plane. Needs root. Traffic stays between the root namespace and the namespaces made here: they get no default
 * route, and the /24 is chosen so it collides with no existing route.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isSameProcessAlive, readProcessStat } from '../../src/platform/agent/proc.js';

const run = promisify(execFile);

/** Every namespace and link made here starts with this; names have 15 characters at most (Linux's limit for links). */
export const TEST_HOST_PREFIX = 'cutover-t';
/** One file per live run, naming its owner process: what a later run's cleanup leaves alone. */
const RUNS_DIR = '/run/cutover-test-hosts';
const NAMESPACE = /^cutover-t([0-9a-f]{3})-(h\d+|probe)$/;
const LINK = /^cutover-t([0-9a-f]{3})(h\d+|br|p)$/;
const MAX_HOSTS = 99;

export interface TestHost {
  /** The host name Cutover knows it by (h1, h2, ... unless named). */
  name: string;
  namespace: string;
  /** Its address on the private /24: where the root namespace (the data plane) reaches it. */
  address: string;
  /** Its link in the root namespace (the bridge port). */
  link: string;
  /** Starts a process inside the host (`ip netns exec`), in its own process group; close() kills it. */
  exec(command: string, args?: string[], options?: SpawnOptions): ChildProcess;
  /** Host lost: its link goes down, nothing gets to or from it, open connections stall. */
  cut(): Promise<void>;
  /** The link comes back up; open connections carry on if neither side gave up meanwhile. */
  restore(): Promise<void>;
}

export interface TestHosts {
  hosts: TestHost[];
  /** The root namespace's address on the /24 (a service bound there is reachable from every host). */
  rootAddress: string;
  /** The private /24, like 10.23.45.0/24. */
  subnet: string;
  bridge: string;
  /** Kills every process in the hosts, deletes the namespaces, links and bridge. */
  close(): Promise<void>;
}

export interface CreateHostsOptions {
  /** Host names, h1..hn by default. */
  names?: string[];
}

/** Why test hosts cannot be made here (not root, namespaces or links not permitted), or null when they can. */
export async function testHostsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'test hosts need root (network namespaces)';
  const run = await claimRun().catch((error: Error) => error);
  if (run instanceof Error) return `cannot record test hosts in ${RUNS_DIR}: ${run.message}`;
  const namespace = `${TEST_HOST_PREFIX}${run.id}-probe`;
  const link = `${TEST_HOST_PREFIX}${run.id}p`;
  try {
    await ip('netns', 'add', namespace);
    await ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
    return null;
  } catch (error) {
    return `network namespaces are not permitted here: ${(error as Error).message}`;
  } finally {
    await ipQuiet('link', 'del', link);
    await ipQuiet('netns', 'del', namespace);
    await run.release();
  }
}

/** Makes n test hosts on a fresh bridge; removes what crashed earlier runs left first. */
export async function createHosts(n: number, options: CreateHostsOptions = {}): Promise<TestHosts> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`createHosts: n must be 1 to ${MAX_HOSTS}, got ${n}`);
  const names = options.names ?? Array.from({ length: n }, (_, i) => `h${i + 1}`);
  if (names.length !== n) throw new Error(`createHosts: names must list ${n} hosts, got ${names.length}`);
  await cleanupStaleHosts();
  const owner = await claimRun();
  const base = `${TEST_HOST_PREFIX}${owner.id}`;
  const bridge = `${base}br`;
  const children = new Set<ChildProcess>();
  const namespaces: string[] = [];
  const links: string[] = [bridge];

  const close = async () => {
    for (const child of children) killGroup(child);
    await Promise.all(namespaces.map(killEverythingIn));
    for (const namespace of namespaces) await ipQuiet('netns', 'del', namespace);
    for (const link of links) await ipQuiet('link', 'del', link);
    await owner.release();
  };

  try {
    const prefix = await freeSubnet();
    const rootAddress = `${prefix}.1`;
    await ip('link', 'add', bridge, 'type', 'bridge', 'forward_delay', '0');
    await ip('addr', 'add', `${rootAddress}/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    const hosts: TestHost[] = [];
    for (const [i, name] of names.entries()) {
      const namespace = `${base}-h${i + 1}`;
      const link = `${base}h${i + 1}`;
      const address = `${prefix}.${10 + i + 1}`;
      await ip('netns', 'add', namespace);
      namespaces.push(namespace);
      await ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
      links.push(link);
      await ip('link', 'set', link, 'master', bridge, 'up');
      await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      await ip('-n', namespace, 'link', 'set', 'eth0', 'up');
      await ip('-n', namespace, 'link', 'set', 'lo', 'up');
      hosts.push({
        name,
        namespace,
        address,
        link,
        exec(command, args = [], spawnOptions = {}) {
          const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { detached: true, ...spawnOptions });
          children.add(child);
          child.once('exit', () => children.delete(child));
          return child;
        },
        cut: () => ip('link', 'set', link, 'down'),
        restore: () => ip('link', 'set', link, 'up'),
      });
    }
    return { hosts, rootAddress, subnet: `${prefix}.0/24`, bridge, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Removes the namespaces and links of test-host runs whose process is gone (a crashed or killed run). */
export async function cleanupStaleHosts(): Promise<{ namespaces: string[]; links: string[] }> {
  const live = await liveRuns();
  const removed = { namespaces: [] as string[], links: [] as string[] };
  for (const namespace of await namespaceNames()) {
    const id = NAMESPACE.exec(namespace)?.[1];
    if (!id || live.has(id)) continue;
    await killEverythingIn(namespace);
    if (await ipQuiet('netns', 'del', namespace)) removed.namespaces.push(namespace);
  }
  for (const link of await linkNames()) {
    const id = LINK.exec(link)?.[1];
    if (!id || live.has(id)) continue;
    if (await ipQuiet('link', 'del', link)) removed.links.push(link);
  }
  return removed;
}

/** Names of the network namespaces (`ip netns list`). */
export async function namespaceNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  return stdout.trim() ? (JSON.parse(stdout) as Array<{ name: string }>).map((n) => n.name) : [];
}

/** Names of the links in the root namespace (`ip -j link`). */
export async function linkNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'link']);
  return (JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/** For teardown: true when it worked, false when there was nothing to remove. */
async function ipQuiet(...args: string[]): Promise<boolean> {
  return ip(...args).then(
    () => true,
    () => false,
  );
}

/** A run id no live run holds, claimed by creating its record (O_EXCL), before any namespace or link exists. */
async function claimRun(): Promise<{ id: string; release(): Promise<void> }> {
  await mkdir(RUNS_DIR, { recursive: true, mode: 0o700 });
  const stat = await readProcessStat(process.pid);
  for (let attempt = 0; attempt < 50; attempt++) {
    const id = randomBytes(2).toString('hex').slice(0, 3);
    const file = join(RUNS_DIR, `${id}.json`);
    let handle;
    try {
      handle = await open(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await handle.writeFile(JSON.stringify({ pid: process.pid, startTime: stat?.startTime ?? '' }));
    await handle.close();
    return { id, release: () => rm(file, { force: true }) };
  }
  throw new Error(`no free test-host run id in ${RUNS_DIR}`);
}

/** Run ids whose owner process still lives; the records of dead ones are removed. */
async function liveRuns(): Promise<Set<string>> {
  const live = new Set<string>();
  const files = await readdir(RUNS_DIR).catch(() => [] as string[]);
  for (const file of files.filter((f) => /^[0-9a-f]{3}\.json$/.test(f))) {
    const id = file.slice(0, 3);
    let owner: { pid?: number; startTime?: string } = {};
    try {
      owner = JSON.parse(await readFile(join(RUNS_DIR, file), 'utf8')) as typeof owner;
    } catch {
      // just claimed, not written yet: its owner is alive
      live.add(id);
      continue;
    }
    if (owner.pid && owner.startTime && (await isSameProcessAlive(owner.pid, owner.startTime))) live.add(id);
    else await rm(join(RUNS_DIR, file), { force: true });
  }
  return live;
}

/** SIGKILL to every process in a namespace (detached slots included) and wait until none is left. */
async function killEverythingIn(namespace: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await run('ip', ['netns', 'pids', namespace]).then(
      ({ stdout }) => stdout.split(/\s+/).filter(Boolean).map(Number),
      () => [] as number[],
    );
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`processes in test host ${namespace} did not die`);
}

function killGroup(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** A random 10.x.y.0/24 that overlaps no route and no address of the root namespace. */
async function freeSubnet(): Promise<string> {
  const [routes, addresses] = await Promise.all([
    run('ip', ['-4', '-j', 'route', 'show', 'table', 'all']),
    run('ip', ['-4', '-j', 'addr']),
  ]);
  const taken: Array<[number, number]> = [];
  for (const route of JSON.parse(routes.stdout) as Array<{ dst?: string }>) {
    if (route.dst && route.dst !== 'default') taken.push(parsePrefix(route.dst));
  }
  for (const link of JSON.parse(addresses.stdout) as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>) {
    for (const a of link.addr_info ?? []) if (a.local) taken.push(parsePrefix(`${a.local}/${a.prefixlen ?? 32}`));
  }
  for (let attempt = 0; attempt < 1000; attempt++) {
    const [x, y] = randomBytes(2);
    const candidate = parsePrefix(`10.${x}.${y}.0/24`);
    if (!taken.some((t) => overlaps(t, candidate))) return `10.${x}.${y}`;
  }
  throw new Error('no free 10.x.y.0/24 for test hosts: every one overlaps a route');
}

/** [network as uint32, prefix length] */
function parsePrefix(text: string): [number, number] {
  const [address = '', length] = text.split('/');
  const value = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const bits = length === undefined ? 32 : Number(length);
  return [value, bits];
}

function overlaps([a, aBits]: [number, number], [b, bBits]: [number, number]): boolean {
  const bits = Math.min(aBits, bBits);
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}
