/**
 * Turns what Prometheus answered for a check into a verdict: per series (pass, fail, or inconclusive for NaN),
 * then for the check (fail if any series fails, else inconclusive if any series or the empty result is, else
 * pass). Prometheus being unreachable, or refusing the query, is 'inconclusive' with the error kept: a check
 * that could not look never passes. Pure and JSON-only, so results travel through Temporal payloads.
 */
import type { Action, Evidence } from '../runbook/evidence.js';
import type { StepId } from '../runbook/steps.js';
import type { Evaluation } from './alert-state.js';
import {
  CHECKS,
  requestedQuery,
  checkReference,
  compare,
  parseValue,
  type CheckId,
  type CheckVerdict,
  type Comparison,
  type Severity,
} from './checks.js';
import type { InstantResult, Labels } from './client.js';
import type { PrometheusErrorKind } from './errors.js';

export interface SeriesResult {
  labels: Labels;
  /** Prometheus's value string ("3", "NaN", "+Inf"), kept as sent: JSON has no NaN. */
  value: string;
  verdict: CheckVerdict;
}

export interface CheckResult {
  check: CheckId;
  kind: 'alert' | 'gate';
  severity: Severity;
  query: string;
  windowSeconds?: number;
  comparison: Comparison;
  threshold: number;
  /** ISO time the query was evaluated at. */
  evaluatedAt: string;
  verdict: CheckVerdict;
  /** One sentence for people: what was seen and why that is the verdict. */
  reason: string;
  series: SeriesResult[];
  /** True when the query returned no series. */
  empty: boolean;
  /** Why the query gave no answer (the verdict is then 'inconclusive'). */
  error?: { kind: PrometheusErrorKind | 'internal'; message: string };
  /** Hints about the scrape setup, e.g. a missing honor_labels. */
  warnings?: string[];
  /** Passing series left out to keep the result small (see evaluateMetricChecks' maxPassingSeries). */
  omittedPassingSeries?: number;
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).filter((k) => k !== 'job' && k !== 'instance_type');
  return keys.length
    ? `{${keys
        .sort()
        .map((k) => `${k}="${labels[k]}"`)
        .join(',')}}`
    : '';
}

export function judgeSeries(id: CheckId, value: string): CheckVerdict {
  const check = CHECKS[id];
  const n = parseValue(value);
  if (Number.isNaN(n)) return check.onNaN;
  return compare(n, check.comparison, check.threshold) ? 'fail' : 'pass';
}

