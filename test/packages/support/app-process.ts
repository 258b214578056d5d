import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../../src/process/free-port.js';

/** Where `require('pg')` of a package resolves from, as the host agent arranges it. */
export const CUTOVER_NODE_MODULES = join(import.meta.dirname, '../../../node_modules');

export interface AppProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Starts a package's server.cjs the way a slot runs it: PORT, DATABASE_URL and CUTOVER_* in its environment. */
export async function startApp(packageDir: string, env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn('node', ['server.cjs'], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '', NODE_PATH: CUTOVER_NODE_MODULES, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits until the app answers HTTP at all (any status), or fails with its output if it exits first. */
export async function waitForHttp(app: AppProcess, path = '/healthz', timeoutMs = 15_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void app.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`app exited with code ${exitCode} before answering: ${app.output()}`);
    try {
      return await fetch(app.url + path);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`app did not answer on ${path} within ${timeoutMs} ms: ${app.output()}`);
}

/** Kills what a test file started and left running (only our own children). */
export async function stopAllApps(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
