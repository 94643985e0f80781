/**
 * Evaluates a set of checks against Prometheus at one instant: all queries at the same `time`, in parallel,
 * each judged by its catalogue entry. Never throws for Prometheus's sake: an unreachable Prometheus or a
 * refused query makes that check 'inconclusive' with the error kept, and `reachable` says whether any query
 * was answered at all.
 */
import { CHECKS, checkQuery, requestedQuery, type CheckId, type QueryParams } from './checks.js';
import type { PrometheusClient } from './client.js';
import { PrometheusError } from './errors.js';
import type { Evaluation } from './alert-state.js';
import { judge, judgeInstances, unanswered, type CheckResult, type InstanceCheckResult } from './verdict.js';

export interface EvaluateOptions {
  /** Per-check windows (seconds) overriding the runbook's. */
  windows?: Partial<Record<CheckId, number>>;
  /** The Prometheus job that scrapes Pulse. */
  job?: string;
  /** Unix seconds to evaluate at; default now. */
  time?: number;
  /** A fleet's instances left out of the queries (see QueryParams.exclude). */
  exclude?: QueryParams['exclude'];
}

export async function evaluateCheck(client: PrometheusClient, id: CheckId, time: number, opts: EvaluateOptions = {}): Promise<CheckResult> {
  const { query, windowSeconds } = requestedQuery(id, opts);
  const at = new Date(Math.round(time * 1000)).toISOString();
  try {
    return judge(id, query, await client.query(query, time), at, windowSeconds);
  } catch (err) {
    const error =
      err instanceof PrometheusError
        ? { kind: err.kind, message: err.message }
        : { kind: 'internal' as const, message: (err as Error).message };
    return unanswered(id, query, at, error, windowSeconds);
  }
}

export async function evaluateChecks(client: PrometheusClient, ids: readonly CheckId[], opts: EvaluateOptions = {}): Promise<Evaluation> {
  for (const id of ids) if (!CHECKS[id]) throw new Error(`unknown check "${id}"; known: ${Object.keys(CHECKS).join(', ')}`);
  const time = opts.time ?? Math.round(Date.now()) / 1000;
  const results = await Promise.all(ids.map((id) => evaluateCheck(client, id, time, opts)));
  const reachable = results.some((r) => !r.error || (r.error.kind !== 'unavailable' && r.error.kind !== 'auth'));
  return { at: new Date(Math.round(time * 1000)).toISOString(), prometheusUrl: client.baseUrl, reachable, results };
}

export interface InstanceChecksOptions {
  windows?: Partial<Record<CheckId, number>>;
  job?: string;
  /** Unix seconds. */
  time: number;
  /** The label that names an instance, and the instances expected to answer. */
  label: string;
  expected: readonly string[];
}

/** The checkpoints per instance (one query per check, grouped by the instance label), all at the same time. */
export async function evaluateInstanceChecks(
  client: PrometheusClient,
  ids: readonly CheckId[],
  opts: InstanceChecksOptions,
): Promise<InstanceCheckResult[]> {
  const at = new Date(Math.round(opts.time * 1000)).toISOString();
  return Promise.all(
    ids.map(async (id) => {
      const { query, windowSeconds } = checkQuery(id, { windowSeconds: opts.windows?.[id], job: opts.job, by: opts.label });
      try {
        return judgeInstances(id, query, await client.query(query, opts.time), at, opts.label, opts.expected, windowSeconds);
      } catch (err) {
        const error =
          err instanceof PrometheusError
            ? { kind: err.kind, message: err.message }
            : { kind: 'internal' as const, message: (err as Error).message };
        return { check: id, evaluatedAt: at, query, windowSeconds, notPassing: [], passing: 0, error };
      }
    }),
  );
}
