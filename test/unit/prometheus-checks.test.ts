/**
 * The catalogue's queries against a real Prometheus 2.42: OpenMetrics scenarios are backfilled with promtool,
 * Prometheus serves them, and each check is evaluated through the real client at chosen instants in the past,
 * so every threshold is shown to fire and not to fire at its edge (3 vs 4 consecutive errors, 300 vs 301 s,
 * 5 vs 6 timeouts, p95 exactly 10 s, exactly 5 % and exactly 50 %), with the promql.md pitfalls (counters
 * born at 1, empty is not zero, the frozen staleness gauge, NaN). Each scenario lives in its own 4-hour slot,
 * so fleet-wide sums never see another scenario's series. Also checks that the catalogue matches the
 * runbook's Alert Thresholds table row by row.
 */
import { readFileSync } from 'node:fs';
import {
  ALERT_CHECK_IDS,
  CHECK_IDS,
  CHECKS,
  checkQuery,
  PER_INSTANCE_CHECKS,
  promDuration,
  type CheckId,
} from '../../src/prometheus/checks.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { evaluateCheck } from '../../src/prometheus/evaluate.js';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import type { CheckResult } from '../../src/prometheus/verdict.js';
import { readRunbook } from '../support/runbook.js';
import { backfill, seriesLines, startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';

const BASE = 1735689600; // 2025-01-01T00:00:00Z
const SLOT_SECONDS = 4 * 3600;
const SLOTS = {
  consecutive: 0,
  staleness: 1,
  auth: 2,
  timeouts: 3,
  connection: 4,
  latency: 5,
  up: 6,
  rate5: 7,
  rate4: 8,
  empty: 9,
  gaugeMax: 10,
  gauge299: 11,
  lastSuccess: 12,
  lastSuccess299: 13,
  authGate: 14,
  abortHalf: 15,
  abortTwoThirds: 16,
  latencyIdle: 17,
} as const;
const at = (slot: number, minutes: number) => BASE + slot * SLOT_SECONDS + minutes * 60;
const TN = { instance_type: 'truenas' };
const range = (n: number, f: (i: number) => number | null) => Array.from({ length: n }, (_, i) => f(i));

/** Every scenario, one sample per minute (Pulse polls every 60 s). */
function scenarios(): string {
  let out = '';
  const s = (name: string, labels: Record<string, string>, slot: number, values: Array<number | null>, fromMinute = 0) => {
    out += seriesLines(name, labels, at(slot, fromMinute), 60, values);
  };
  // > 3 consecutive errors (promql.md test 5): successes until minute 10, then errors; the error series is born at 1.
  s(
    'pulse_monitor_poll_total',
    { ...TN, instance: 'ce-1', result: 'success' },
    SLOTS.consecutive,
    range(31, (i) => Math.min(i, 10)),
  );
  s(
    'pulse_monitor_poll_total',
    { ...TN, instance: 'ce-1', result: 'error' },
    SLOTS.consecutive,
    range(31, (i) => (i < 11 ? null : i - 10)),
  );
  // Staleness: the last success was 300, 301, 600, 601 s before minute 30; st-frozen's staleness gauge still reads 0.
  const T = at(SLOTS.staleness, 30);
  for (const [instance, age] of [
    ['st-300', 300],
    ['st-301', 301],
    ['st-600', 600],
    ['st-601', 601],
    ['st-frozen', 700],
  ] as const) {
    s(
      'pulse_monitor_poll_last_success_timestamp',
      { ...TN, instance },
      SLOTS.staleness,
      range(11, () => T - age),
      20,
    );
  }
  s(
    'pulse_monitor_poll_staleness_seconds',
    { ...TN, instance: 'st-frozen' },
    SLOTS.staleness,
    range(11, () => 0),
    20,
  );
  // Auth: au-1 is born at 1 at minute 30 and never moves again; au-2 goes 5 → 6 at minute 40.
  s(
    'pulse_monitor_poll_errors_total',
    { ...TN, instance: 'au-1', error_type: 'auth' },
    SLOTS.auth,
    range(61, (i) => (i < 30 ? null : 1)),
  );
  s(
    'pulse_monitor_poll_errors_total',
    { ...TN, instance: 'au-2', error_type: 'auth' },
    SLOTS.auth,
    range(61, (i) => (i < 40 ? 5 : 6)),
  );
  // Timeouts in the 10 minutes before minute 20: 5 or 6, counted from 0, from birth at 1, or on top of older ones.
  const timeouts = (instance: string, n: number, before: number | null) =>
    s(
      'pulse_monitor_poll_errors_total',
      { ...TN, instance, error_type: 'timeout' },
      SLOTS.timeouts,
      range(21, (i) => (i <= 10 ? before : (before ?? 0) + Math.min(i - 10, n))),
    );
  timeouts('to-5', 5, 0);
  timeouts('to-6', 6, 0);
  timeouts('to-born-5', 5, null);
  timeouts('to-born-6', 6, null);
  timeouts('to-old-6', 6, 3);
  // Connection errors: co-1 born at minute 30, co-2 steady at 2.
  s(
    'pulse_monitor_poll_errors_total',
    { ...TN, instance: 'co-1', error_type: 'connection' },
    SLOTS.connection,
    range(61, (i) => (i < 30 ? null : 1)),
  );
  s(
    'pulse_monitor_poll_errors_total',
    { ...TN, instance: 'co-2', error_type: 'connection' },
    SLOTS.connection,
    range(61, () => 2),
  );
  // Latency over 15 min, 20 polls: lat-10 has 19 within 10 s (p95 exactly 10), lat-12 has 18 (p95 12.5).
  for (const [instance, within10] of [
    ['lat-10', 19],
    ['lat-12', 18],
  ] as const) {
    const cumulative = (total: number) => range(16, (i) => Math.round((total * i) / 15));
    s(
      'pulse_monitor_poll_duration_seconds_bucket',
      { ...TN, instance, le: '1' },
      SLOTS.latency,
      range(16, () => 0),
    );
    s('pulse_monitor_poll_duration_seconds_bucket', { ...TN, instance, le: '10' }, SLOTS.latency, cumulative(within10));
    s('pulse_monitor_poll_duration_seconds_bucket', { ...TN, instance, le: '15' }, SLOTS.latency, cumulative(20));
    s('pulse_monitor_poll_duration_seconds_bucket', { ...TN, instance, le: '+Inf' }, SLOTS.latency, cumulative(20));
  }
  // No poll in the window: every bucket flat, the quantile is NaN.
  for (const le of ['1', '10', '+Inf'])
    s(
      'pulse_monitor_poll_duration_seconds_bucket',
      { ...TN, instance: 'lat-idle', le },
      SLOTS.latencyIdle,
      range(16, () => 7),
    );
  // Scrape health.
  s(
    'up',
    { job: 'pulse', instance: '127.0.0.1:9091' },
    SLOTS.up,
    range(11, () => 1),
  );
  s(
    'up',
    { job: 'pulse-down', instance: '127.0.0.1:9092' },
    SLOTS.up,
    range(11, () => 0),
  );
  // Error rate over 1 h: exactly 5 % (not "below 5 %") and 4 %.
  for (const [slot, errors] of [
    [SLOTS.rate5, 5],
    [SLOTS.rate4, 4],
  ] as const) {
    s(
      'pulse_monitor_poll_total',
      { ...TN, instance: 'er', result: 'success' },
      slot,
      range(61, (i) => ((100 - errors) * i) / 60),
    );
    s(
      'pulse_monitor_poll_total',
      { ...TN, instance: 'er', result: 'error' },
      slot,
      range(61, (i) => (errors * i) / 60),
    );
  }
  // Staleness gauge: a peak of 300 vs 299; a connection that never succeeded (-1).
  s(
    'pulse_monitor_poll_staleness_seconds',
    { ...TN, instance: 'gm-300' },
    SLOTS.gaugeMax,
    range(61, (i) => (i === 30 ? 300 : 0)),
  );
  s(
    'pulse_monitor_poll_staleness_seconds',
    { ...TN, instance: 'gm-never' },
    SLOTS.gaugeMax,
    range(61, () => -1),
  );
  s(
    'pulse_monitor_poll_staleness_seconds',
    { ...TN, instance: 'gm-299' },
    SLOTS.gauge299,
    range(61, (i) => (i === 30 ? 299 : 0)),
  );
  // Last success frozen for 300 s (value X) vs 299 s (value X + 1) from minute 20.
  for (const [slot, late] of [
    [SLOTS.lastSuccess, 0],
    [SLOTS.lastSuccess299, 1],
  ] as const) {
    const X = at(slot, 20);
    s(
      'pulse_monitor_poll_last_success_timestamp',
      { ...TN, instance: 'ls' },
      slot,
      range(61, (i) => (at(slot, i) >= X && at(slot, i) <= X + 300 ? X + late : at(slot, i))),
    );
  }
  // Auth gate: a series born at 1 within the hour.
  s(
    'pulse_monitor_poll_errors_total',
    { ...TN, instance: 'ag-1', error_type: 'auth' },
    SLOTS.authGate,
    range(61, (i) => (i < 40 ? null : 1)),
  );
  // Abort: 1 of 2 connections failing (exactly 50 %); 2 of 3 failing from minute 10.
  s(
    'pulse_monitor_poll_total',
    { ...TN, instance: 'ab-ok', result: 'success' },
    SLOTS.abortHalf,
    range(31, (i) => i),
  );
  s(
    'pulse_monitor_poll_total',
    { ...TN, instance: 'ab-bad', result: 'error' },
    SLOTS.abortHalf,
    range(31, (i) => i),
  );
  s(
    'pulse_monitor_poll_total',
    { ...TN, instance: 'ab-ok', result: 'success' },
    SLOTS.abortTwoThirds,
    range(31, (i) => i),
  );
  for (const instance of ['ab-1', 'ab-2']) {
    s(
      'pulse_monitor_poll_total',
      { ...TN, instance, result: 'success' },
      SLOTS.abortTwoThirds,
      range(31, (i) => Math.min(i, 10)),
    );
    s(
      'pulse_monitor_poll_total',
      { ...TN, instance, result: 'error' },
      SLOTS.abortTwoThirds,
      range(31, (i) => Math.max(0, i - 10)),
    );
  }
  return `${out}# EOF\n`;
}

let prometheus: PrometheusProcess;
let removeData: () => void;
let client: PrometheusClient;

beforeAll(async () => {
  const data = await backfill(scenarios());
  removeData = data.remove;
  prometheus = await startPrometheus({ storagePath: data.dir });
  client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 5000 });
});
afterAll(async () => {
  await prometheus?.stop();
  removeData?.();
});

