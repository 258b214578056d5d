/** A deployment as the API shows it, fetched on behalf of a principal who must be allowed on its environment. */
import { DeploymentNotFound } from '../deployments/errors.js';
import type { DeploymentRef } from '../deployments/service.js';
import type { DeploymentStatus } from '../workflows/definitions.js';
import { mayAccess, type Principal } from './auth.js';
import type { ApiDeps } from './deps.js';
import { siteUrls } from '../config/addresses.js';

export function deploymentView(deps: ApiDeps) {
  const withLinks = (status: DeploymentStatus) => {
    const env = deps.config.environments[status.environment];
    const urls = (env?.sites ?? []).map((s) => [s.name, siteUrls(env!, s)] as const);
    return {
      ...status,
      workflowId: status.deploymentId,
      links: {
        log: `/v1/deployments/${status.deploymentId}/log`,
        temporalUi: deps.deployments.temporalUiUrl(status.deploymentId),
        previews: Object.fromEntries(urls.map(([name, u]) => [name, u.previewUrl])),
        publics: Object.fromEntries(urls.map(([name, u]) => [name, u.publicUrl])),
      },
    };
  };

  return {
    withLinks,
    /**
     * The deployment, from what Temporal recorded (no worker needed), before anything else is asked of it.
     * One 404 for a missing deployment and one of an environment the principal may not see: ids tell nothing.
     */
    async find(principal: Principal, id: string): Promise<DeploymentRef> {
      const deployment = await deps.deployments.find(id);
      if (!mayAccess(principal, deployment.environment)) throw new DeploymentNotFound(id);
      return deployment;
    },
  };
}

/** Who acts, for the approval policy: the token's name; a name the caller gives only when auth is off. */
export function identity(principal: Principal, named: string | undefined): string {
  return principal.anonymous ? (named ?? principal.name) : principal.name;
}

/** Who asked, for the deployment log: the token's name, and the person the caller names if any. */
export function requester(principal: Principal, named: string | undefined): string | undefined {
  if (principal.anonymous) return named;
  return named ? `${named} (token ${principal.name})` : principal.name;
}
