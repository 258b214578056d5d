/** Steady public traffic through the router: every read and write recorded, none assumed. */
import { Agent, request } from 'node:http';

export interface TrafficReport {
  reads: number;
  failedReads: Array<{ at: number; status: number | string }>;
  writes: number;
  acceptedWrites: string[];
  refusedWrites: Array<{ at: number; status: number; message: string }>;
  failedWrites: Array<{ at: number; status: number | string; text?: string }>;
  versions: Map<string, number>;
  /** performance.now() of the first read answered by each version. */
  firstSeen: Map<string, number>;
  readLatenciesMs: number[];
}

function call(
  agent: Agent,
  url: URL,
  method: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: body ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Readers loop GET /notes; a writer POSTs /notes with unique bodies; `write: false` for reads only. */
export function startTraffic(
  baseUrl: string,
  options: { readers?: number; write?: boolean; writeEveryMs?: number; readPath?: string } = {},
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const report: TrafficReport = {
    reads: 0,
    failedReads: [],
    writes: 0,
    acceptedWrites: [],
    refusedWrites: [],
    failedWrites: [],
    versions: new Map(),
    firstSeen: new Map(),
    readLatenciesMs: [],
  };
  let running = true;
  const started = Date.now();
  const readers = Array.from({ length: options.readers ?? 4 }, async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await call(agent, new URL(options.readPath ?? '/notes', baseUrl), 'GET');
        report.reads++;
        report.readLatenciesMs.push(performance.now() - t0);
        if (res.status !== 200) report.failedReads.push({ at: Date.now() - started, status: res.status });
        const version = String(res.headers['x-app-version'] ?? 'none');
        report.versions.set(version, (report.versions.get(version) ?? 0) + 1);
        if (!report.firstSeen.has(version)) report.firstSeen.set(version, performance.now());
      } catch (error) {
        report.reads++;
        report.failedReads.push({ at: Date.now() - started, status: (error as Error).message });
      }
    }
  });
  const writer = (async () => {
    if (options.write === false) return;
    let n = 0;
    while (running) {
      const body = `traffic-${started}-${n++}`;
      try {
        const res = await call(agent, new URL('/notes', baseUrl), 'POST', JSON.stringify({ body }));
        report.writes++;
        if (res.status === 201) report.acceptedWrites.push(body);
        else if (res.status === 503 && /read-only/.test(res.text))
          report.refusedWrites.push({
            at: Date.now() - started,
            status: res.status,
            message: (JSON.parse(res.text) as { message: string }).message,
          });
        else report.failedWrites.push({ at: Date.now() - started, status: res.status, text: res.text.slice(0, 200) });
      } catch (error) {
        report.writes++;
        report.failedWrites.push({ at: Date.now() - started, status: (error as Error).message });
      }
      await new Promise((r) => setTimeout(r, options.writeEveryMs ?? 50));
    }
  })();
  return {
    report,
    async stop(): Promise<TrafficReport> {
      running = false;
      await Promise.all([...readers, writer]);
      agent.destroy();
      return report;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
