import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import { libpqEnvironment } from './connection-url.js';
import { withHeartbeat } from '../heartbeat.js';
import { conninfoFor } from './sql.js';

export interface ToolInvocation {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface CopyCommandsInput {
  binDir: string;
  from: string;
  to: string;
  /** Keep the objects' owners: only a superuser may restore objects owned by other roles. */
  keepOwners: boolean;
  /** Dump as of this exported snapshot (the moment a copy starts following from) instead of a fresh one. */
  snapshot?: string;
}

/** pg_dump | pg_restore: credentials in the environment only, database names as conninfo (no URL, no password on the command line). */
export function copyCommands(db: DatabaseHandle, input: CopyCommandsInput): { dump: ToolInvocation; restore: ToolInvocation } {
  const env = libpqEnvironment(db);
  env.PGCONNECT_TIMEOUT ??= '10';
  return {
    dump: {
      command: join(input.binDir, 'pg_dump'),
      // One snapshot for the whole dump; ACCESS SHARE locks only, which writers never wait for.
      // Uncompressed: the stream never leaves this host, compressing it would only cost CPU.
      // No publications or subscriptions: a copy must never publish, or consume a slot, on the original's behalf.
      args: [
        '--format=custom',
        '--compress=0',
        '--no-password',
        '--lock-wait-timeout=30000',
        '--no-publications',
        '--no-subscriptions',
        ...(input.snapshot ? [`--snapshot=${input.snapshot}`] : []),
        `--dbname=${conninfoFor(input.from)}`,
      ],
      env,
    },
    restore: {
      command: join(input.binDir, 'pg_restore'),
      args: ['--exit-on-error', '--no-password', ...(input.keepOwners ? [] : ['--no-owner']), `--dbname=${conninfoFor(input.to)}`],
      env,
    },
  };
}

/** Last few kilobytes a tool wrote to stderr: enough to explain a failure. */
function stderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  return () => tail.trim();
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

function toolFailure(tool: ToolInvocation, exit: Exit, stderr: string): Error {
  const name = tool.command.split('/').pop() ?? tool.command;
  if (exit.spawnError) {
    const missing = (exit.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
    return missing
      ? new EngineError(
          'invalid-input',
          `PostgreSQL client tool not found: ${tool.command} (check postgres.binDir in the Cutover configuration)`,
        )
      : new Error(`${name} could not be started: ${exit.spawnError.message}`);
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return new Error(`${name} ${how}: ${stderr || '(no error output)'}`);
}

/**
 * Streams a custom-format dump of `from` into `to`, which must exist and be empty.
 * Either tool failing stops the other; the error carries the failing tool's own output.
 */
export async function dumpAndRestore(db: DatabaseHandle, input: CopyCommandsInput, heartbeat: HeartbeatFn): Promise<void> {
  const { dump, restore } = copyCommands(db, input);
  let copiedBytes = 0;
  await withHeartbeat(
    heartbeat,
    () => ({ step: 'copy', copiedBytes }),
    async () => {
      const dumping = spawn(dump.command, dump.args, { env: dump.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const restoring = spawn(restore.command, restore.args, { env: restore.env, stdio: ['pipe', 'ignore', 'pipe'] });
      const dumpErrors = stderrTail(dumping);
      const restoreErrors = stderrTail(restoring);
      const dumpExit = exitOf(dumping);
      const restoreExit = exitOf(restoring);
      const stop = (child: ChildProcess) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      };
      void dumpExit.then((exit) => exit.code !== 0 && stop(restoring));
      void restoreExit.then((exit) => exit.code !== 0 && stop(dumping));
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          copiedBytes += chunk.length;
          done(null, chunk);
        },
      });
      const piping = dumping.stdout && restoring.stdin ? pipeline(dumping.stdout, counter, restoring.stdin) : Promise.resolve();
      const [dumped, restored] = await Promise.all([dumpExit, restoreExit, piping.catch(() => undefined)]);
      const failed = [
        { tool: dump, exit: dumped, stderr: dumpErrors() },
        { tool: restore, exit: restored, stderr: restoreErrors() },
      ].filter((f) => f.exit.code !== 0);
      if (failed.length === 0) return;
      // The tool that failed on its own (an exit code, not our signal or a broken pipe) explains the other's failure: it comes first.
      failed.sort((a, b) => Number(a.exit.signal !== null) - Number(b.exit.signal !== null));
      const errors = failed.map((f) => toolFailure(f.tool, f.exit, f.stderr));
      const [first] = errors;
      if (errors.length === 1 || first instanceof EngineError) throw first;
      throw new Error(errors.map((e) => e.message).join('; then '));
    },
  );
}
