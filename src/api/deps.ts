import type { Client } from '@temporalio/client';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { DatabaseConfig } from '../config/schema.js';
import { engineFor, resolveDatabaseHandle } from '../engines/index.js';
import { createPackageStore, type PackageStore } from '../packages/store.js';
import { createRouterClient } from '../platform/router/client.js';
import { routerUrl } from '../activities/environments.js';
import { createDeploymentsService, type DeploymentsService } from './deployments-service.js';

/** Everything the API talks to, injected so tests build the app against real services of their choosing. */
export interface ApiDeps {
  config: LoadedConfig;
  deployments: DeploymentsService;
  store: PackageStore;
  router(environment: string): ReturnType<typeof createRouterClient>;
  probes: {
    temporal(): Promise<void>;
    database(db: DatabaseConfig): Promise<void>;
  };
}

export function createApiDeps(config: LoadedConfig, client: Client, env: NodeJS.ProcessEnv = process.env): ApiDeps {
  return {
    config,
    deployments: createDeploymentsService(client, config),
    store: createPackageStore(join(config.stateDir, 'packages')),
    router: (environment) => createRouterClient(routerUrl(config.environments[environment]!)),
    probes: {
      temporal: async () => {
        await client.workflowService.getSystemInfo({});
      },
      database: async (db) => engineFor(db, { postgres: config.postgres }).ping(resolveDatabaseHandle(db, env)),
    },
  };
}
