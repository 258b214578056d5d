/**
 * readwrite-replay mode (docs/data-safety.md): the clone accepts writes; each copy captures them from before traffic
 * moves to the clone, and they are replayed onto the migrated originals during verification and at the switch, so that
 * none is lost. A change that no longer fits is a conflict: reported (count, table, key), never a reason to stop.
 */
import { ApplicationFailure, condition, patched } from '@temporalio/workflow';
import type { ReplayResult } from '../../engines/write-capture.js';
import { run } from '../activity-presets.js';
import type { ReplayConflictView } from '../definitions.js';
import { classify } from '../failure-classes.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { announce } from './notify.js';

export const READWRITE_REPLAY = 'readwrite-replay';

/** Engines whose contract offers startCapture and replayChanges (SQL Server: designed, not built). */
const CAPTURING_ENGINES: readonly string[] = ['postgres'];
/** How often the clone's writes are replayed while the deployment awaits verification. */
export const REPLAY_INTERVAL_MS = 30_000;
/** Conflicts listed in the status (all are counted, and stored whole in each original's cutover_replay.conflicts). */
const CONFLICTS_SHOWN = 20;
/** Conflicts named one by one in the log per replay. */
const CONFLICTS_LOGGED = 10;

/** Only a request in this mode takes the path, so earlier histories never meet the patch. */
export function usesWriteReplay(ctx: DeploymentContext): boolean {
  return ctx.request.mode === 'readwrite-replay' && patched(READWRITE_REPLAY);
}

/** Replays only where copies capture: a clone serves (or is about to), and there are databases. */
export function capturing(ctx: DeploymentContext): boolean {
  return usesWriteReplay(ctx) && ctx.plan.databases.length > 0 && ctx.record.sites().some((s) => s.cloneSlot);
}

/** Preflight: refused before anything moves when a database's engine cannot capture the clone's writes. */
export function refuseWithoutCapture(ctx: DeploymentContext): void {
  const { plan, record } = ctx;
  const lacking = plan.databases.filter((db) => !CAPTURING_ENGINES.includes(db.engine));
  if (lacking.length) {
    const names = lacking.map((db) => `database ${db.name} (${db.engine})`).join(', ');
    throw ApplicationFailure.create({
      type: 'invalid-input',
      nonRetryable: true,
      message:
        `mode readwrite-replay needs every database to capture the clone's writes, and ${names} cannot: ` +
        'only PostgreSQL can today. Deploy in readonly, readwrite or expand-contract mode',
    });
  }
  record.log(
    'ReadWrite-replay mode: the clone accepts writes; they are captured and replayed onto the migrated databases, conflicts reported.',
  );
}

/** Right after the copies stop following the originals, before traffic moves to the clones: capture starts. */
export async function startWriteCapture(ctx: DeploymentContext): Promise<void> {
  if (!capturing(ctx)) return;
  for (const db of ctx.plan.databases) {
    const started = await run(
      ctx.activities.databaseWork.startWriteCapture,
      `Capture the writes of ${db.name}'s copy`,
      databaseStep(ctx, db.name),
    );
    ctx.record.log(
      `The temporary copy of ${db.name} captures every write from now on (${started.tables} tables); its keys start ` +
        `${started.sequenceGap} past the original's`,
    );
    if (started.narrowGaps?.length)
      ctx.record.log(`Sequences of ${db.name} with less room than the gap: ${started.narrowGaps.join(', ')}`, 'warn');
  }
}

/**
 * Applies onto each original what its copy captured since the last replay. `final` once the copies take no more writes
 * (after the switch): the originals' sequences then move past the copies'.
 */
export async function replayWrites(ctx: DeploymentContext, final = false): Promise<void> {
  if (!capturing(ctx)) return;
  for (const db of ctx.plan.databases) {
    const summary = `${final ? 'Final replay' : 'Replay'} of ${db.name}'s clone writes`;
    const result = await run(ctx.activities.databaseWork.replayWrites, summary, {
      ...databaseStep(ctx, db.name),
      ...(final ? { final } : {}),
    });
    recordReplay(ctx, db.name, result, final);
  }
  if (final) ctx.record.replayStatus.final = true;
}

/** The database was put back to its restore point: what was replayed onto it is gone, and is replayed again. */
export function forgetReplays(ctx: DeploymentContext, database: string): void {
  if (!capturing(ctx)) return;
  const replay = ctx.record.replayStatus;
  delete ctx.record.replayTotals[database];
  replay.conflicts = replay.conflicts.filter((c) => c.database !== database);
  sumTotals(ctx);
}

/** While the deployment awaits verification: a replay at once, then every REPLAY_INTERVAL_MS until stop(). */
export function replayPeriodically(ctx: DeploymentContext): { stop(): Promise<void> } | null {
  if (!capturing(ctx)) return null;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const before = ctx.record.replay?.conflictCount ?? 0;
        await replayWrites(ctx);
        // The approval message shows the new conflicts, so whoever decides has the facts.
        if (ctx.record.replayStatus.conflictCount > before && !ctx.record.decision) await announce(ctx, 'analysis');
      } catch (error) {
        // The next replay (or the one at Complete / Reset) resumes after the last committed batch.
        ctx.record.log(`Replaying the clone's writes failed, tried again later: ${classify(error).message}`, 'warn');
      }
      await condition(() => stopped, REPLAY_INTERVAL_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

function recordReplay(ctx: DeploymentContext, database: string, result: ReplayResult, final: boolean) {
  const { record } = ctx;
  const replay = record.replayStatus;
  record.replayTotals[database] = { ...result.total };
  sumTotals(ctx);
  replay.lastReplayAt = record.at();
  const fresh: ReplayConflictView[] = result.conflicts.map((c) => ({ database, table: c.table, key: c.key, op: c.op, reason: c.reason }));
  replay.conflicts = [...replay.conflicts, ...fresh].slice(0, CONFLICTS_SHOWN);
  if (result.applied === 0 && result.conflictCount === 0 && !final) return;
  const synced = result.sequencesSynced ? `; ${result.sequencesSynced} sequences of the original moved past the copy's` : '';
  record.log(
    `${final ? 'Final replay' : 'Replayed'} onto ${database}: ${result.applied} changes the clone accepted` +
      `${result.conflictCount ? `, ${result.conflictCount} conflicts` : ''} (since capture started: ${result.total.applied} applied, ` +
      `${result.total.conflicts} conflicts)${synced}`,
    result.conflictCount ? 'warn' : 'info',
  );
  for (const c of fresh.slice(0, CONFLICTS_LOGGED))
    record.log(`Replay conflict on ${database}: ${c.op} on ${c.table} key ${JSON.stringify(c.key)}: ${c.reason}`, 'warn');
  if (result.conflictCount > CONFLICTS_LOGGED)
    record.log(
      `… and ${result.conflictCount - CONFLICTS_LOGGED} more: every one is kept in ${database}'s cutover_replay.conflicts`,
      'warn',
    );
}

function sumTotals({ record }: DeploymentContext) {
  const totals = Object.values(record.replayTotals);
  record.replayStatus.applied = totals.reduce((n, t) => n + t.applied, 0);
  record.replayStatus.conflictCount = totals.reduce((n, t) => n + t.conflicts, 0);
}
