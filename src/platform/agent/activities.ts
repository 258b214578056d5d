import { join } from 'node:path';
import { runsSlotsOn, slotAddressOf, slotHostsOf } from '../../config/addresses.js';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CutoverConfig, EnvironmentConfig } from '../../config/schema.js';
import { isFailureClass } from '../../failures.js';
import type { PackageManifest, PackageRef } from '../../packages/manifest.js';
import { DEFAULT_STOP_GRACE_MS, environmentOfSlot, slotIdFor, type HostActivities, type SlotSpec } from './contract.js';
import { knownSecrets, slotDatabases } from './databases.js';
import { scrubSecrets } from './scrub.js';
import { createSlotUsers, firstBlockingFolder, openPathThrough, prepareSlotHome, searchPathFor, type SlotUsers } from './slot-user.js';
import { readLogTail } from './slot-log.js';
import { createSlotSupervisor, toSlotInfo, type SlotLaunch, type SlotSupervisor } from './slots.js';
import { warmUp } from './warmup.js';

/** The part of the package store the agent needs (see src/packages/store.ts). */
export interface SlotPackageSource {
  getPackage(sha256: string): Promise<{ ref: PackageRef; manifest: PackageManifest; dir: string }>;
}

export interface HostAgentDeps {
  config: CutoverConfig;
  /** This host's name: environments whose `host` is another one are refused. */
  host: string;
  store: SlotPackageSource;
  /** Absolute. Slots live in <stateDir>/hosts/<host>/slots. */
  stateDir: string;
  /** The Cutover checkout: slots get NODE_PATH=<cutoverRoot>/node_modules. */
  cutoverRoot: string;
  /** Where connection strings are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  supervisor?: SlotSupervisor;
  /** Who runs each environment's slots: as root, a user of its own per environment. */
  slotUsers?: SlotUsers;
}

/** Lines of log that go into a failure message. */
const FAILURE_LOG_LINES = 20;

export function slotsDirOf(stateDir: string, host: string): string {
  return join(stateDir, 'hosts', host, 'slots');
}

/** The environment's own writable folder: HOME of its slots, owned by its slot user. */
export function slotHomeOf(stateDir: string, host: string, environment: string): string {
  return join(stateDir, 'hosts', host, 'slot-homes', environment);
}

