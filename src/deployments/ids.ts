/** Deployment ids: `<environment>-<UTC yyyymmdd-hhmmss>-<4 hex>`, also the deployment workflow's id. */
import { randomBytes } from 'node:crypto';

/** What the API and the Slack bot accept as a deployment id: a safe alphabet, whatever its origin. */
export const deploymentIdPattern = /^[a-z][a-z0-9-]{0,80}$/;

export function newDeploymentId(environment: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${environment}-${stamp}-${randomBytes(2).toString('hex')}`;
}
