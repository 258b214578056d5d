/**
 * `npm run build`: compiles Cutover to JavaScript in dist/ (tsc, ESM, source maps) and writes the prebuilt
 * workflow bundle dist/workflow-bundle.js (bundleWorkflowCode), which the compiled worker loads.
 * With --if-stale (npm start, npm run demo), does nothing when dist/ was built from the current sources.
 * The new build is made beside dist/ and swapped in whole: a running stack never sees half a build.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cutoverRoot, distDir } from '../src/installation.js';
import { isAlive } from '../src/stack/processes.js';
import { writeWorkflowBundle } from '../src/worker/workflow-code.js';

/** What the build reads: a change to any of these makes dist/ stale. */
const INPUT_DIRS = ['src', 'temporal'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts'];
/** Written last into a complete build: the hash of the inputs it was built from. */
const STAMP = '.build-inputs';
const LOCK_WAIT_MS = 10 * 60_000;

const nextDir = join(cutoverRoot, 'dist.next');
const oldDir = join(cutoverRoot, 'dist.old');
const lockFile = join(cutoverRoot, 'dist.lock');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function inputsHash(): string {
  const files = [...INPUT_DIRS.flatMap((dir) => filesUnder(join(cutoverRoot, dir))), ...INPUT_FILES.map((f) => join(cutoverRoot, f))];
  const hash = createHash('sha256');
  for (const file of files.filter((f) => existsSync(f)).sort())
    hash
      .update(`${relative(cutoverRoot, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  return hash.digest('hex');
}

const builtFrom = (): string | null => (existsSync(join(distDir, STAMP)) ? readFileSync(join(distDir, STAMP), 'utf8').trim() : null);

/** One build at a time per checkout (tests and `npm start` may ask together); a dead builder's lock is taken over. */
async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      writeFileSync(lockFile, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8').trim() || NaN);
      if (Number.isInteger(holder) && !isAlive(holder)) rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) holds ${lockFile}`, { cause: error });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

async function build(inputs: string): Promise<void> {
  rmSync(nextDir, { recursive: true, force: true });
  try {
    await buildInto(nextDir, inputs);
  } catch (error) {
    rmSync(nextDir, { recursive: true, force: true });
    throw error;
  }
  rmSync(oldDir, { recursive: true, force: true });
  if (existsSync(distDir)) renameSync(distDir, oldDir);
  renameSync(nextDir, distDir);
  rmSync(oldDir, { recursive: true, force: true });
}

async function buildInto(dir: string, inputs: string): Promise<void> {
  const tsc = join(cutoverRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(cutoverRoot, 'tsconfig.build.json'), '--outDir', dir], {
    stdio: 'inherit',
  });
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal})`);
  // From the compiled workflows: the bundle is exactly the code that dist/ holds.
  await writeWorkflowBundle(join(dir, 'workflow-bundle.js'), join(dir, 'src', 'workflows', 'index.js'));
  writeFileSync(join(dir, STAMP), `${inputs}\n`);
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && builtFrom() === inputsHash()) return;
  await withLock(async () => {
    // Hashed before compiling: a source edited during the build leaves dist/ stale, as it is.
    const inputs = inputsHash();
    if (ifStale && builtFrom() === inputs) return; // built meanwhile by whoever held the lock
    const started = Date.now();
    console.log(ifStale ? 'dist/ is missing or older than the sources: building (npm run build)' : 'building dist/');
    await build(inputs);
    console.log(`built dist/ with the workflow bundle in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

main().catch((error) => {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
