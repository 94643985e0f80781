/**
 * Prometheus side effects: evaluating catalogue checks (read-only, the same in plan mode). The result is data,
 * never a thrown error for Prometheus's sake: an unreachable Prometheus, a refused query or an unreadable
 * token make checks 'inconclusive' with the reason, so a monitor keeps running through an outage and a gate
 * can decide what "could not look" means for it.
 */
import type { Evaluation } from '../src/prometheus/alert-state.js';
import type { CheckId } from '../src/prometheus/checks.js';
import { PrometheusClient } from '../src/prometheus/client.js';
import { evaluateChecks, evaluateInstanceChecks } from '../src/prometheus/evaluate.js';
import type { PrometheusTarget } from '../src/config/prometheus-target.js';
import { trimPassing, unansweredEvaluation } from '../src/prometheus/verdict.js';
import { keptAlive } from './support/heartbeat.js';

export interface EvaluateMetricChecksInput {
  prometheus: PrometheusTarget;
  checks: CheckId[];
  /** Per-check windows in seconds; the runbook's otherwise. */
  windows?: Partial<Record<CheckId, number>>;
  /** The Prometheus job that scrapes Pulse (default "pulse"). */
  job?: string;
  /** Unix seconds to evaluate at; default now. */
  time?: number;
  /**
   * Keep at most this many passing series per check (failing and inconclusive ones are always kept), so a
   * monitor of a large fleet does not write every healthy connection's value into history each cycle.
   */
  maxPassingSeries?: number;
  /** A fleet's instances left out of the fleet-wide queries (taken out of the rollout). */
  exclude?: { label: string; values: string[] };
  /** A fleet's checkpoints per instance: the label naming an instance, the checks, and the instances expected to answer. */
  perInstance?: { label: string; checks: CheckId[]; expected: string[] };
  /**
   * 'not-passing': a passing check's result leaves its query out (it is the catalogue's, rebuilt at will), which keeps
   * a fleet's long queries out of every check's history; a failing or inconclusive one keeps it as evidence.
   */
  queries?: 'all' | 'not-passing';
}

export async function evaluateMetricChecks(input: EvaluateMetricChecksInput): Promise<Evaluation> {
  // Heartbeats while it runs: a lost worker is noticed by the heartbeat timeout (activities/support/heartbeat.ts).
  return keptAlive(() => evaluateMetricChecksNow(input));
}

async function evaluateMetricChecksNow(input: EvaluateMetricChecksInput): Promise<Evaluation> {
  let client: PrometheusClient;
  try {
    client = await PrometheusClient.create(input.prometheus);
  } catch (err) {
    const time = input.time ?? Date.now() / 1000;
    const at = new Date(Math.round(time * 1000)).toISOString();
    return unansweredEvaluation(input, at, { kind: 'auth', message: (err as Error).message });
  }
  const time = input.time ?? Math.round(Date.now()) / 1000;
  const [evaluation, perInstance] = await Promise.all([
    evaluateChecks(client, input.checks, { windows: input.windows, job: input.job, time, exclude: input.exclude }),
    input.perInstance && input.perInstance.expected.length
      ? evaluateInstanceChecks(client, input.perInstance.checks, {
          windows: input.windows,
          job: input.job,
          time,
          label: input.perInstance.label,
          expected: input.perInstance.expected,
        })
      : undefined,
  ]);
  const max = input.maxPassingSeries;
  const trimmed = max === undefined ? evaluation.results : evaluation.results.map((r) => trimPassing(r, max));
  const results = input.queries === 'not-passing' ? trimmed.map((r) => (r.verdict === 'pass' ? { ...r, query: '' } : r)) : trimmed;
  return { ...evaluation, results, ...(perInstance && { perInstance }) };
}
