/**
 * The deployment's own account of itself: phase, per-site progress, timings and the operator-facing log.
 * Pure: the workflow passes in the clock and what to do on a phase change (the search attribute).
 */
import type { RouteTarget, ServedPackage, SitePlan } from '../activities/contract.js';
import { failureClasses, type ClassifiedFailure } from '../failures.js';
import { terminalPhases } from './definitions.js';
import type {
  Action,
  Approval,
  Decision,
  DeploymentRequest,
  DeploymentStatus,
  LogLine,
  Phase,
  PhaseTiming,
  ReplayStatus,
  RollingStatus,
  SiteStatus,
} from './definitions.js';
import type { SlackMessageRef } from '../slack/contract.js';
import type { AnalysisStatus } from './analysis-definitions.js';
import type { BakeStatus } from './bake-definitions.js';
import type { CanaryStatus } from './canary-definitions.js';
import { ReplicaBook } from './replicas.js';

export type SlotRoute = Extract<RouteTarget, { kind: 'slot' }>;

/** One site's progress: what the operator sees (status) and the routes the workflow needs to move traffic. */
export interface SiteProgress {
  plan: SitePlan;
  status: SiteStatus;
  inMaintenance: boolean;
  /** The clone serving public traffic while the site is in maintenance. */
  cloneSlot: SlotRoute | null;
  /** The new version, once started. */
  preview: SlotRoute | null;
}

export class DeploymentRecord {
  phase: Phase = 'preflight';
  private readonly siteProgress = new Map<string, SiteProgress>();
  readonly lines: LogLine[] = [];
  readonly timings: PhaseTiming[] = [];
  readonly warnings: string[] = [];
  decision: Decision | null = null;
  /** Approvers' Completes so far (the audit trail); traffic moves once approvalsRequired of them are in. */
  readonly approvals: Approval[] = [];
  approvalsRequired = 1;
  failure: ClassifiedFailure | null = null;
  previousPackage: ServedPackage | null = null;
  /** Reset stays available after a failure, so the operator can leave maintenance mode without deploying. */
  waitingAfterFailure = false;
  /** A new deployment of the environment takes over from this failed one. */
  superseded = false;
  slackMessage: SlackMessageRef | null = null;
  /** The analysis during verification, once it started. */
  analysis: AnalysisStatus | null = null;
  /** The bake after Complete, once it started. */
  bake: BakeStatus | null = null;
  /** The canary steps, once they started (expand-contract with a canary). */
  canary: CanaryStatus | null = null;
  /** readwrite-replay: what the replays of the clone's writes did; null until the first (and in other modes). */
  replay: ReplayStatus | null = null;
  /** readwrite-replay: each database's totals since its capture started (a restored original starts again), summed into replay. */
  readonly replayTotals: Record<string, { applied: number; conflicts: number }> = {};
  /** Rolling strategy: per host, the version it serves and its step in the roll. */
  rolling: RollingStatus | null = null;
  /** Every copy of every site's slots, per host (a rolling deployment shows its hosts instead). */
  readonly replicas = new ReplicaBook();
  readonly startedAt: string;
  endedAt: string | null = null;

  constructor(
    readonly request: DeploymentRequest,
    private readonly now: () => Date,
    /** Every phase change goes through enter(); this tells the world (the CutoverPhase search attribute). */
    private readonly onPhase: (phase: Phase) => void = () => undefined,
  ) {
    this.startedAt = now().toISOString();
    this.timings.push({ phase: 'preflight', startedAt: this.startedAt });
  }

  enter(phase: Phase) {
    if (phase === this.phase) return;
    const at = this.now().toISOString();
    const current = this.timings[this.timings.length - 1];
    if (current && !current.endedAt) current.endedAt = at;
    this.phase = phase;
    if (!terminalPhases.includes(phase)) this.timings.push({ phase, startedAt: at });
    else if (phase !== 'failed') this.endedAt = at;
    this.onPhase(phase);
  }

