/**
 * The alert monitor's memory, and the one rule that changes it: given the open alerts and a new evaluation,
 * which alerts start firing, which keep firing (no new notification, unless the repeat interval passed), which
 * resolve, and which are held because the evaluation could not tell. Pure and deterministic (the caller passes
 * the time), so the workflow runs it as is, continue-as-new carries the state as JSON, and unit tests drive it
 * without Temporal.
 *
 * An alert is one failing series of one check: `auth-errors{instance="<connection id>"}` fires per connection.
 * 'inconclusive' never opens or resolves anything (NaN, a query error, Prometheus down): it holds the last known
 * state. When Prometheus stays unreachable for `gapAfterCycles` cycles, the monitor raises an alert about its
 * own blindness, because every TrueNAS alert is silent while it cannot look.
 */
import { redact } from '../runbook/redact.js';
import type { Labels } from './client.js';
import { CHECKS, checkReference, type CheckId, type Comparison, type Severity } from './checks.js';
import type { CheckResult, InstanceCheckResult } from './verdict.js';

export const GAP_CHECK = 'prometheus-unreachable';

export interface AlertSnapshot {
  /** check id + labels: the identity of one alert. */
  key: string;
  check: CheckId | typeof GAP_CHECK;
  severity: Severity;
  labels: Labels;
  metric: string;
  condition: string;
  action: string;
  /** Where the rule is written: "Alert Thresholds, row 4". */
  reference: string;
  query: string;
  /** The last value seen while firing, as Prometheus sent it. */
  value: string;
  comparison: Comparison;
  threshold: number;
  /** When this firing episode began. */
  since: string;
  lastSeenAt: string;
  /** When a firing notification for this episode was last queued. */
  lastNotifiedAt?: string;
}

export interface ResolvedAlert extends AlertSnapshot {
  resolvedAt: string;
}

export interface AlertNotification {
  /** Stable per monitor, alert episode and status: the receiver's idempotency key (a retried POST repeats it). */
  id: string;
  monitor: string;
  status: 'firing' | 'resolved';
  /** A reminder for an alert that is still firing after the repeat interval. */
  repeat: boolean;
  at: string;
  alert: AlertSnapshot & { resolvedAt?: string };
}

export interface OutboxEntry {
  notification: AlertNotification;
  webhook: string;
  /** Cycles in which delivery was tried and failed. */
  tries: number;
  lastError?: string;
}

export interface DeliveryRecord {
  id: string;
  webhook: string;
  status: AlertNotification['status'];
  key: string;
  at: string;
  outcome: 'sent' | 'dropped';
  error?: string;
}

export interface EvaluationSummary {
  at: string;
  reachable: boolean;
  checks: Array<{
    check: CheckId;
    verdict: CheckResult['verdict'];
    reason: string;
    values: Array<{ labels: Labels; value: string }>;
    error?: string;
  }>;
}

export interface MonitorState {
  /** When the monitor (its first run) started. */
  monitorStartedAt: string;
  /** Evaluation cycles over all runs. */
  cycles: number;
  open: AlertSnapshot[];
  /** Resolved alerts, newest last, at most HISTORY_LIMIT. */
  resolved: ResolvedAlert[];
  /** Consecutive cycles in which Prometheus could not be queried. */
  unreachableCycles: number;
  outbox: OutboxEntry[];
  delivered: number;
  dropped: number;
  /** Deliveries (sent or dropped), newest last, at most HISTORY_LIMIT. */
  deliveries: DeliveryRecord[];
  lastEvaluation?: EvaluationSummary;
}

export const HISTORY_LIMIT = 50;

export interface Evaluation {
  at: string;
  prometheusUrl: string;
  /** False when no query got an answer (connection refused, timeout, 503, auth). */
  reachable: boolean;
  results: CheckResult[];
  /** A fleet's checkpoints per instance (the canary with fleet.instanceLabel). */
  perInstance?: InstanceCheckResult[];
}

export interface ApplyOptions {
  /** Workflow time of this cycle. */
  at: string;
  monitor: string;
  repeatIntervalSeconds: number;
  gapAfterCycles: number;
  notifyResolved: boolean;
}

export function initialState(at: string): MonitorState {
  return {
    monitorStartedAt: at,
    cycles: 0,
    open: [],
    resolved: [],
    unreachableCycles: 0,
    outbox: [],
    delivered: 0,
    dropped: 0,
    deliveries: [],
  };
}