async function check(
  id: CheckId,
  time: number,
  opts: { windows?: Partial<Record<CheckId, number>>; job?: string } = {},
): Promise<CheckResult> {
  const result = await evaluateCheck(client, id, time, opts);
  expect(result.error).toBeUndefined();
  return result;
}

/** instance → [value, verdict] */
function byInstance(r: CheckResult): Record<string, [string, string]> {
  return Object.fromEntries(r.series.map((s) => [s.labels.instance ?? '(fleet)', [s.value, s.verdict]]));
}

describe('Alert Thresholds rows against a real Prometheus', () => {
  it('> 3 consecutive errors: 3 errors after a success pass, the 4th error in a row fires (born-at-1 error series)', async () => {
    expect((await check('consecutive-errors', at(SLOTS.consecutive, 13))).verdict).toBe('pass');
    const fourth = await check('consecutive-errors', at(SLOTS.consecutive, 14));
    expect(fourth.verdict).toBe('fail');
    expect(byInstance(fourth)).toEqual({ 'ce-1': ['4', 'fail'] });
  });

  it('staleness > 300 s WARNING and > 600 s CRITICAL, from the last success (a frozen gauge reading 0 still fires)', async () => {
    const warning = byInstance(await check('staleness-warning', at(SLOTS.staleness, 30)));
    expect(warning).toEqual({
      'st-300': ['300', 'pass'],
      'st-301': ['301', 'fail'],
      'st-600': ['600', 'fail'],
      'st-601': ['601', 'fail'],
      'st-frozen': ['700', 'fail'],
    });
    const critical = byInstance(await check('staleness-critical', at(SLOTS.staleness, 30)));
    expect(critical).toEqual({
      'st-300': ['300', 'pass'],
      'st-301': ['301', 'pass'],
      'st-600': ['600', 'pass'],
      'st-601': ['601', 'fail'],
      'st-frozen': ['700', 'fail'],
    });
  });

  it('auth errors, any increment: a series born at 1 fires for the 5-minute window and no longer; 5 → 6 fires likewise', async () => {
    const at34 = byInstance(await check('auth-errors', at(SLOTS.auth, 34)));
    expect(at34['au-1']).toEqual(['1', 'fail']); // increase() alone says 0 here (pitfall 2)
    expect(at34['au-2']).toEqual(['0', 'pass']);
    expect((await check('auth-errors', at(SLOTS.auth, 35))).verdict).toBe('pass');
    expect((await check('auth-errors', at(SLOTS.auth, 38))).verdict).toBe('pass');
    expect(byInstance(await check('auth-errors', at(SLOTS.auth, 44)))['au-2']).toEqual(['1', 'fail']);
    expect((await check('auth-errors', at(SLOTS.auth, 45))).verdict).toBe('pass');
    // The window is an input: over the last hour the birth at minute 30 still counts.
    expect(byInstance(await check('auth-errors', at(SLOTS.auth, 60), { windows: { 'auth-errors': 3600 } }))['au-1']).toEqual(['1', 'fail']);
    // The plain increase() of the runbook's metric misses it: the reason for the extra arm.
    const plain = await client.query(
      'sum(increase(pulse_monitor_poll_errors_total{instance="au-1",error_type="auth"}[5m]))',
      at(SLOTS.auth, 34),
    );
    expect(plain.resultType === 'vector' && plain.samples[0].value).toBe('0');
  });

  it('timeouts > 5 in 10 minutes: 5 pass and 6 fire, counted from 0, from birth at 1 and on top of older timeouts', async () => {
    const r = byInstance(await check('timeouts', at(SLOTS.timeouts, 20)));
    expect(r).toEqual({
      'to-5': ['5', 'pass'],
      'to-6': ['6', 'fail'],
      'to-born-5': ['5', 'pass'],
      'to-born-6': ['6', 'fail'],
      'to-old-6': ['6', 'fail'],
    });
  });

  it('connection errors, any increment: fires while the newborn series is in the window, a steady counter passes', async () => {
    expect(byInstance(await check('connection-errors', at(SLOTS.connection, 32)))).toEqual({
      'co-1': ['1', 'fail'],
      'co-2': ['0', 'pass'],
    });
    expect((await check('connection-errors', at(SLOTS.connection, 40))).verdict).toBe('pass');
  });

  it('p95 poll duration > 10 s: exactly 10 s passes, 12.5 s fires; no poll in the window is inconclusive, not a pass', async () => {
    expect(byInstance(await check('latency-p95', at(SLOTS.latency, 15)))).toEqual({ 'lat-10': ['10', 'pass'], 'lat-12': ['12.5', 'fail'] });
    const idle = await check('latency-p95', at(SLOTS.latencyIdle, 15));
    expect(idle.verdict).toBe('inconclusive');
    expect(idle.series[0].value).toBe('NaN');
  });

  it('scrape guard: up 1 passes, up 0 fails, and a job Prometheus does not know fails too (empty is not "fine")', async () => {
    expect((await check('pulse-scrape', at(SLOTS.up, 5))).verdict).toBe('pass');
    expect((await check('pulse-scrape', at(SLOTS.up, 5), { job: 'pulse-down' })).verdict).toBe('fail');
    const unknown = await check('pulse-scrape', at(SLOTS.up, 5), { job: 'no-such-job' });
    expect(unknown).toMatchObject({ verdict: 'fail', empty: true });
  });

  it('with no TrueNAS series at all, every alert row passes (nothing has failed) while the ratio gates are inconclusive', async () => {
    for (const id of ALERT_CHECK_IDS.filter((c) => c !== 'pulse-scrape')) {
      const r = await check(id, at(SLOTS.empty, 60));
      expect({ id, verdict: r.verdict, empty: r.empty }).toEqual({ id, verdict: 'pass', empty: true });
    }
    for (const id of [
      'error-rate',
      'staleness-gauge-max',
      'staleness-never-succeeded',
      'staleness-last-success',
      'abort-failure-rate',
    ] as const) {
      expect({ id, verdict: (await check(id, at(SLOTS.empty, 60))).verdict }).toEqual({ id, verdict: 'inconclusive' });
    }
  });
});

