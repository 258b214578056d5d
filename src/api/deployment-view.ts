/** A deployment as the API shows it, fetched on behalf of a principal who must be allowed on its environment. */
import type { DeploymentStatus } from '../workflows/definitions.js';
import { assertEnvironment, type Principal } from './auth.js';
import type { ApiDeps } from './deps.js';

export function deploymentView(deps: ApiDeps) {
  const withLinks = (status: DeploymentStatus) => {
    const env = deps.config.environments[status.environment];
    const host = env?.router.listenHost === '0.0.0.0' ? '127.0.0.1' : (env?.router.listenHost ?? '127.0.0.1');
    return {
      ...status,
      workflowId: status.deploymentId,
      links: {
        log: `/v1/deployments/${status.deploymentId}/log`,
        temporalUi: deps.deployments.temporalUiUrl(status.deploymentId),
        previews: Object.fromEntries((env?.sites ?? []).map((s) => [s.name, `http://${host}:${s.previewPort}/`])),
        publics: Object.fromEntries((env?.sites ?? []).map((s) => [s.name, `http://${host}:${s.publicPort}/`])),
      },
    };
  };

  return {
    withLinks,
    /** 404 when there is no such deployment, 403 when the principal may not see its environment. */
    async status(principal: Principal, id: string): Promise<DeploymentStatus> {
      const status = await deps.deployments.status(id);
      assertEnvironment(principal, status.environment);
      return status;
    },
    /** The same check before Complete or Reset, from what Temporal recorded: no worker needed (updates wait for one). */
    async authorize(principal: Principal, id: string): Promise<void> {
      assertEnvironment(principal, await deps.deployments.environmentOf(id));
    },
  };
}

/** Who asked, for the deployment log: the token's name, and the person the caller names if any. */
export function requester(principal: Principal, named: string | undefined): string | undefined {
  if (principal.anonymous) return named;
  return named ? `${named} (token ${principal.name})` : principal.name;
}
