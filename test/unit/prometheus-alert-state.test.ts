/**
 * The monitor's rule, without Temporal: one notification per firing episode, per series; no re-send while it
 * keeps firing (until the repeat interval); a resolution recorded (and notified) once; 'inconclusive' (NaN, a
 * query error, Prometheus down) neither opens nor resolves; the monitor's own blindness becomes an alert after
 * `gapAfterCycles`; the outbox keeps order and drops after the allowed cycles, recording it.
 */
import {
  alertKey,
  applyEvaluation,
  enqueue,
  GAP_CHECK,
  HISTORY_LIMIT,
  initialState,
  markDelivered,
  markFailed,
  type ApplyOptions,
  type Evaluation,
  type MonitorState,
} from '../../src/prometheus/alert-state.js';
import type { CheckId } from '../../src/prometheus/checks.js';
import { checkQuery } from '../../src/prometheus/checks.js';
import { judge, unanswered, type CheckResult } from '../../src/prometheus/verdict.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const when = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const opts = (minute: number, extra: Partial<ApplyOptions> = {}): ApplyOptions => ({
  at: when(minute),
  monitor: 'm',
  repeatIntervalSeconds: 0,
  gapAfterCycles: 3,
  notifyResolved: true,
  ...extra,
});

/** A check result from per-instance values ("NaN" allowed); [] = empty result. */
function result(check: CheckId, values: Record<string, string>): CheckResult {
  const { query } = checkQuery(check);
  const samples = Object.entries(values).map(([instance, value]) => ({ labels: { instance, instance_type: 'truenas' }, time: 0, value }));
  return judge(check, query, { resultType: 'vector', samples }, when(0));
}
const evaluation = (...results: CheckResult[]): Evaluation => ({
  at: when(0),
  prometheusUrl: 'http://prom:9090',
  reachable: true,
  results,
});
const down = (...checks: CheckId[]): Evaluation => ({
  at: when(0),
  prometheusUrl: 'http://prom:9090',
  reachable: false,
  results: checks.map((c) => unanswered(c, checkQuery(c).query, when(0), { kind: 'unavailable', message: 'connection refused' })),
});

