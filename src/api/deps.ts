import type { Client } from '@temporalio/client';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { DatabaseConfig } from '../config/schema.js';
import { engineFor, resolveDatabaseHandle } from '../engines/index.js';
import { configuredPackageLimits } from '../packages/limits.js';
import { createPackageStore, type PackageStore } from '../packages/store.js';
import { dataPlaneFor } from '../platform/data-plane/for-environment.js';
import type { DataPlane } from '../platform/data-plane/port.js';
import { createDeploymentsService, type DeploymentsService } from '../deployments/service.js';

/** Everything the API talks to, injected so tests build the app against real services of their choosing. */
/** Tunables with production defaults; tests shorten them. */
export interface ApiSettings {
  /** How often a followed log (SSE) asks the workflow for new lines. */
  logPollIntervalMs: number;
  /** Largest package upload (the compressed .tar.gz) accepted by POST /v1/packages. */
  maxUploadBytes: number;
  /** Where uploads are received before the store imports them; each in a folder of its own, removed after. */
  uploadDir: string;
  /** How long /health reuses its probe results: a burst of calls opens one connection per database, not one each. */
  healthCacheMs: number;
}

export const defaultApiSettings: ApiSettings = {
  logPollIntervalMs: 1000,
  maxUploadBytes: 100 * 1024 * 1024,
  uploadDir: tmpdir(),
  healthCacheMs: 5000,
};

export interface ApiDeps {
  config: LoadedConfig;
  settings: ApiSettings;
  deployments: DeploymentsService;
  store: PackageStore;
  /** The environment's data plane (built-in router, HAProxy or nginx), for the routes in force. */
  dataPlane(environment: string): DataPlane;
  probes: {
    temporal(): Promise<void>;
    database(db: DatabaseConfig): Promise<void>;
  };
}

export function createApiDeps(
  config: LoadedConfig,
  client: Client,
  env: NodeJS.ProcessEnv = process.env,
  settings: Partial<ApiSettings> = {},
): ApiDeps {
  return {
    config,
    settings: { ...defaultApiSettings, ...settings },
    deployments: createDeploymentsService(client, config),
    store: createPackageStore(join(config.stateDir, 'packages'), configuredPackageLimits(config.packages)),
    dataPlane: (environment) => dataPlaneFor(config, environment, env),
    probes: {
      temporal: async () => {
        // A deadline, so a down Temporal leaves no retrying call behind the health check's own timeout.
        await client.withDeadline(Date.now() + 3000, () => client.workflowService.getSystemInfo({}));
      },
      database: async (db) => engineFor(db, { postgres: config.postgres }).ping(resolveDatabaseHandle(db, env)),
    },
  };
}
