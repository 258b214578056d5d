/**
 * Every replica of a smooth deployment, per site and host: the replica book alone, then through the real workflow
 * code on the run's Temporal server (three fake hosts, each with its own agent).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { completeUpdate, logQuery, resetUpdate, statusQuery, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { ReplicaBook, routedCopies } from '../../src/workflows/replicas.js';
import { startCompleted, startDeployment, v1, v2, waitForPhase, webSlot } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

const hosts = [
  { name: 'h1', address: '10.0.0.1' },
  { name: 'h2', address: '10.0.0.2' },
];

describe('the replica book', () => {
  test('a copy starts, warms, serves, leaves the route warm, stops; a lost host loses every copy on it that had not stopped', () => {
    const book = new ReplicaBook();
    const copy = (host: (typeof hosts)[number], slotId: string) => ({ host: host.name, address: host.address, slotId });
    for (const h of hosts) book.set('web', copy(h, 'new'), 'starting');
    book.set('web', { ...copy(hosts[0]!, 'new'), port: 4001 }, 'started');
    expect(book.of('web')).toEqual([
      { host: 'h1', address: '10.0.0.1', slotId: 'new', port: 4001, state: 'started' },
      { host: 'h2', address: '10.0.0.2', slotId: 'new', port: null, state: 'starting' },
    ]);
    for (const h of hosts) book.set('web', copy(h, 'old'), 'serving');
    book.set('web', copy(hosts[1]!, 'new'), 'warm');
    book.set('web', copy(hosts[0]!, 'new'), 'warm');
    expect(book.of('web').find((r) => r.host === 'h1' && r.slotId === 'new')!.port).toBe(4001); // kept when not given
    book.route('web', 'new');
    expect(book.of('web').map((r) => [r.host, r.slotId, r.state])).toEqual([
      ['h1', 'new', 'serving'],
      ['h2', 'new', 'serving'],
      ['h1', 'old', 'warm'],
      ['h2', 'old', 'warm'],
    ]);
    book.stopped('old', 'h1');
    book.stopped('unknown', 'h1'); // a stop of a slot the book never saw adds nothing
    expect(book.hostLost('h1').map((r) => r.slotId)).toEqual(['new']);
    expect(book.hostLost('h1')).toEqual([]);
    book.route('web', 'maintenance-page');
    expect(book.of('web').map((r) => [r.host, r.slotId, r.state])).toEqual([
      ['h1', 'new', 'lost'],
      ['h2', 'new', 'warm'],
      ['h1', 'old', 'stopped'],
      ['h2', 'old', 'warm'],
    ]);
    expect(book.of('api')).toEqual([]);
  });

  test('the copies a live route sends requests to, named by host', () => {
    const replicas = {
      kind: 'slot' as const,
      slotId: 's',
      replicas: [
        { host: '10.0.0.2', port: 5 },
        { host: '10.9.9.9', port: 6 },
      ],
    };
    expect(routedCopies(replicas, hosts)).toEqual([
      { host: 'h2', address: '10.0.0.2', slotId: 's', port: 5 },
      { host: '10.9.9.9', address: '10.9.9.9', slotId: 's', port: 6 },
    ]);
    // One copy on one host: that host, whatever loopback address the route carries.
    const one = [{ name: 'local', address: '192.168.1.5' }];
    expect(routedCopies({ kind: 'slot', slotId: 's', port: 7 }, one)).toEqual([
      { host: 'local', address: '192.168.1.5', slotId: 's', port: 7 },
    ]);
    expect(routedCopies({ kind: 'maintenance', message: 'm' }, one)).toEqual([]);
  });
});

describe('replicas in the status query', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const names = ['h1', 'h2', 'h3'];
  const states = (status: DeploymentStatus, slotId: string) =>
    status.sites[0]!.replicas!.filter((r) => r.slotId === slotId).map((r) => [r.host, r.state]);
  const each = (state: string) => names.map((n) => [n, state]);

  test('three hosts: the clone serves and the preview is warm on each; Complete makes the new copies serve, the clones stop', async () => {
    h = await startHarness({ hosts: names });
    await startCompleted(h, 'first', { package: v1 });
    const handle = await startDeployment(h, 'second');
    const waiting = await waitForPhase(handle, 'awaiting-verification');
    const [clone, next, old] = [webSlot(h, v1, 'temporary'), webSlot(h, v2), webSlot(h, v1)];
    expect(states(waiting, clone)).toEqual(each('serving'));
    expect(states(waiting, next)).toEqual(each('warm'));
    expect(states(waiting, old)).toEqual(each('stopped'));
    expect(waiting.sites[0]!.replicas!.map((r) => r.slotId)).toEqual([old, old, old, clone, clone, clone, next, next, next]);
    expect(waiting.sites[0]!.replicas!.filter((r) => r.slotId === next).map((r) => [r.address, typeof r.port])).toEqual(
      ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((a) => [a, 'number']),
    );
    await handle.executeUpdate(completeUpdate, { args: [{ requestedBy: 'ana' }] });
    const done = await waitForPhase(handle, 'completed');
    expect(states(done, next)).toEqual(each('serving'));
    expect(states(done, clone)).toEqual(each('stopped'));
    const where = done.sites[0]!.replicas!.filter((r) => r.slotId === next).map((r) => `host ${r.host} (${r.address}:${r.port})`);
    const log = await handle.query(logQuery, {});
    expect(log.lines.map((l) => l.message)).toContain(`Started ${next} on ${where.join(', ')}`);
  });

  test('Reset: the previous version starts again and serves on every host; the new one stops', async () => {
    h = await startHarness({ hosts: names });
    await startCompleted(h, 'first', { package: v1 });
    const handle = await startDeployment(h, 'second');
    await waitForPhase(handle, 'awaiting-verification');
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false, requestedBy: 'ana' }] });
    const reset = await waitForPhase(handle, 'reset');
    expect(states(reset, webSlot(h, v1))).toEqual(each('serving'));
    expect(states(reset, webSlot(h, v2))).toEqual(each('stopped'));
    expect(states(reset, webSlot(h, v1, 'temporary'))).toEqual(each('stopped'));
    expect((await handle.query(statusQuery)).sites[0]!.replicas).toHaveLength(9);
  });
});