/** A sort key of a label set: its pairs in name order. */
function labelsOrder(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/**
 * Keeps at most `max` passing series (failing and inconclusive ones are always kept), so a check over a large fleet
 * does not write every healthy series into history each cycle; `omittedPassingSeries` counts the rest.
 */
export function trimPassing(result: CheckResult, max: number): CheckResult {
  const passing = result.series.filter((s) => s.verdict === 'pass');
  if (passing.length <= max) return result;
  const kept = new Set(passing.slice(0, max));
  return {
    ...result,
    series: result.series.filter((s) => s.verdict !== 'pass' || kept.has(s)),
    omittedPassingSeries: passing.length - max,
  };
}

/** What every result of a check says before its verdict: the check, its rule and the query asked. */
function resultOf(id: CheckId, query: string, evaluatedAt: string, windowSeconds?: number) {
  const check = CHECKS[id];
  return {
    check: id,
    kind: check.kind,
    severity: check.severity,
    query,
    windowSeconds,
    comparison: check.comparison,
    threshold: check.threshold,
    evaluatedAt,
  };
}

/** The verdict of a check from Prometheus's answer. */
export function judge(id: CheckId, query: string, answer: InstantResult, evaluatedAt: string, windowSeconds?: number): CheckResult {
  const check = CHECKS[id];
  const base = resultOf(id, query, evaluatedAt, windowSeconds);
  let samples: Array<{ labels: Labels; value: string }>;
  if (answer.resultType === 'vector') samples = answer.samples;
  else if (answer.resultType === 'scalar') samples = [answer.sample];
  else {
    return {
      ...base,
      verdict: 'inconclusive',
      reason: `the query returned a ${answer.resultType}, not a vector`,
      series: [],
      empty: false,
      error: { kind: 'protocol', message: `unexpected ${answer.resultType} result` },
    };
  }
  // In label order: an instant and a range query list the same series in different orders, and the reason text,
  // the series kept and the resource readings must not depend on which one asked (canary simulate).
  const series: SeriesResult[] = samples
    .map((s) => ({ labels: s.labels, value: s.value, verdict: judgeSeries(id, s.value), key: labelsOrder(s.labels) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ key: _key, ...s }) => s);
  const warnings = samples.some((s) => 'exported_instance' in s.labels)
    ? [
        'series carry exported_instance: scrape Pulse with honor_labels: true, or per-connection alerts group by the scrape target instead of the connection id',
      ]
    : undefined;
  const rule = `${check.comparison} ${check.threshold}`;
  if (series.length === 0) {
    return {
      ...base,
      verdict: check.onEmpty,
      reason: `no series (empty result): ${check.onEmpty} by definition of this check`,
      series,
      empty: true,
      warnings,
    };
  }
  const failing = series.filter((s) => s.verdict === 'fail');
  const unknown = series.filter((s) => s.verdict === 'inconclusive');
  let verdict: CheckVerdict;
  let reason: string;
  if (failing.length) {
    verdict = 'fail';
    reason = `${failing.length} of ${series.length} series ${rule}: ${failing
      .slice(0, 5)
      .map((s) => `${labelText(s.labels) || 'value'} ${s.value}`)
      .join(', ')}`;
  } else if (unknown.length) {
    verdict = 'inconclusive';
    reason = `${unknown.length} of ${series.length} series have no number (${unknown[0].value}); none ${rule}`;
  } else {
    verdict = 'pass';
    reason = `no series ${rule} (${series
      .slice(0, 5)
      .map((s) => `${labelText(s.labels) || 'value'} ${s.value}`)
      .join(', ')})`;
  }
  return { ...base, verdict, reason, series, empty: false, warnings };
}

/**
 * A check evaluated per instance of a fleet (issue 17): one series per instance, grouped by its label. Kept small
 * for 500 instances: the instances that did not pass with their values, and how many passed; the query only when
 * someone did not pass.
 */
export interface InstanceCheckResult {
  check: CheckId;
  evaluatedAt: string;
  query?: string;
  windowSeconds?: number;
  /** Instances that did not pass: the value (null: no series for it) and the catalogue's verdict. */
  notPassing: Array<{ instance: string; value: string | null; verdict: CheckVerdict }>;
  passing: number;
  /** The query could not be run: no instance was judged this time. */
  error?: { kind: PrometheusErrorKind | 'internal'; message: string };
}

/** Judges each expected instance from the per-instance answer; one with no series gets the check's empty verdict. */
export function judgeInstances(
  id: CheckId,
  query: string,
  answer: InstantResult,
  evaluatedAt: string,
  label: string,
  expected: readonly string[],
  windowSeconds?: number,
): InstanceCheckResult {
  const samples = answer.resultType === 'vector' ? answer.samples : answer.resultType === 'scalar' ? [answer.sample] : [];
  const values = new Map<string, string>();
  for (const s of samples) {
    const name = s.labels[label];
    if (name !== undefined) values.set(name, s.value);
  }
  const notPassing: InstanceCheckResult['notPassing'] = [];
  let passing = 0;
  for (const instance of expected) {
    const value = values.get(instance);
    const verdict = value === undefined ? CHECKS[id].onEmpty : judgeSeries(id, value);
    if (verdict === 'pass') passing += 1;
    else notPassing.push({ instance, value: value ?? null, verdict });
  }
  return { check: id, evaluatedAt, ...(notPassing.length && { query, windowSeconds }), notPassing, passing };
}

/** The result of a check whose query could not be run. */
export function unanswered(
  id: CheckId,
  query: string,
  evaluatedAt: string,
  error: { kind: PrometheusErrorKind | 'internal'; message: string },
  windowSeconds?: number,
): CheckResult {
  return {
    ...resultOf(id, query, evaluatedAt, windowSeconds),
    verdict: 'inconclusive',
    reason: `no answer from Prometheus (${error.kind}): ${error.message}`,
    series: [],
    empty: false,
    error,
  };
}

/** What an evaluation is asked: which checks, on which Prometheus, with which windows, job and exclusion. */
export interface EvaluationRequest {
  prometheus: { url: string };
  checks: CheckId[];
  windows?: Partial<Record<CheckId, number>>;
  job?: string;
  exclude?: { label: string; values: string[] };
}

/** An evaluation of every requested check, each judged by `result` from its query and window. */
export function evaluationOf(
  request: EvaluationRequest,
  at: string,
  reachable: boolean,
  result: (id: CheckId, query: string, windowSeconds: number | undefined) => CheckResult,
): Evaluation {
  return {
    at,
    prometheusUrl: request.prometheus.url,
    reachable,
    results: request.checks.map((id) => {
      const { query, windowSeconds } = requestedQuery(id, request);
      return result(id, query, windowSeconds);
    }),
  };
}

/**
 * The evaluation of checks Prometheus never answered (unreachable, refused, or the activity failed): every check
 * inconclusive, with the reason, at the time asked for.
 */
export function unansweredEvaluation(
  request: EvaluationRequest,
  at: string,
  error: { kind: PrometheusErrorKind | 'internal'; message: string },
): Evaluation {
  return evaluationOf(request, at, false, (id, query, windowSeconds) => unanswered(id, query, at, error, windowSeconds));
}

/** One check result as runbook evidence under a step id (the canary gates record their checkpoints this way). */
export function checkEvidence(result: CheckResult, step: StepId = CHECKS[result.check].source.step, prometheusUrl?: string): Evidence {
  const check = CHECKS[result.check];
  const verdict = result.verdict === 'pass' ? 'ok' : result.verdict === 'fail' ? 'failed' : 'inconclusive';
  const actions: Action[] | undefined = prometheusUrl
    ? [{ kind: 'http', method: 'POST', url: `${prometheusUrl}/api/v1/query`, body: { query: result.query }, expect: 'status "success"' }]
    : undefined;
  return {
    step,
    at: result.evaluatedAt,
    verdict,
    summary: `${check.metric} ${check.condition} (${checkReference(check)}): ${result.verdict}, ${result.reason}`,
    actions,
    details: {
      check: result.check,
      query: result.query,
      windowSeconds: result.windowSeconds,
      rule: `${result.comparison} ${result.threshold}`,
      values: result.series.map((s) => ({ labels: s.labels, value: s.value, verdict: s.verdict })),
      ...(result.error ? { error: result.error } : {}),
    },
  };
}
