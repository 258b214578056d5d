/** What keeps an application away from Cutover's secrets, short of running it: the agent's environment, slot users, config. */
import { chmodSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { agentEnvironment } from '../../src/platform/agent/environment.js';
import { defaultSlotUser, firstBlockingFolder, openPathThrough } from '../../src/platform/agent/slot-user.js';

const config = (environments: string, top = '') =>
  parseConfig(
    `${top}
environments:
${environments}`,
    '/etc/cutover.yaml',
  );

const twoHosts = config(
  `  shop:
    host: web1
    router: { adminPort: 7400, adminTokenEnv: SHOP_ROUTER_TOKEN }
    sites: [{ name: web, role: zdd, publicPort: 8080, previewPort: 8081 }]
    databases:
      - { name: app, engine: postgres, connectionEnv: SHOP_URL, migrationConnectionEnv: SHOP_MIGRATION_URL, appConnectionEnv: SHOP_APP_URL }
      - { name: legacy, engine: postgres, connectionEnv: LEGACY_URL }
  blog:
    host: web2
    router: { adminPort: 7401 }
    sites: [{ name: web, role: zdd, publicPort: 8090, previewPort: 8091 }]
    databases: [{ name: app, engine: postgres, connectionEnv: BLOG_URL, appConnectionEnv: BLOG_APP_URL }]`,
  'slack: { signingSecretEnv: SLACK_SIGNING, botTokenEnv: SLACK_BOT }',
);

describe("the host agent's own environment", () => {
  test("keeps its own host's application logins (the admin login where there is none) and drops every other secret", () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/root',
      SHOP_URL: 'postgres://cutover:admin@db/shop',
      SHOP_MIGRATION_URL: 'postgres://m:m@db/shop',
      SHOP_APP_URL: 'postgres://a:a@db/shop',
      LEGACY_URL: 'postgres://cutover:admin@db/legacy',
      BLOG_URL: 'postgres://cutover:admin@db/blog',
      BLOG_APP_URL: 'postgres://a:a@db/blog',
      SLACK_SIGNING: 's',
      SLACK_BOT: 'xoxb-1',
      SHOP_ROUTER_TOKEN: 't',
    };
    expect(agentEnvironment(twoHosts, 'web1', env)).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      SHOP_APP_URL: env.SHOP_APP_URL,
      LEGACY_URL: env.LEGACY_URL,
    });
    expect(agentEnvironment(twoHosts, 'web2', env)).toEqual({ PATH: '/usr/bin', HOME: '/root', BLOG_APP_URL: env.BLOG_APP_URL });
  });
});

describe('slot users', () => {
  test('cutover-<environment> by default, shortened with a hash to fit 32 characters', () => {
    expect(defaultSlotUser('shop')).toBe('cutover-shop');
    const long = defaultSlotUser('a-very-long-environment-name-indeed');
    expect(long).toMatch(/^cutover-a-very-long-env-[0-9a-f]{8}$/);
    expect(long.length).toBeLessThanOrEqual(32);
    expect(defaultSlotUser('a-very-long-environment-name-other')).not.toBe(long);
  });

  test('the state dir is opened for passing through, never for listing, down to the parent of the target only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cutover-open-'));
    const home = join(root, 'hosts', 'h', 'slot-homes', 'shop');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    await openPathThrough(root, home);
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const above = [root, join(root, 'hosts'), join(root, 'hosts', 'h'), join(root, 'hosts', 'h', 'slot-homes')];
    expect(above.map(mode)).toEqual(['701', '701', '701', '701']);
    expect(mode(home)).toBe('700');
    // A user who is neither owner nor in the group: blocked by a folder closed to others, not once it is open.
    const stranger = { user: 'nobody', uid: 65534, gid: 65534 };
    expect(await firstBlockingFolder(stranger, home)).toEqual({ folder: home, mode: '0700' });
    const closed = join(root, 'closed');
    mkdirSync(join(closed, 'inside'), { recursive: true });
    chmodSync(closed, 0o700);
    expect(await firstBlockingFolder(stranger, join(closed, 'inside'))).toEqual({ folder: closed, mode: '0700' });
    expect(await firstBlockingFolder({ ...stranger, uid: statSync(root).uid }, home)).toBeNull();
  });
});

describe('configuration of logins and slot users', () => {
  const problems = (environments: string): string[] => {
    try {
      config(environments);
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };
  const env = (extra: string, db = '{ name: app, engine: postgres, connectionEnv: A_URL }') => `  shop:
    router: { adminPort: 7400 }
${extra}
    sites: [{ name: web, role: zdd, publicPort: 8080, previewPort: 8081 }]
    databases: [${db}]`;

  test('each login has a variable of its own', () => {
    expect(problems(env('', '{ name: app, engine: postgres, connectionEnv: A_URL, appConnectionEnv: A_URL }'))).toEqual([
      'environments.shop.databases[0].appConnectionEnv: must differ from connectionEnv: each login has its own variable',
    ]);
    const sameTwice = '{ name: app, engine: postgres, connectionEnv: A_URL, migrationConnectionEnv: M_URL, appConnectionEnv: M_URL }';
    expect(problems(env('', sameTwice))).toEqual([
      'environments.shop.databases[0].appConnectionEnv: must differ from migrationConnectionEnv: each login has its own variable',
    ]);
    expect(problems(env('', '{ name: app, engine: postgres, connectionEnv: A_URL, appConnectionEnv: app-url }'))).toEqual([
      'environments.shop.databases[0].appConnectionEnv: must be an environment variable name (A-Z, 0-9, _)',
    ]);
  });

  test('slotUser is a user name, and never root', () => {
    expect(problems(env('    slotUser: root'))).toEqual(['environments.shop.slotUser: must not be root: slots run unprivileged']);
    expect(problems(env('    slotUser: "Bad User"'))[0]).toMatch(/^environments\.shop\.slotUser: must be a user name/);
    expect(problems(env('    slotUser: www-shop'))).toEqual([]);
  });
});
