/**
 * One evaluation of catalogue checks through the Prometheus activity, for the alert monitor and the canary. The
 * activity reports an unreachable Prometheus itself ('inconclusive' per check); when the activity itself fails
 * (worker lost, retries exhausted) the run could not look either, so every check is 'inconclusive' with the reason,
 * never a pass and never a failed run. Deterministic: times come from the workflow clock.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type * as prometheusActivities from '../../activities/prometheus.js';
import type { EvaluateMetricChecksInput } from '../../activities/prometheus.js';
import type { Evaluation } from '../../src/prometheus/alert-state.js';
import { unansweredEvaluation } from '../../src/prometheus/verdict.js';

export async function evaluateOrInconclusive(
  prometheus: Pick<typeof prometheusActivities, 'evaluateMetricChecks'>,
  args: EvaluateMetricChecksInput,
): Promise<Evaluation> {
  try {
    return await prometheus.evaluateMetricChecks(args);
  } catch (err) {
    const at = new Date(args.time !== undefined ? Math.round(args.time * 1000) : Date.now()).toISOString();
    return unansweredEvaluation(args, at, { kind: 'internal', message: failureMessage(err) });
  }
}

/** "Type: message" of the innermost failure. */
export function failureMessage(err: unknown): string {
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (inner instanceof ApplicationFailure) return `${inner.type ? `${inner.type}: ` : ''}${inner.message}`;
  return inner instanceof Error ? inner.message : String(inner);
}
