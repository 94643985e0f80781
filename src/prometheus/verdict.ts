/**
 * Turns what Prometheus answered for a check into a verdict: per series (pass, fail, or inconclusive for NaN),
 * then for the check (fail if any series fails, else inconclusive if any series or the empty result is, else
 * pass). Prometheus being unreachable, or refusing the query, is 'inconclusive' with the error kept: a check
 * that could not look never passes. Pure and JSON-only, so results travel through Temporal payloads.
 */
import type { Action, Evidence } from '../runbook/evidence.js';
import type { StepId } from '../runbook/steps.js';
import { CHECKS, checkReference, compare, parseValue, type CheckId, type CheckVerdict, type Comparison, type Severity } from './checks.js';
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
  return keys.length ? `{${keys.sort().map((k) => `${k}="${labels[k]}"`).join(',')}}` : '';
}

export function judgeSeries(id: CheckId, value: string): CheckVerdict {
  const check = CHECKS[id];
  const n = parseValue(value);
  if (Number.isNaN(n)) return check.onNaN;
  return compare(n, check.comparison, check.threshold) ? 'fail' : 'pass';
}

/** The verdict of a check from Prometheus's answer. */
export function judge(id: CheckId, query: string, answer: InstantResult, evaluatedAt: string, windowSeconds?: number): CheckResult {
  const check = CHECKS[id];
  const base = { check: id, kind: check.kind, severity: check.severity, query, windowSeconds, comparison: check.comparison, threshold: check.threshold, evaluatedAt };
  let samples: Array<{ labels: Labels; value: string }>;
  if (answer.resultType === 'vector') samples = answer.samples;
  else if (answer.resultType === 'scalar') samples = [answer.sample];
  else {
    return { ...base, verdict: 'inconclusive', reason: `the query returned a ${answer.resultType}, not a vector`, series: [], empty: false, error: { kind: 'protocol', message: `unexpected ${answer.resultType} result` } };
  }
  const series: SeriesResult[] = samples.map((s) => ({ labels: s.labels, value: s.value, verdict: judgeSeries(id, s.value) }));
  const warnings = samples.some((s) => 'exported_instance' in s.labels)
    ? ['series carry exported_instance: scrape Pulse with honor_labels: true, or per-connection alerts group by the scrape target instead of the connection id']
    : undefined;
  const rule = `${check.comparison} ${check.threshold}`;
  if (series.length === 0) {
    return { ...base, verdict: check.onEmpty, reason: `no series (empty result): ${check.onEmpty} by definition of this check`, series, empty: true, warnings };
  }
  const failing = series.filter((s) => s.verdict === 'fail');
  const unknown = series.filter((s) => s.verdict === 'inconclusive');
  let verdict: CheckVerdict;
  let reason: string;
  if (failing.length) {
    verdict = 'fail';
    reason = `${failing.length} of ${series.length} series ${rule}: ${failing.slice(0, 5).map((s) => `${labelText(s.labels) || 'value'} ${s.value}`).join(', ')}`;
  } else if (unknown.length) {
    verdict = 'inconclusive';
    reason = `${unknown.length} of ${series.length} series have no number (${unknown[0].value}); none ${rule}`;
  } else {
    verdict = 'pass';
    reason = `no series ${rule} (${series.slice(0, 5).map((s) => `${labelText(s.labels) || 'value'} ${s.value}`).join(', ')})`;
  }
  return { ...base, verdict, reason, series, empty: false, warnings };
}

/** The result of a check whose query could not be run. */
export function unanswered(id: CheckId, query: string, evaluatedAt: string, error: { kind: PrometheusErrorKind | 'internal'; message: string }, windowSeconds?: number): CheckResult {
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
    verdict: 'inconclusive',
    reason: `no answer from Prometheus (${error.kind}): ${error.message}`,
    series: [],
    empty: false,
    error,
  };
}

/** One check result as runbook evidence under a step id (the canary gates record their checkpoints this way). */
export function checkEvidence(result: CheckResult, step: StepId = CHECKS[result.check].source.step, prometheusUrl?: string): Evidence {
  const check = CHECKS[result.check];
  const verdict = result.verdict === 'pass' ? 'ok' : result.verdict === 'fail' ? 'failed' : 'inconclusive';
  const actions: Action[] | undefined = prometheusUrl ? [{ kind: 'http', method: 'POST', url: `${prometheusUrl}/api/v1/query`, body: { query: result.query }, expect: 'status "success"' }] : undefined;
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
