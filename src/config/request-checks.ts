/**
 * What a deployment request may ask of its environment, checked against the environment's configuration before
 * anything starts: each problem names the request's field, so the API refuses the request and nothing changes.
 */
import type { EnvironmentConfig } from './schema.js';

export interface RequestProblem {
  field: string;
  message: string;
}

interface RequestedFeatures {
  analysis?: { metrics: Array<{ prometheus?: string }> } | null;
  canary?: unknown;
}

export function requestProblems(
  environment: Pick<EnvironmentConfig, 'analysis' | 'dataPlane'>,
  request: RequestedFeatures,
): RequestProblem[] {
  return [...prometheusProblems(environment, request), ...canaryProblems(environment, request)];
}

/** A request may query only the Prometheus servers its environment's configuration names: the host agent fetches them. */
function prometheusProblems(environment: Pick<EnvironmentConfig, 'analysis'>, request: RequestedFeatures): RequestProblem[] {
  if (!request.analysis) return [];
  const allowed = new Set((environment.analysis?.metrics ?? []).flatMap((m) => (m.prometheus ? [m.prometheus] : [])));
  // A builtin metric (no prometheus) reads the environment's own router: nothing to allow.
  return request.analysis.metrics.flatMap((m, i) =>
    m.prometheus === undefined || allowed.has(m.prometheus)
      ? []
      : [
          {
            field: `body.analysis.metrics[${i}].prometheus`,
            message: `must be a Prometheus the environment's configuration names (${[...allowed].join(', ') || 'none'})`,
          },
        ],
  );
}

/** Only the built-in router splits clients between two slots: on HAProxy or nginx a canary is refused before it starts. */
function canaryProblems(environment: Pick<EnvironmentConfig, 'dataPlane'>, request: RequestedFeatures): RequestProblem[] {
  if (!request.canary || environment.dataPlane.adapter === 'builtin') return [];
  const message = `needs the built-in router: this environment's data plane is ${environment.dataPlane.adapter}, which has no canary`;
  return [{ field: 'body.canary', message }];
}
