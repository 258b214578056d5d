/**
 * Where the worker's workflow code comes from. Temporal recommends, for production, a bundle built ahead of
 * time (`npm run build` writes dist/workflow-bundle.js): the worker then starts without webpack. From the
 * sources (tsx), the worker bundles src/workflows at start, which takes seconds.
 */
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuiltWorkflowBundle, runsCompiled } from '../installation.js';

/** Names a prebuilt bundle to load instead (tests build one per run; an image may ship its own). */
export const WORKFLOW_BUNDLE_ENV = 'CUTOVER_WORKFLOW_BUNDLE';

/** The workflows module next to this file: src/workflows/index.ts, or dist/src/workflows/index.js when compiled. */
export const workflowsPath = fileURLToPath(new URL(`../workflows/index.${runsCompiled ? 'js' : 'ts'}`, import.meta.url));

export type WorkflowCode = { workflowBundle: { codePath: string } } | { workflowsPath: string };

/** The Worker.create options that say where the workflows are. */
export function workflowCode(env: NodeJS.ProcessEnv = process.env): WorkflowCode {
  const named = env[WORKFLOW_BUNDLE_ENV];
  if (named) {
    if (!existsSync(named)) throw new Error(`${WORKFLOW_BUNDLE_ENV} names ${named}, which does not exist`);
    return { workflowBundle: { codePath: named } };
  }
  if (runsCompiled && existsSync(prebuiltWorkflowBundle)) return { workflowBundle: { codePath: prebuiltWorkflowBundle } };
  return { workflowsPath };
}

/** For the worker's log line: which workflow code it loaded. */
export function describeWorkflowCode(code: WorkflowCode): string {
  return 'workflowBundle' in code ? `prebuilt bundle ${code.workflowBundle.codePath}` : `bundled at start from ${code.workflowsPath}`;
}

/** Bundles the workflows (and what they import) into one file, as the worker would at start. */
export async function writeWorkflowBundle(outFile: string, from: string = workflowsPath): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: from, logger: quietLogger });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
}

/** The bundler's progress lines are noise in a build or a test run; its warnings and errors are not. */
const quietLogger: Logger = {
  log: (level, message) => (level === 'WARN' || level === 'ERROR' ? console.error(`workflow bundle: ${message}`) : undefined),
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.error(`workflow bundle: ${message}`),
  error: (message: string) => console.error(`workflow bundle: ${message}`),
};
