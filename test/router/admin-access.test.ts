import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRouterClient, RouterClientError } from '../../src/platform/router/client.js';
import { adminFetch, rawExchange, slot, startUpstream, type Upstream, useTestRouter } from './support.js';

// Public listeners on 127.0.0.2, the admin API on its own address (127.0.0.1 by default).
const acme = useTestRouter({ listenHost: '127.0.0.2' });
const { client } = acme;
let a: Upstream;
let attacker: Upstream;

beforeAll(async () => {
  [a, attacker] = await Promise.all([startUpstream('slot-a'), startUpstream('attacker')]);
  await client().setLive('shop', slot(a));
});

afterAll(async () => {
  await Promise.all([a?.close(), attacker?.close()]);
});

/** A PUT from another process on the host, as a deployed app would send it; resolves with the status it got. */
function putFromAnotherProcess(url: string, body: unknown, authorization?: string): Promise<{ status: number; body: string }> {
  const script = `
    const [url, body, authorization] = process.argv.slice(1);
    const headers = { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) };
    fetch(url, { method: 'PUT', headers, body }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, url, JSON.stringify(body), authorization ?? ''], { timeout: 30_000 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as { status: number; body: string }),
    );
  });
}

/** A raw request with a Host header of our choosing (fetch does not let one set it). */
function requestWithHost(url: string, host: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, authorization: `Bearer ${acme.env.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function liveOfShop() {
  return (await client().getRoutes()).sites.shop!.live;
}

describe('the router admin API', () => {
  test('another process without the secret cannot take the public traffic, nor read the routes', async () => {
    const takeover = { kind: 'slot', slotId: 'evil', host: '127.0.0.1', port: attacker.port };
    const live = `${acme.router.adminUrl}/v1/environments/acme/sites/shop/live`;
    const attempts = await Promise.all([
      putFromAnotherProcess(live, takeover),
      putFromAnotherProcess(live, takeover, `Bearer ${'x'.repeat(acme.env.token.length)}`),
      putFromAnotherProcess(live, takeover, `Basic ${Buffer.from(`cutover:${acme.env.token.slice(0, -1)}`).toString('base64')}`),
      putFromAnotherProcess(live, { kind: 'maintenance', message: 'pwned' }),
      putFromAnotherProcess(`${acme.router.adminUrl}/v1/environments/acme/sites/shop/preview`, takeover),
    ]);
    for (const attempt of attempts) {
      expect(attempt.status).toBe(401);
      expect(JSON.parse(attempt.body)).toEqual({ error: expect.stringMatching(/^Authorization: /) as unknown });
      expect(attempt.body).not.toContain(acme.env.token);
    }
    const read = await fetch(`${acme.router.adminUrl}/v1/environments/acme/routes`);
    expect(read.status).toBe(401);
    expect(read.headers.get('www-authenticate')).toMatch(/^Bearer /);

    expect(await liveOfShop()).toEqual({ kind: 'slot', slotId: 'slot-a', port: a.port, host: '127.0.0.1' });
    expect((await client().getRoutes()).sites.shop!.preview).toBeNull();
    expect(await (await fetch(`${acme.router.environments.acme!.sites.shop!.publicUrl}/`)).text()).toBe('slot-a');
    expect(attacker.arrivals).toEqual([]);
  });

  test('a request naming another Host is refused even with the secret (DNS rebinding), and changes nothing', async () => {
    const port = new URL(acme.router.adminUrl).port;
    const body = JSON.stringify({ kind: 'slot', slotId: 'evil', port: attacker.port });
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.2:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const answer = await requestWithHost(`${acme.router.adminUrl}/v1/environments/acme/sites/shop/live`, host, 'PUT', body);
      expect(answer.status, `Host ${host}`).toBe(421);
      expect(JSON.parse(answer.body)).toEqual({
        error: `Host: ${JSON.stringify(host)} is not this router's admin address (127.0.0.1:${port}, localhost:${port})`,
      });
    }
    expect((await requestWithHost(`${acme.router.adminUrl}/healthz`, `evil.example:${port}`)).status).toBe(421);
    // No Host header at all (HTTP/1.0) is no admin address either; the HTTP layer refuses it before the guard.
    const bare = await rawExchange(
      Number(port),
      `GET /v1/environments/acme/routes HTTP/1.0\r\nAuthorization: Bearer ${acme.env.token}\r\n\r\n`,
    );
    expect(bare).toMatch(/^HTTP\/1\.[01] 400 /);
    expect(bare).not.toContain('"sites"');
    // Its own names are fine.
    expect((await requestWithHost(`${acme.router.adminUrl}/v1/environments/acme/routes`, `localhost:${port}`)).status).toBe(200);
    expect((await requestWithHost(`${acme.router.adminUrl}/v1/environments/acme/routes`, `127.0.0.1:${port}`)).status).toBe(200);
    expect(await liveOfShop()).toMatchObject({ slotId: 'slot-a' });
    expect(attacker.arrivals).toEqual([]);
  });

  test("a slot route may only point to the environment's slot hosts: any other host is refused with 400 naming the field", async () => {
    for (const host of ['10.20.30.40', 'evil.example', '127.0.0.2', '0.0.0.0']) {
      for (const channel of ['live', 'preview']) {
        const response = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/environments/acme/sites/shop/${channel}`, {
          method: 'PUT',
          body: JSON.stringify({ kind: 'slot', slotId: 'elsewhere', port: attacker.port, host }),
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: `host: must be one of this environment's slot hosts (127.0.0.1, ::1, localhost), got ${JSON.stringify(host)}`,
        });
      }
    }
    expect(await liveOfShop()).toMatchObject({ slotId: 'slot-a' });
    expect((await client().getRoutes()).sites.shop!.preview).toBeNull();
    // The loopback names of the slots' own machine are accepted.
    await client().setPreview('shop', { ...slot(a), host: 'localhost' });
    expect(await (await fetch(`${acme.router.environments.acme!.sites.shop!.previewUrl}/`)).text()).toBe('slot-a');
    await client().setPreview('shop', null);
  });

  test("the admin API listens on its own address only, not on the public listeners' address", async () => {
    expect(acme.router.adminUrl).toBe(`http://127.0.0.1:${acme.env.ports.admin}`);
    expect(acme.router.environments.acme!.sites.shop!.publicUrl).toBe(`http://127.0.0.2:${acme.env.ports.shop.public}`);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(acme.env.ports.admin, '127.0.0.2');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    // The public listener does not answer admin paths either: they are proxied to the live slot like any path.
    expect(await (await fetch(`${acme.router.environments.acme!.sites.shop!.publicUrl}/v1/environments/acme/routes`)).text()).toBe(
      'slot-a',
    );
    expect((await fetch(`http://127.0.0.1:${acme.env.ports.shop.public}/`).catch((e: Error) => e)) instanceof Error).toBe(true);
  });

  test('the client sends the secret; without it in the process every call fails naming the variable, and nothing is sent', async () => {
    expect(await client().health()).toEqual({ ok: true, host: 'local', environments: ['acme'] });
    const before = a.arrivals.length;
    const noSecret = createRouterClient({
      url: acme.router.adminUrl,
      environment: 'acme',
      token: undefined,
      tokenEnv: 'CUTOVER_ROUTER_TOKEN',
    });
    const error = await noSecret.setLive('shop', slot(attacker)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterClientError);
    expect((error as RouterClientError).status).toBe(401);
    expect((error as Error).message).toBe(
      `cannot call the router at ${acme.router.adminUrl}: CUTOVER_ROUTER_TOKEN (its admin secret) is not set in this process`,
    );
    const wrong = await createRouterClient({
      url: acme.router.adminUrl,
      environment: 'acme',
      token: 'y'.repeat(40),
      tokenEnv: 'CUTOVER_ROUTER_TOKEN',
    })
      .getRoutes()
      .catch((e: unknown) => e);
    expect((wrong as RouterClientError).status).toBe(401);
    expect((wrong as Error).message).toBe('Authorization: the router admin token of environment acme is wrong');
    expect(await liveOfShop()).toMatchObject({ slotId: 'slot-a' });
    expect(a.arrivals.length).toBe(before);
  });
});
