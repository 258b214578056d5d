import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningRouter } from '../../src/platform/router/main.js';
import { routerClient, slot, startTestRouter, startUpstream, testEnvironment, type TestEnvironment, type Upstream } from './support.js';

/** What the app behind the router sees of who asked. */
interface Seen {
  headers: Record<string, string | string[] | undefined>;
}

let echo: Upstream;
const routers: Array<{ env: TestEnvironment; router: RunningRouter }> = [];

async function routerWith(options: { router?: string } = {}) {
  const env = await testEnvironment(options);
  const router = await startTestRouter(env);
  routers.push({ env, router });
  await routerClient(router.adminUrl, env).setLive('shop', slot(echo));
  return router;
}

beforeAll(async () => {
  echo = await startUpstream('echo', (req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ headers: req.headers })));
  });
});

afterAll(async () => {
  for (const { env, router } of routers) {
    await router.close();
    await env.cleanup();
  }
  await echo?.close();
});

/** Forged claims a client can send, one of them twice and in odd case. */
const forged: Record<string, string | string[]> = {
  'X-Forwarded-For': ['203.0.113.9', '198.51.100.7'],
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'bank.example',
  'X-Forwarded-Port': '443',
  'X-Forwarded-Prefix': '/admin',
  Forwarded: 'for=203.0.113.9;proto=https;host=bank.example',
  'X-REAL-IP': '203.0.113.9',
  'X-Request-Id': 'kept-1',
};

function getThrough(url: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: forged }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text) as Seen);
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: ${text}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('forwarding headers', () => {
  test('by default what a client says about itself is replaced by what the router saw', async () => {
    const router = await routerWith();
    const publicUrl = router.environments.acme!.sites.shop!.publicUrl;
    const { headers } = await getThrough(`${publicUrl}/whoami`);
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(publicUrl).host);
    expect(headers['x-real-ip']).toBe('127.0.0.1');
    expect(headers.forwarded).toBeUndefined();
    expect(headers['x-forwarded-port']).toBeUndefined();
    expect(headers['x-forwarded-prefix']).toBeUndefined();
    expect(headers['x-request-id']).toBe('kept-1');
    expect(headers.host).toBe(new URL(publicUrl).host);
  });

  test('with router.trustForwardedHeaders (a proxy in front sets them), they are passed on and the client address appended', async () => {
    const router = await routerWith({ router: 'trustForwardedHeaders: true' });
    const { headers } = await getThrough(`${router.environments.acme!.sites.shop!.publicUrl}/whoami`);
    expect(headers['x-forwarded-for']).toBe('203.0.113.9, 198.51.100.7, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('bank.example');
    expect(headers['x-forwarded-port']).toBe('443');
    expect(headers.forwarded).toBe('for=203.0.113.9;proto=https;host=bank.example');
    expect(headers['x-real-ip']).toBe('203.0.113.9');
  });
});
