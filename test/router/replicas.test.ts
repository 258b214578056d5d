import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningRouter } from '../../src/platform/router/main.js';
import { adminFetch, distinctFreePort, routerClient, startTestRouter, startUpstream, testEnvironment } from './support.js';
import type { TestEnvironment, Upstream } from './support.js';

let env: TestEnvironment;
let router: RunningRouter;
let a: Upstream;
let b: Upstream;
let c: Upstream;
const client = () => routerClient(router.adminUrl, env);
const replica = (upstream: Upstream) => ({ host: '127.0.0.1', port: upstream.port });

/** Who answered `count` requests, in order. */
async function answers(count: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < count; i += 1) seen.push(await (await fetch(`${router.environments.acme!.sites.shop!.publicUrl}/`)).text());
  return seen;
}

beforeAll(async () => {
  env = await testEnvironment();
  router = await startTestRouter(env);
  [a, b, c] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]);
});

afterAll(async () => {
  await router?.close();
  await Promise.all([a?.close(), b?.close(), c?.close()]);
  await env?.cleanup();
});

describe('a slot with several replicas', () => {
  test('takes new requests in turn, and a switch moves every replica at once', async () => {
    await client().setLive('shop', { kind: 'slot', slotId: 'ab', replicas: [replica(a), replica(b)] });
    expect(await answers(6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    const switched = await client().setLive('shop', { kind: 'slot', slotId: 'c', port: c.port });
    expect(switched.previous).toEqual({ kind: 'slot', slotId: 'ab', replicas: [replica(a), replica(b)] });
    expect(await answers(3)).toEqual(['c', 'c', 'c']);
  });

  test('weights share the requests (smooth: no replica gets a burst), persist, and a new target starts even', async () => {
    await client().setLive('shop', { kind: 'slot', slotId: 'ab', replicas: [replica(a), replica(b)] });
    await client().setWeights('shop', [{ ...replica(a), weight: 3 }]);
    expect(await answers(8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
    expect((await client().getRoutes()).sites.shop!.live).toEqual({
      kind: 'slot',
      slotId: 'ab',
      replicas: [
        { ...replica(a), weight: 3 },
        { ...replica(b), weight: 1 },
      ],
    });
    await client().setWeights('shop', [{ ...replica(a), weight: 0 }]);
    expect(await answers(4)).toEqual(['b', 'b', 'b', 'b']);

    // Restarted, the router keeps the weights.
    await router.close();
    router = await startTestRouter(env);
    expect(await answers(3)).toEqual(['b', 'b', 'b']);

    await client().setLive('shop', { kind: 'slot', slotId: 'ba', replicas: [replica(b), replica(a)] });
    expect(await answers(4)).toEqual(['b', 'a', 'b', 'a']);
  });

  test('bad replicas and weights are refused with 400 naming the field, and change nothing', async () => {
    await client().setLive('shop', { kind: 'slot', slotId: 'ab', replicas: [replica(a), replica(b)] });
    const before = await client().getRoutes();
    const put = (path: string, body: unknown) =>
      adminFetch(env, `${router.adminUrl}/v1/environments/acme/sites/shop/${path}`, { method: 'PUT', body: JSON.stringify(body) }).then(
        async (response) => [response.status, ((await response.json()) as { error: string }).error],
      );
    const slot = (fields: object) => ({ kind: 'slot', slotId: 'x', ...fields });
    expect(await put('live', slot({ port: a.port, replicas: [replica(b)] }))).toEqual([
      400,
      'replicas: must not come with port or host: list every copy in replicas',
    ]);
    expect(await put('live', slot({}))).toEqual([400, 'port: is required (or replicas)']);
    expect(await put('live', slot({ replicas: [] }))).toEqual([400, 'replicas: must list at least one replica']);
    const duplicate = `replicas[1]: duplicate replica 127.0.0.1:${a.port}`;
    expect(await put('live', slot({ replicas: [replica(a), replica(a)] }))).toEqual([400, duplicate]);
    const noWeight = 'replicas: at least one replica must keep a weight above 0';
    expect(await put('live', slot({ replicas: [{ ...replica(a), weight: 0 }] }))).toEqual([400, noWeight]);
    expect(await put('preview', slot({ replicas: [replica(a), { host: '10.0.0.9', port: 80 }] }))).toEqual([
      400,
      'replicas[1].host: must be one of this environment\'s slot hosts (127.0.0.1, ::1, localhost), got "10.0.0.9"',
    ]);
    const notReplica = `weights[0]: 127.0.0.1:${c.port} is not a replica of the live target of shop`;
    expect(await put('weights', [{ ...replica(c), weight: 2 }])).toEqual([400, notReplica]);
    expect(
      await put('weights', [
        { ...replica(a), weight: 0 },
        { ...replica(b), weight: 0 },
      ]),
    ).toEqual([400, 'weights: at least one replica must keep a weight above 0']);
    expect(await put('weights', [{ ...replica(a), weight: 300 }])).toEqual([400, 'weights[0].weight: must be between 0 and 256']);
    expect(await put('weights', { weight: 1 })).toEqual([400, 'weights: must be a list of { host, port, weight }, got a mapping']);
    expect(await client().getRoutes()).toEqual(before);
    expect(await answers(2)).toEqual(['a', 'b']);
  });

  test('a replica that refuses connections (its host lost): reads go to the others, none fails; then it is passed over', async () => {
    const gone = { host: '127.0.0.1', port: await distinctFreePort() }; // nothing listens: the connection is refused
    await client().setLive('shop', { kind: 'slot', slotId: 'a-and-gone', replicas: [replica(a), gone] });
    const reads = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`${router.environments.acme!.sites.shop!.publicUrl}/`);
        return `${response.status} ${await response.text()}`;
      }),
    );
    expect(reads).toEqual(Array.from({ length: 12 }, () => '200 a'));
    // Passed over for a while: a write (not repeatable) lands on the replica that answers.
    const write = await fetch(`${router.environments.acme!.sites.shop!.publicUrl}/`, { method: 'POST', body: 'x' });
    expect(write.status).toBe(200);
  });
});
