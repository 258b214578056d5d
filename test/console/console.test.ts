/**
 * The operator console in a real browser (Debian's Chromium, headless): log in with a token, open the environment and
 * a deployment started through the API, see it await verification, Complete it, be refused a second Complete (the state
 * named), Reset another one with its database, and a viewer who may decide nothing. Screenshots go to test-results/console.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { launchBrowser, openContext, screenshot } from './browser.js';

const secret = () => randomBytes(18).toString('base64url');
const tokens = { viewer: secret(), approver: secret() };
const DEPLOY_MS = 150_000;

let stack: TestStack;
let served: { url: string; close(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack({
    auth: () => [
      { name: 'viewer', token: tokens.viewer, roles: ['viewer'] },
      { name: 'approver', token: tokens.approver, roles: ['approver'] },
    ],
    apiSettings: { logPollIntervalMs: 200 },
  });
  served = await stack.serveApi();
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await stack?.close();
});

async function logIn(page: Page, token: string) {
  await page.goto(`${served.url}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${served.url}/console`), page.click('form.login button')]);
}

/** Waits until the element's text matches; on timeout, says what it showed. */
async function waitForText(page: Page, selector: string, pattern: RegExp, timeout = 30_000): Promise<string> {
  try {
    await page.waitForFunction(
      ([s, source, flags]) => new RegExp(source!, flags).test((globalThis as any).document.querySelector(s!)?.textContent ?? ''),
      [selector, pattern.source, pattern.flags],
      { timeout, polling: 250 },
    );
  } catch (error) {
    throw new Error(`${selector} never matched ${pattern}: it shows ${JSON.stringify(await page.textContent(selector))}`, { cause: error });
  }
  return (await page.textContent(selector)) ?? '';
}

const phase = '[data-field="phase"]';
const message = '[data-field="message"]';