describe('Canary checkpoints and abort criterion against a real Prometheus', () => {
  it('error rate over 1 h: exactly 5 % is not "below 5 %", 4 % is', async () => {
    expect(byInstance(await check('error-rate', at(SLOTS.rate5, 60)))).toEqual({ '(fleet)': ['0.05', 'fail'] });
    expect(byInstance(await check('error-rate', at(SLOTS.rate4, 60)))).toEqual({ '(fleet)': ['0.04', 'pass'] });
  });

  it('staleness continuously below 300 s: gauge peak 300 fails, 299 passes; -1 (never succeeded) fails', async () => {
    expect((await check('staleness-gauge-max', at(SLOTS.gaugeMax, 60))).series[0]).toMatchObject({ value: '300', verdict: 'fail' });
    expect((await check('staleness-gauge-max', at(SLOTS.gauge299, 60))).series[0]).toMatchObject({ value: '299', verdict: 'pass' });
    expect((await check('staleness-never-succeeded', at(SLOTS.gaugeMax, 60))).series[0]).toMatchObject({ value: '-1', verdict: 'fail' });
    expect((await check('staleness-never-succeeded', at(SLOTS.gauge299, 60))).verdict).toBe('pass');
  });

  it('staleness from the last success over the window: frozen 300 s fails, 299 s passes', async () => {
    expect((await check('staleness-last-success', at(SLOTS.lastSuccess, 60))).series[0]).toMatchObject({ value: '300', verdict: 'fail' });
    expect((await check('staleness-last-success', at(SLOTS.lastSuccess299, 60))).series[0]).toMatchObject({
      value: '299',
      verdict: 'pass',
    });
  });

  it('auth errors do not increment: a series born within the window fails the gate; no series at all passes (vector(0))', async () => {
    expect((await check('auth-gate', at(SLOTS.authGate, 60))).series[0]).toMatchObject({ value: '1', verdict: 'fail' });
    expect((await check('auth-gate', at(SLOTS.empty, 60))).series[0]).toMatchObject({ value: '0', verdict: 'pass' });
  });

  it('abort at > 50 % failures for > 5 min: exactly 50 % never aborts; 2 of 3 failing aborts only after 5 minutes', async () => {
    expect((await check('abort-failure-rate', at(SLOTS.abortHalf, 30))).series[0]).toMatchObject({ value: '0.5', verdict: 'pass' });
    expect((await check('abort-failure-rate', at(SLOTS.abortTwoThirds, 14))).verdict).toBe('pass');
    const aborted = await check('abort-failure-rate', at(SLOTS.abortTwoThirds, 20));
    expect(aborted.verdict).toBe('fail');
    expect(Number(aborted.series[0].value)).toBeCloseTo(2 / 3, 10);
  });
});