describe('applyEvaluation', () => {
  let state: MonitorState;
  beforeEach(() => {
    state = initialState(when(0));
  });

  it('fires once per episode and per connection, resolves once, and fires again for a new episode', () => {
    const fired = applyEvaluation(state, evaluation(result('auth-errors', { a: '1', b: '0' })), opts(1));
    expect(fired.map((n) => [n.status, n.alert.key])).toEqual([
      ['firing', alertKey('auth-errors', { instance: 'a', instance_type: 'truenas' })],
    ]);
    expect(fired[0].alert).toMatchObject({
      severity: 'critical',
      action: 'API key revoked or expired, immediate attention',
      value: '1',
      reference: 'Alert Thresholds, row 4',
      since: when(1),
    });
    expect(fired[0].alert.query).toContain('error_type="auth"');

    // Still firing (value changes): nothing new. b starts failing: its own alert.
    expect(applyEvaluation(state, evaluation(result('auth-errors', { a: '2', b: '0' })), opts(2))).toEqual([]);
    expect(state.open[0]).toMatchObject({ value: '2', lastSeenAt: when(2), since: when(1) });
    const second = applyEvaluation(state, evaluation(result('auth-errors', { a: '2', b: '1' })), opts(3));
    expect(second.map((n) => n.alert.labels.instance)).toEqual(['b']);

    // a resolves (its series passes), b resolves by vanishing from the result.
    const resolved = applyEvaluation(state, evaluation(result('auth-errors', { a: '0' })), opts(4));
    expect(resolved.map((n) => [n.status, n.alert.labels.instance, n.alert.resolvedAt])).toEqual([
      ['resolved', 'a', when(4)],
      ['resolved', 'b', when(4)],
    ]);
    expect(state.open).toEqual([]);
    expect(state.resolved.map((r) => [r.labels.instance, r.since, r.resolvedAt])).toEqual([
      ['a', when(1), when(4)],
      ['b', when(3), when(4)],
    ]);

    // A new episode is a new notification with a new id.
    const again = applyEvaluation(state, evaluation(result('auth-errors', { a: '1' })), opts(9));
    expect(again).toHaveLength(1);
    expect(again[0].id).not.toBe(fired[0].id);
    expect(new Set([fired[0].id, resolved[0].id, again[0].id]).size).toBe(3);
  });

  it('holds the state while a check is inconclusive: NaN, a query error or Prometheus down neither fire nor resolve', () => {
    applyEvaluation(state, evaluation(result('latency-p95', { a: '12' })), opts(1));
    expect(state.open).toHaveLength(1);
    expect(applyEvaluation(state, evaluation(result('latency-p95', { a: 'NaN' })), opts(2))).toEqual([]);
    expect(applyEvaluation(state, down('latency-p95'), opts(3))).toEqual([]);
    const refused = unanswered('latency-p95', 'x', when(4), { kind: 'query', message: 'bad_data' });
    expect(applyEvaluation(state, evaluation(refused), opts(4))).toEqual([]);
    expect(state.open.map((a) => a.check)).toEqual(['latency-p95']);
    // A NaN series never opens an alert either.
    expect(applyEvaluation(state, evaluation(result('latency-p95', { a: '12', b: 'NaN' })), opts(5))).toEqual([]);
    expect(state.open).toHaveLength(1);
    expect(applyEvaluation(state, evaluation(result('latency-p95', { a: '3' })), opts(6)).map((n) => n.status)).toEqual(['resolved']);
  });

  it('leaves alerts of checks that were not evaluated alone, and keeps checks apart', () => {
    applyEvaluation(state, evaluation(result('auth-errors', { a: '1' }), result('connection-errors', { a: '1' })), opts(1));
    expect(state.open.map((a) => a.check).sort()).toEqual(['auth-errors', 'connection-errors']);
    const n = applyEvaluation(state, evaluation(result('connection-errors', { a: '0' })), opts(2));
    expect(n.map((x) => [x.status, x.alert.check])).toEqual([['resolved', 'connection-errors']]);
    expect(state.open.map((a) => a.check)).toEqual(['auth-errors']);
  });

  it('an empty result that fails by definition (no `up` series) is one alert without labels', () => {
    const empty = judge('pulse-scrape', 'up{job="pulse"}', { resultType: 'vector', samples: [] }, when(0));
    const n = applyEvaluation(state, evaluation(empty), opts(1));
    expect(n.map((x) => [x.alert.key, x.alert.value])).toEqual([['pulse-scrape{}', '(no series)']]);
    expect(applyEvaluation(state, evaluation(result('pulse-scrape', { 'host:9091': '1' })), opts(2)).map((x) => x.status)).toEqual([
      'resolved',
    ]);
  });

  it('re-sends a still-firing alert only after the repeat interval, marked as a repeat', () => {
    const o = (m: number) => opts(m, { repeatIntervalSeconds: 3600 });
    expect(applyEvaluation(state, evaluation(result('staleness-critical', { a: '700' })), o(0))).toHaveLength(1);
    for (let m = 1; m < 60; m++)
      expect(applyEvaluation(state, evaluation(result('staleness-critical', { a: String(700 + 60 * m) })), o(m))).toEqual([]);
    const reminder = applyEvaluation(state, evaluation(result('staleness-critical', { a: '4300' })), o(60));
    expect(reminder.map((n) => [n.status, n.repeat, n.alert.value])).toEqual([['firing', true, '4300']]);
    expect(applyEvaluation(state, evaluation(result('staleness-critical', { a: '4360' })), o(61))).toEqual([]);
  });

  it('records a resolution without notifying when notifyResolved is off', () => {
    applyEvaluation(state, evaluation(result('timeouts', { a: '6' })), opts(1, { notifyResolved: false }));
    expect(applyEvaluation(state, evaluation(result('timeouts', { a: '5' })), opts(2, { notifyResolved: false }))).toEqual([]);
    expect(state.resolved.map((r) => r.check)).toEqual(['timeouts']);
  });

  it('raises the monitoring-gap alert after gapAfterCycles unreachable cycles, once, and resolves it when Prometheus answers', () => {
    applyEvaluation(state, evaluation(result('auth-errors', { a: '1' })), opts(0));
    expect(applyEvaluation(state, down('auth-errors'), opts(1))).toEqual([]);
    expect(applyEvaluation(state, down('auth-errors'), opts(2))).toEqual([]);
    const gap = applyEvaluation(state, down('auth-errors'), opts(3));
    expect(gap.map((n) => [n.status, n.alert.check, n.alert.severity])).toEqual([['firing', GAP_CHECK, 'warning']]);
    expect(gap[0].alert.action).toContain('http://prom:9090');
    expect(gap[0].alert.action).toContain('connection refused');
    expect(applyEvaluation(state, down('auth-errors'), opts(4))).toEqual([]);
    expect(state.open.map((a) => a.check).sort()).toEqual(['auth-errors', GAP_CHECK]); // auth held, not resolved
    const back = applyEvaluation(state, evaluation(result('auth-errors', { a: '0' })), opts(5));
    expect(back.map((n) => [n.status, n.alert.check])).toEqual([
      ['resolved', 'auth-errors'],
      ['resolved', GAP_CHECK],
    ]);
    expect(state.unreachableCycles).toBe(0);
  });

  it('keeps a summary of the last evaluation and bounded history', () => {
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      applyEvaluation(state, evaluation(result('auth-errors', { a: '1' })), opts(2 * i));
      applyEvaluation(state, evaluation(result('auth-errors', { a: '0' })), opts(2 * i + 1));
    }
    expect(state.resolved).toHaveLength(HISTORY_LIMIT);
    expect(state.cycles).toBe(2 * (HISTORY_LIMIT + 5));
    expect(state.lastEvaluation).toMatchObject({
      reachable: true,
      checks: [{ check: 'auth-errors', verdict: 'pass', values: [{ value: '0' }] }],
    });
  });
});

describe('the outbox', () => {
  it('queues per webhook, removes delivered entries, drops after maxTries and records both', () => {
    const state = initialState(when(0));
    const n = applyEvaluation(state, evaluation(result('auth-errors', { a: '1' })), opts(1));
    enqueue(state, n, ['ops-chat', 'pager']);
    expect(state.outbox.map((e) => e.webhook)).toEqual(['ops-chat', 'pager']);
    markDelivered(state, state.outbox[0], when(1));
    const pager = state.outbox[0];
    markFailed(state, pager, when(2), 'WebhookUnavailable: 503', 2);
    expect(state.outbox).toEqual([{ ...pager, tries: 1, lastError: 'WebhookUnavailable: 503' }]);
    markFailed(state, pager, when(3), 'WebhookUnavailable: 503', 2);
    expect(state.outbox).toEqual([]);
    expect({ delivered: state.delivered, dropped: state.dropped }).toEqual({ delivered: 1, dropped: 1 });
    expect(state.deliveries.map((d) => [d.webhook, d.outcome])).toEqual([
      ['ops-chat', 'sent'],
      ['pager', 'dropped'],
    ]);
  });
});
