/**
 * The process environment a host agent is started with: everything of its starter's but the secrets the agent has no
 * use for. It resolves its slots' connection strings from the application logins' variables of its own host's
 * environments; Cutover's own and the migration logins, other hosts' logins, the Slack and router secrets stay out.
 */
import { runsSlotsOn } from '../../config/addresses.js';
import type { CutoverConfig } from '../../config/schema.js';
import { loginVariable } from '../../engines/logins.js';

/** Variables the configuration names as secrets, of every kind. */
function secretVariables(config: CutoverConfig): Set<string> {
  const names = new Set<string>();
  for (const environment of Object.values(config.environments)) {
    for (const db of environment.databases) {
      for (const variable of [db.connectionEnv, db.migrationConnectionEnv, db.appConnectionEnv]) if (variable) names.add(variable);
    }
    const adminTokenEnv = (environment.router as { adminTokenEnv?: string }).adminTokenEnv;
    if (adminTokenEnv) names.add(adminTokenEnv);
  }
  if (config.slack) {
    names.add(config.slack.signingSecretEnv);
    names.add(config.slack.botTokenEnv);
  }
  return names;
}

export function agentEnvironment(config: CutoverConfig, host: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secrets = secretVariables(config);
  const needed = new Set(
    Object.values(config.environments)
      .filter((environment) => runsSlotsOn(config, environment, host))
      .flatMap((environment) => environment.databases.map((db) => loginVariable(db, 'app'))),
  );
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secrets.has(name) || needed.has(name)));
}