describe('the catalogue itself', () => {
  it('every query, with its default window, is valid PromQL for Prometheus', async () => {
    for (const id of CHECK_IDS) {
      const r = await evaluateCheck(client, id, at(SLOTS.empty, 0));
      expect({ id, error: r.error }).toEqual({ id, error: undefined });
    }
  });

  it('the evaluation activity can leave out passing series (never failing ones) to keep history small', async () => {
    const evaluation = await evaluateMetricChecks({
      prometheus: { url: prometheus.url, timeoutMs: 5000 },
      checks: ['staleness-warning'],
      time: at(SLOTS.staleness, 30),
      maxPassingSeries: 0,
    });
    const [r] = evaluation.results;
    expect(r.series.map((x) => x.labels.instance).sort()).toEqual(['st-301', 'st-600', 'st-601', 'st-frozen']);
    expect(r.omittedPassingSeries).toBe(1);
    expect(r.verdict).toBe('fail');
  });

  it('uses the runbook defaults and formats windows as PromQL durations', () => {
    expect(checkQuery('auth-errors').windowSeconds).toBe(300);
    expect(checkQuery('timeouts').query).toContain('[10m]');
    expect(checkQuery('latency-p95').query).toContain('[15m]');
    expect(checkQuery('error-rate').query).toContain('[1h]');
    expect(checkQuery('auth-errors', { windowSeconds: 30 }).query).toContain('offset 30s');
    expect(checkQuery('staleness-warning').windowSeconds).toBeUndefined();
    expect(promDuration(1.5)).toBe('1500ms');
    expect(() => promDuration(0)).toThrow(/positive/);
  });

  it('docs/metric-checks.md shows every query as the catalogue builds it with the runbook windows', () => {
    const doc = readFileSync(new URL('../../docs/metric-checks.md', import.meta.url), 'utf8');
    for (const id of CHECK_IDS)
      expect({ id, inDoc: doc.includes(`\`\`\`promql\n${checkQuery(id).query}\n\`\`\``) }).toEqual({ id, inDoc: true });
    // The fleet forms too: each checkpoint per instance.
    for (const id of PER_INSTANCE_CHECKS)
      expect({ id, inDoc: doc.includes(`\`\`\`promql\n${checkQuery(id, { by: 'pulse_instance' }).query}\n\`\`\``) }).toEqual({
        id,
        inDoc: true,
      });
  });

  it('matches the runbook Alert Thresholds table row by row (metric, condition, severity, action)', () => {
    const text = readRunbook();
    const table = text.slice(text.indexOf('\n## Alert Thresholds\n'), text.indexOf('\n## Incident Severity'));
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows).toHaveLength(7);
    const alertRows = Object.values(CHECKS).filter((c) => c.source.section === 'Alert Thresholds');
    expect(alertRows).toHaveLength(7);
    rows.forEach(([metric, condition, severity, action], i) => {
      const c = alertRows.find((x) => x.source.row === i + 1)!;
      expect({
        row: i + 1,
        metric: `\`${c.metric}\``,
        condition: c.condition,
        severity: c.severity.toUpperCase(),
        action: c.action,
      }).toEqual({ row: i + 1, metric, condition, severity, action });
    });
  });
});