export function createHostActivities(deps: HostAgentDeps): HostActivities {
  const processEnv = deps.env ?? process.env;
  const address = slotAddressOf(deps.config, deps.host);
  const supervisor = deps.supervisor ?? createSlotSupervisor({ slotsDir: slotsDirOf(deps.stateDir, deps.host), address });
  const secretsFor = (slotId: string) => knownSecrets(deps.config.environments[environmentOfSlot(slotId)], processEnv);
  const slotUsers = deps.slotUsers ?? createSlotUsers({ host: deps.host });

  /** As root: the environment's slot user, able to reach its package and its home, and nothing else of Cutover's. */
  async function slotIdentity(spec: SlotSpec, environment: EnvironmentConfig, packageDir: string, home: string) {
    const identity = await slotUsers.identityOf(spec.environment, environment);
    await prepareSlotHome(home, identity);
    if (!identity) return null;
    for (const target of [packageDir, home]) {
      await openPathThrough(deps.stateDir, target);
      const blocked = await firstBlockingFolder(identity, target);
      if (blocked) {
        throw invalid(
          `Slot user ${identity.user} (uid ${identity.uid}) cannot reach ${target}: ` +
            `${blocked.folder} (mode ${blocked.mode}) is closed to it; ` +
            'put stateDir in a folder other users may pass through (for example /var/lib/cutover)',
        );
      }
    }
    return identity;
  }

  async function prepare(spec: SlotSpec, environment: EnvironmentConfig): Promise<SlotLaunch> {
    const pkg = await asClassified(() => deps.store.getPackage(spec.packageSha256));
    const databases = slotDatabases(environment, spec.databases, { env: processEnv, postgresBinDir: deps.config.postgres.binDir });
    const home = slotHomeOf(deps.stateDir, deps.host, spec.environment);
    const user = await slotIdentity(spec, environment, pkg.dir, home);
    const path = processEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    return {
      argv: pkg.manifest.start,
      cwd: pkg.dir,
      packageVersion: pkg.manifest.version,
      user: user ?? undefined,
      // Only what the slot needs: the agent's environment holds other environments' secrets.
      env: {
        PATH: user ? await searchPathFor(user, path) : path,
        HOME: home,
        CUTOVER_SLOT: slotIdFor(spec),
        CUTOVER_SITE: spec.site,
        CUTOVER_ENVIRONMENT: spec.environment,
        CUTOVER_READONLY: spec.readOnly ? '1' : '0',
        NODE_PATH: join(deps.cutoverRoot, 'node_modules'),
        ...databases.env,
      },
    };
  }

  return {
    async startSlot(spec) {
      const environment = checkSpec(spec, deps.config, deps.host);
      const record = await supervisor.start(spec, () => prepare(spec, environment));
      return toSlotInfo(record);
    },

    async stopSlot({ slotId, graceMs }) {
      if (graceMs !== undefined && !(typeof graceMs === 'number' && graceMs >= 0))
        throw invalid(`graceMs must be a number of milliseconds, got ${String(graceMs)}`);
      return { stopped: await supervisor.stop(slotId, graceMs ?? DEFAULT_STOP_GRACE_MS) };
    },

    async warmUpSlot({ slotId, path, timeoutMs }) {
      if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(`warmup path must start with "/", got ${JSON.stringify(path)}`);
      if (!(typeof timeoutMs === 'number' && timeoutMs > 0))
        throw invalid(`warmup timeout must be a positive number of milliseconds, got ${String(timeoutMs)}`);
      const record = await supervisor.get(slotId);
      if (!record) throw invalid(`Slot ${slotId} is not known on host ${deps.host}: start it before warming it up`);
      const secrets = secretsFor(slotId);
      const context = currentActivity();
      return warmUp(
        {
          slotId,
          host: address,
          port: record.port,
          readOnly: record.readOnly,
          async exit() {
            const now = await supervisor.get(slotId);
            if (!now || now.pid !== record.pid) return { exitCode: null, exitSignal: null, stopped: true };
            return now.state === 'exited' ? { exitCode: now.exitCode, exitSignal: now.exitSignal } : null;
          },
          logTail: async () =>
            scrubSecrets(await readLogTail(supervisor.logFileOf(slotId), FAILURE_LOG_LINES, { sinceLastStart: true }), secrets),
        },
        { path, timeoutMs, secrets, heartbeat: (details) => context?.heartbeat(details), signal: context?.cancellationSignal },
      );
    },

    async listSlots({ environment }) {
      const records = await supervisor.list();
      return records.filter((r) => r.environment === environment).map(toSlotInfo);
    },
  };
}

/** Refuses a spec this host cannot run, naming what is wrong (promise 8). */
function checkSpec(spec: SlotSpec, config: CutoverConfig, host: string): EnvironmentConfig {
  const environment = config.environments[spec.environment];
  if (!environment) throw invalid(`Unknown environment ${JSON.stringify(spec.environment)} on host ${host}`);
  if (!runsSlotsOn(config, environment, host)) {
    const hosts = slotHostsOf(config, environment).map((h) => h.name);
    throw invalid(`Environment ${spec.environment} runs its slots on host ${hosts.join(', ')}, not on ${host}`);
  }
  if (!environment.sites.some((s) => s.name === spec.site))
    throw invalid(`Environment ${spec.environment} has no site ${JSON.stringify(spec.site)}`);
  if (!/^[0-9a-f]{64}$/.test(spec.packageSha256))
    throw invalid(`packageSha256 must be 64 lowercase hex digits, got ${JSON.stringify(spec.packageSha256)}`);
  if (spec.databases !== 'original' && spec.databases !== 'temporary')
    throw invalid(`databases must be "original" or "temporary", got ${JSON.stringify(spec.databases)}`);
  if (typeof spec.readOnly !== 'boolean') throw invalid('readOnly must be true or false');
  if (spec.check !== undefined && typeof spec.check !== 'boolean') throw invalid('check must be true or false when given');
  return environment;
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'invalid-input');
}

/** Errors that carry a failure class (a package refused by the store) are not worth retrying. */
async function asClassified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const failureClass = (error as { failureClass?: unknown }).failureClass;
    if (error instanceof Error && isFailureClass(failureClass) && failureClass !== 'transient')
      throw ApplicationFailure.nonRetryable(error.message, failureClass);
    throw error;
  }
}

/** The activity's context when running under Temporal; undefined when called directly (tests, scripts). */
function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
