/** The demo deployment: v1 goes live, then v2 is deployed and left awaiting verification. */
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { repoRoot } from './processes.js';

/** The demo packages of this repository, wherever the config file lives. */
const demoPackage = (version: 'v1' | 'v2') => join(repoRoot, 'examples/demo-app', version);

interface Status {
  deploymentId: string;
  phase: string;
  failure: { class: string; message: string; remediation: string } | null;
  links: { previews: Record<string, string>; publics: Record<string, string>; temporalUi: string };
}

async function api<T>(apiUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      // An API with an auth section (the compose demo's) takes the token the CLI takes too.
      ...(process.env.CUTOVER_TOKEN ? { authorization: `Bearer ${process.env.CUTOVER_TOKEN}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function waitForPhase(apiUrl: string, id: string, phases: string[]): Promise<Status> {
  let last = '';
  for (;;) {
    const status = await api<Status>(apiUrl, 'GET', `/v1/deployments/${id}`);
    if (status.phase !== last) {
      console.log(`    ${new Date().toISOString().slice(11, 19)}  ${status.phase}`);
      last = status.phase;
    }
    if (status.phase === 'failed') {
      const log = await fetch(`${apiUrl}/v1/deployments/${id}/log`).then((r) => r.text());
      throw new Error(
        `deployment ${id} failed (${status.failure?.class}): ${status.failure?.message}\n${status.failure?.remediation}\n\n${log}`,
      );
    }
    if (phases.includes(status.phase)) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function deploy(apiUrl: string, environment: string, pkg: string, mode: string, extra: Record<string, unknown> = {}) {
  const body = { package: pkg, mode, requestedBy: 'demo', ...extra };
  const started = await api<{ deploymentId: string }>(apiUrl, 'POST', `/v1/environments/${environment}/deployments`, body);
  console.log(`  deployment ${started.deploymentId}: ${pkg} in ${mode} mode`);
  return started.deploymentId;
}

export async function runDemo({ apiUrl, config, temporalUi }: { apiUrl: string; config: LoadedConfig; temporalUi: string }) {
  const environment = 'demo';
  if (!config.environments[environment]) throw new Error('the demo needs the environment "demo" of cutover.yaml');
  const env = await api<{ livePackage: { version: string } | null; runningDeployment: string | null }>(
    apiUrl,
    'GET',
    `/v1/environments/${environment}`,
  );
  if (env.runningDeployment) {
    console.log(`The demo environment already has a deployment in progress: ${env.runningDeployment}`);
    return printNext(apiUrl, await api<Status>(apiUrl, 'GET', `/v1/deployments/${env.runningDeployment}`), temporalUi);
  }
  if (env.livePackage?.version !== '1.0.0') {
    console.log('\nDeploying demo-app v1 (first deployment: no clone needed)');
    // A replayed demo rolls v1 forward over v2's migration, on purpose.
    const v1 = await deploy(apiUrl, environment, demoPackage('v1'), 'readonly', { allowMissingMigrations: true });
    await waitForPhase(apiUrl, v1, ['awaiting-verification']);
    await api(apiUrl, 'POST', `/v1/deployments/${v1}/complete`, { requestedBy: 'demo' });
    await waitForPhase(apiUrl, v1, ['completed']);
    const site = config.environments[environment]!.sites[0]!;
    await fetch(`http://127.0.0.1:${site.publicPort}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Written while v1 was live' }),
    });
  }
  console.log('\nDeploying demo-app v2 in readonly mode (adds a column through a migration)');
  const v2 = await deploy(apiUrl, environment, demoPackage('v2'), 'readonly');
  printNext(apiUrl, await waitForPhase(apiUrl, v2, ['awaiting-verification']), temporalUi);
}

function printNext(apiUrl: string, status: Status, temporalUi: string) {
  const id = status.deploymentId;
  console.log(`\nDeployment ${id} is ${status.phase}.`);
  for (const [site, url] of Object.entries(status.links.publics))
    console.log(`  public  ${site}: ${url}   (the clone, read-only: writes answer 503)`);
  for (const [site, url] of Object.entries(status.links.previews))
    console.log(`  preview ${site}: ${url}   (the new version on the migrated database)`);
  console.log(`  API:             ${apiUrl}/v1/deployments/${id}`);
  console.log(`  Temporal Web UI: ${status.links.temporalUi || temporalUi}`);
  console.log('\nThen decide:');
  console.log(`  curl -X POST ${apiUrl}/v1/deployments/${id}/complete`);
  console.log(
    `  curl -X POST -H 'content-type: application/json' -d '{"rollbackDatabase":false}' ${apiUrl}/v1/deployments/${id}/reset   # code only`,
  );
  console.log(
    `  curl -X POST -H 'content-type: application/json' -d '{"rollbackDatabase":true}' ${apiUrl}/v1/deployments/${id}/reset    # code and database`,
  );
  console.log(`  temporal workflow update execute --workflow-id ${id} --name complete --input '{}'`);
  console.log(`  curl ${apiUrl}/v1/deployments/${id}/log`);
}
