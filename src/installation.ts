/**
 * Where this copy of Cutover runs from: its TypeScript sources (through tsx) or their compiled build
 * under dist/ (`npm run build`), which keeps the source layout one level deeper: dist/src/…, dist/temporal/….
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** True in the build output (this file is dist/src/installation.js), false from the sources. */
export const runsCompiled = here.endsWith('.js');

/** The checkout or image root: package.json, node_modules, examples/ and dist/ are here, whichever runs. */
export const cutoverRoot = resolve(dirname(here), runsCompiled ? '../..' : '..');

/** The build output of `npm run build`. */
export const distDir = join(cutoverRoot, 'dist');

/** The prebuilt workflow bundle of `npm run build` (bundleWorkflowCode), which a compiled worker loads. */
export const prebuiltWorkflowBundle = join(distDir, 'workflow-bundle.js');

/** The command that runs a Cutover program, named by its source file (src/api/main.ts): from dist/ when this runs compiled. */
export function programCommand(sourceFile: string): [string, string[]] {
  if (runsCompiled) return [process.execPath, ['--enable-source-maps', join(distDir, sourceFile.replace(/\.ts$/, '.js'))]];
  return [process.execPath, ['--import', 'tsx', join(cutoverRoot, sourceFile)]];
}