describe.sequential('the console', () => {
  let completedId: string;

  test('a bad token stays on the login page; a good one gets an HttpOnly, SameSite=Strict session cookie', async () => {
    const { context, page } = await openContext(browser, 'desktop');
    try {
      await page.goto(`${served.url}/console/login`);
      await page.fill('#token', 'not-a-token');
      await page.click('form.login button');
      await waitForText(page, '[role="alert"]', /That token is not valid/);
      expect(await context.cookies()).toEqual([]);

      await logIn(page, tokens.approver);
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: 'cutover_session', httpOnly: true, sameSite: 'Strict', path: '/console' });
      expect(cookie!.value).not.toContain(tokens.approver);
      await waitForText(page, `[data-environment="${stack.environment}"] [data-field="live"]`, /nothing deployed|\d/);
    } finally {
      await context.close();
    }
  });

  test('an approver watches a deployment reach verification, Completes it, and a second Complete is refused naming the state', async () => {
    const { context, page } = await openContext(browser, 'desktop');
    try {
      await logIn(page, tokens.approver);
      const id = await stack.deploy('examples/demo-app/v1');
      completedId = id;
      await page.click(`a[href="/console/environments/${stack.environment}"]`);
      const running = `[data-page="environment"] [data-field="running"] a`;
      await page.waitForSelector(running, { timeout: 30_000 });
      expect(await page.textContent(running)).toBe(id);
      await waitForText(page, '[data-field="deployments"]', new RegExp(id));
      await screenshot(page, 'environment-1280x800');
      await Promise.all([page.waitForURL(`**/console/deployments/${id}`), page.click(running)]);

      await waitForText(page, phase, /^awaiting-verification$/, DEPLOY_MS);
      await waitForText(page, '[data-field="available"]', /Available now: Complete, Reset/);
      await waitForText(page, '[data-field="log"]', /awaiting verification|Awaiting verification|verif/i);
      expect(await page.locator('[data-field="timeline"] li').count()).toBeGreaterThanOrEqual(4);
      expect(await page.locator('[data-field="sites"] a').first().getAttribute('href')).toBe(stack.previewUrl().replace(/\/?$/, '/'));
      // Each site's replicas: the new version's copy on the host, warm, before it serves.
      await waitForText(page, '[data-field="sites"] .replicas', /\.original: \S+ warm$/);
      await screenshot(page, 'deployment-awaiting-verification-1280x800');

      await page.click('button[data-action="complete"]');
      await waitForText(page, message, /^Accepted/);
      await page.click('button[data-action="complete"]');
      const refusal = await waitForText(page, message, /^Refused:/);
      expect(refusal).toMatch(/completing|completed/);

      await waitForText(page, phase, /^completed$/, DEPLOY_MS);
      await waitForText(page, '[data-field="audit"]', /Complete decided by approver/);
      await waitForText(page, '[data-field="sites"] .replicas', /\.original: \S+ serving$/);
      await waitForText(page, '[data-field="log"]', /Complete requested by approver/);
      await screenshot(page, 'deployment-completed-1280x800');

      await page.goto(`${served.url}/console`);
      await waitForText(page, `[data-environment="${stack.environment}"] [data-field="live"]`, /^1\./);
      await waitForText(page, `[data-environment="${stack.environment}"] [data-field="running"]`, /^none$/);
      await screenshot(page, 'environments-1280x800');
    } finally {
      await context.close();
    }
  }, 240_000);

  test('on a phone, an approver Resets a deployment in maintenance-page mode with its database', async () => {
    const { context, page } = await openContext(browser, 'phone');
    try {
      await logIn(page, tokens.approver);
      const id = await stack.deploy('examples/demo-app/v2', 'maintenance-page');
      await page.goto(`${served.url}/console/deployments/${id}`);
      await waitForText(page, phase, /^awaiting-verification$/, DEPLOY_MS);
      await page.goto(`${served.url}/console`);
      await waitForText(page, `[data-environment="${stack.environment}"] [data-field="maintenance"]`, /^in maintenance$/);
      await screenshot(page, 'environments-in-maintenance-390x844');
      await page.goto(`${served.url}/console/deployments/${id}`);
      await waitForText(page, phase, /^awaiting-verification$/);
      await screenshot(page, 'deployment-awaiting-verification-390x844');
      await page.click('button[data-action="reset-database"]');
      await waitForText(page, message, /^Accepted/);
      await waitForText(page, phase, /^reset$/, DEPLOY_MS);
      await waitForText(page, '[data-field="audit"]', /Reset \(code and database\) decided by approver/);
      await waitForText(page, '[data-field="log"]', /Reset \(roll back code and database\) requested by approver/);
      await screenshot(page, 'deployment-reset-390x844');
      // The page fits the phone: nothing wider than the viewport but the scrolling tables and the log.
      const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await context.close();
    }
  }, 240_000);

  test('a viewer sees no enabled decision button, and a Complete sent anyway is refused', async () => {
    const { context, page } = await openContext(browser, 'desktop');
    try {
      await logIn(page, tokens.viewer);
      await page.goto(`${served.url}/console/deployments/${completedId}`);
      await waitForText(page, phase, /^completed$/);
      const buttons = page.locator('button[data-action]');
      expect(await buttons.count()).toBe(3);
      for (const button of await buttons.all()) expect(await button.isDisabled()).toBe(true);
      const answer = await page.evaluate(async (id) => {
        const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
        const r = await fetch(`/console/v1/deployments/${id}/complete`, init);
        return { status: r.status, body: await r.json() };
      }, completedId);
      const forbidden = { code: 'forbidden', message: expect.stringContaining('token viewer may not complete') };
      expect(answer).toMatchObject({ status: 403, body: { error: forbidden } });
      await screenshot(page, 'deployment-viewer-1280x800');
    } finally {
      await context.close();
    }
  });

  test('a change through the session cookie must come from the console itself (Origin), and needs a session at all', async () => {
    const { context, page } = await openContext(browser, 'desktop');
    try {
      await logIn(page, tokens.approver);
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const post = (headers: Record<string, string>) =>
        fetch(`${served.url}/console/v1/deployments/${completedId}/reset`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ rollbackDatabase: false }),
        });
      for (const origin of [{}, { origin: 'http://evil.example' }] as Array<Record<string, string>>) {
        const refused = await post({ cookie, ...origin });
        expect(refused.status).toBe(403);
        expect(((await refused.json()) as any).error.code).toBe('cross-origin');
      }
      // From the console's own origin it reaches the deployment, which refuses a Reset once completed.
      const sameSite = await post({ cookie, origin: served.url });
      expect(sameSite.status).toBe(409);
      expect(((await sameSite.json()) as any).error.message).toMatch(/completed/);
      const noSession = await post({ origin: served.url });
      expect(noSession.status).toBe(401);
      const page404 = await fetch(`${served.url}/console/v1/deployments/${completedId}`);
      expect(page404.status).toBe(401);
    } finally {
      await context.close();
    }
  });
});