export function alertKey(check: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${check}{${parts.join(',')}}`;
}

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY_LIMIT) list.splice(0, list.length - HISTORY_LIMIT);
}

function notification(
  opts: ApplyOptions,
  status: AlertNotification['status'],
  alert: AlertNotification['alert'],
  repeat = false,
): AlertNotification {
  const id = `${opts.monitor}/${alert.key}/${alert.since}/${status}${repeat ? `/${opts.at}` : ''}`;
  return { id, monitor: opts.monitor, status, repeat, at: opts.at, alert: { ...alert } };
}

function snapshot(result: CheckResult, rawLabels: Labels, value: string, at: string): AlertSnapshot {
  const check = CHECKS[result.check];
  // A label named like a secret (token, api_key, …) is masked before it becomes part of the key, the state and
  // every payload; exporters should never carry one, but the monitor does not count on it.
  const labels = redact(rawLabels);
  return {
    key: alertKey(result.check, labels),
    check: result.check,
    severity: check.severity,
    labels,
    metric: check.metric,
    condition: check.condition,
    action: check.action,
    reference: checkReference(check),
    query: result.query,
    value,
    comparison: check.comparison,
    threshold: check.threshold,
    since: at,
    lastSeenAt: at,
  };
}

function gapSnapshot(evaluation: Evaluation, at: string, cycles: number): AlertSnapshot {
  const error = evaluation.results.find((r) => r.error)?.error?.message ?? 'no answer';
  return {
    key: alertKey(GAP_CHECK, {}),
    check: GAP_CHECK,
    severity: 'warning',
    labels: {},
    metric: `${evaluation.prometheusUrl}/api/v1/query`,
    condition: `unreachable for ${cycles} consecutive evaluations`,
    action: `The TrueNAS alerts are not being evaluated: make Prometheus at ${evaluation.prometheusUrl} answer again (${error})`,
    reference: 'alert monitor (monitoring gap, runbook P3)',
    query: '',
    value: String(cycles),
    comparison: '>=',
    threshold: cycles,
    since: at,
    lastSeenAt: at,
  };
}

function resolve(state: MonitorState, alert: AlertSnapshot, opts: ApplyOptions, out: AlertNotification[]): void {
  state.open = state.open.filter((a) => a.key !== alert.key);
  const resolved: ResolvedAlert = { ...alert, resolvedAt: opts.at };
  pushBounded(state.resolved, resolved);
  if (opts.notifyResolved) out.push(notification(opts, 'resolved', resolved));
}

function fire(state: MonitorState, next: AlertSnapshot, opts: ApplyOptions, out: AlertNotification[]): void {
  const open = state.open.find((a) => a.key === next.key);
  if (!open) {
    const alert = { ...next, lastNotifiedAt: opts.at };
    state.open.push(alert);
    out.push(notification(opts, 'firing', alert));
    return;
  }
  open.value = next.value;
  open.query = next.query;
  open.lastSeenAt = opts.at;
  const last = Date.parse(open.lastNotifiedAt ?? open.since);
  if (opts.repeatIntervalSeconds > 0 && Date.parse(opts.at) - last >= opts.repeatIntervalSeconds * 1000) {
    open.lastNotifiedAt = opts.at;
    out.push(notification(opts, 'firing', open, true));
  }
}

/**
 * Applies one evaluation to the state (mutating it) and returns the notifications to send, in order.
 * Open alerts of checks that were not evaluated this cycle are left alone.
 */
export function applyEvaluation(state: MonitorState, evaluation: Evaluation, opts: ApplyOptions): AlertNotification[] {
  const out: AlertNotification[] = [];
  state.cycles += 1;
  state.lastEvaluation = {
    at: evaluation.at,
    reachable: evaluation.reachable,
    checks: evaluation.results.map((r) => ({
      check: r.check,
      verdict: r.verdict,
      reason: r.reason,
      values: r.series.slice(0, 20).map((s) => ({ labels: s.labels, value: s.value })),
      ...(r.error ? { error: r.error.message } : {}),
    })),
  };

  for (const result of evaluation.results) {
    // No answer, or an empty result that proves nothing: hold every alert of this check as it is.
    if (result.error || (result.empty && result.verdict === 'inconclusive')) continue;
    const failing =
      result.empty && result.verdict === 'fail'
        ? [{ labels: {}, value: '(no series)' }]
        : result.series.filter((s) => s.verdict === 'fail');
    const held = new Set(result.series.filter((s) => s.verdict === 'inconclusive').map((s) => alertKey(result.check, redact(s.labels))));
    const firingKeys = new Set<string>();
    for (const s of failing) {
      const next = snapshot(result, s.labels, s.value, opts.at);
      firingKeys.add(next.key);
      fire(state, next, opts, out);
    }
    for (const open of state.open.filter((a) => a.check === result.check)) {
      if (!firingKeys.has(open.key) && !held.has(open.key)) resolve(state, open, opts, out);
    }
  }

  // The monitor's own blindness.
  const gapKey = alertKey(GAP_CHECK, {});
  const gapOpen = state.open.find((a) => a.key === gapKey);
  if (evaluation.reachable) {
    state.unreachableCycles = 0;
    if (gapOpen) resolve(state, gapOpen, opts, out);
  } else {
    state.unreachableCycles += 1;
    if (!gapOpen && state.unreachableCycles >= opts.gapAfterCycles)
      fire(state, gapSnapshot(evaluation, opts.at, state.unreachableCycles), opts, out);
    else if (gapOpen) fire(state, { ...gapOpen, value: String(state.unreachableCycles) }, opts, out);
  }
  return out;
}

/** Queues each notification for each webhook. */
export function enqueue(state: MonitorState, notifications: AlertNotification[], webhooks: string[]): void {
  for (const n of notifications) for (const webhook of webhooks) state.outbox.push({ notification: n, webhook, tries: 0 });
}

/** The record of one notification's delivery to one webhook. */
function deliveryOf(entry: OutboxEntry, at: string, outcome: DeliveryRecord['outcome']): DeliveryRecord {
  const n = entry.notification;
  return { id: n.id, webhook: entry.webhook, status: n.status, key: n.alert.key, at, outcome };
}

/** Records a delivered notification and takes it out of the outbox. */
export function markDelivered(state: MonitorState, entry: OutboxEntry, at: string): void {
  state.outbox = state.outbox.filter((e) => e !== entry);
  state.delivered += 1;
  pushBounded(state.deliveries, deliveryOf(entry, at, 'sent'));
}

/** Records a failed cycle of delivery; after `maxTries` cycles the notification is dropped (and recorded). */
export function markFailed(state: MonitorState, entry: OutboxEntry, at: string, error: string, maxTries: number): void {
  entry.tries += 1;
  entry.lastError = error;
  if (entry.tries < maxTries) return;
  state.outbox = state.outbox.filter((e) => e !== entry);
  state.dropped += 1;
  pushBounded(state.deliveries, { ...deliveryOf(entry, at, 'dropped'), error });
}