  /** The replay status, made on first use. */
  get replayStatus(): ReplayStatus {
    return (this.replay ??= { applied: 0, conflictCount: 0, conflicts: [], lastReplayAt: null, final: false });
  }

  /** Workflow time, for what the record stamps (decisions, approvals). */
  at(): string {
    return this.now().toISOString();
  }

  log(message: string, level: LogLine['level'] = 'info') {
    this.lines.push({ at: this.now().toISOString(), level, message });
  }

  trackSite(plan: SitePlan, serving: string | null, liveClone: SlotRoute | null) {
    const inMaintenance = serving === 'maintenance-page' || liveClone !== null;
    const status: SiteStatus = {
      name: plan.name,
      role: plan.role,
      state: inMaintenance ? 'in-maintenance' : 'live',
      serving,
      previewSlot: null,
    };
    this.siteProgress.set(plan.name, { plan, status, inMaintenance, cloneSlot: liveClone, preview: null });
  }

  site(name: string): SiteProgress {
    const site = this.siteProgress.get(name);
    if (!site) throw new Error(`site ${name} is not tracked by this deployment`);
    return site;
  }

  sites(): SiteProgress[] {
    return [...this.siteProgress.values()];
  }

  updateSite(name: string, change: Partial<Omit<SiteStatus, 'name' | 'role' | 'replicas'>>) {
    Object.assign(this.site(name).status, change);
    if (change.serving !== undefined) this.replicas.route(name, change.serving);
  }

  fail(failure: ClassifiedFailure) {
    this.failure = failure;
    this.enter('failed');
    this.log(
      `Deployment failed${failure.site ? ` on site ${failure.site}` : ''}: ${failureClasses[failure.class].title}: ${failure.message}`,
      'error',
    );
    this.log(`What to do: ${failure.remediation}`, 'error');
  }

  actions(): Action[] {
    if (this.decision) return [];
    if (this.phase === 'awaiting-verification') return ['complete', 'reset'];
    if (this.phase === 'failed' && this.waitingAfterFailure) return ['reset'];
    return [];
  }

  status(): DeploymentStatus {
    return {
      deploymentId: this.request.deploymentId,
      environment: this.request.environment,
      mode: this.request.mode,
      package: this.request.package,
      previousPackage: this.previousPackage,
      phase: this.phase,
      sites: this.sites().map((s) => ({ ...s.status, ...(this.rolling ? {} : { replicas: this.replicas.of(s.status.name) }) })),
      actions: this.actions(),
      decision: this.decision,
      failure: this.failure,
      timings: this.timings.map((t) => ({ ...t })),
      warnings: [...this.warnings],
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      startedBy: this.request.startedBy ?? this.request.requestedBy ?? null,
      approvals: { required: this.approvalsRequired, received: this.approvals.map((a) => ({ ...a })) },
      analysis: this.analysis && copyAnalysis(this.analysis),
      ...(this.canary ? { canary: JSON.parse(JSON.stringify(this.canary)) as CanaryStatus } : {}),
      ...(this.bake ? { bake: { ...this.bake, spec: { ...this.bake.spec }, last: this.bake.last.map((t) => ({ ...t })) } } : {}),
      replay: this.replay && { ...this.replay, conflicts: this.replay.conflicts.map((c) => ({ ...c })) },
      ...(this.rolling ? { rolling: { ...this.rolling, hosts: this.rolling.hosts.map((h) => ({ ...h })) } } : {}),
    };
  }
}

/** The status is a snapshot: later changes to the record do not reach what was handed out. */
function copyAnalysis(analysis: AnalysisStatus): AnalysisStatus {
  return {
    ...analysis,
    checks: analysis.checks.map((c) => ({ ...c, live: c.live && { ...c.live } })),
    metrics: analysis.metrics.map((m) => ({ ...m, values: [...m.values] })),
  };
}
