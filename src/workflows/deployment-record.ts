/** The deployment's own account of itself: phase, per-site state, timings and the operator-facing log. Pure. */
import { failureClasses, type ClassifiedFailure } from '../failures.js';
import type {
  Action,
  Decision,
  DeploymentRequest,
  DeploymentStatus,
  LogLine,
  Phase,
  PhaseTiming,
  SiteRole,
  SiteStatus,
} from './definitions.js';

export class DeploymentRecord {
  phase: Phase = 'preflight';
  readonly sites = new Map<string, SiteStatus>();
  readonly lines: LogLine[] = [];
  readonly timings: PhaseTiming[] = [];
  readonly warnings: string[] = [];
  decision: Decision | null = null;
  failure: ClassifiedFailure | null = null;
  previousPackage: { sha256: string; version: string } | null = null;
  /** Reset stays available after a failure, so the operator can leave maintenance mode without deploying. */
  waitingAfterFailure = false;
  readonly startedAt: string;
  endedAt: string | null = null;

  constructor(
    readonly request: DeploymentRequest,
    private readonly now: () => Date,
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
    if (phase === 'completed' || phase === 'reset' || phase === 'failed') {
      if (phase !== 'failed') this.endedAt = at;
    } else {
      this.timings.push({ phase, startedAt: at });
    }
  }

  log(message: string, level: LogLine['level'] = 'info') {
    this.lines.push({ at: this.now().toISOString(), level, message });
  }

  trackSite(name: string, role: SiteRole, serving: string | null) {
    this.sites.set(name, { name, role, state: 'live', serving, previewSlot: null });
  }

  updateSite(name: string, change: Partial<Omit<SiteStatus, 'name' | 'role'>>) {
    const site = this.sites.get(name);
    if (site) Object.assign(site, change);
  }

  fail(failure: ClassifiedFailure) {
    this.failure = failure;
    this.enter('failed');
    const where = failure.site ? ` on site ${failure.site}` : failure.database ? ` on database ${failure.database}` : '';
    this.log(`Deployment failed${where}: ${failureClasses[failure.class].title}: ${failure.message}`, 'error');
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
      sites: [...this.sites.values()].map((s) => ({ ...s })),
      actions: this.actions(),
      decision: this.decision,
      failure: this.failure,
      timings: this.timings.map((t) => ({ ...t })),
      warnings: [...this.warnings],
      startedAt: this.startedAt,
      endedAt: this.endedAt,
    };
  }
}
