/**
 * The fleet forms of the checkpoints (issue 17) on a real Prometheus 2.42, with Pulse-shaped series of three Pulse
 * instances (bench/support/pulse-shaped.ts, each labelled `pulse_instance` as a scrape config would): per instance
 * (`by (pulse_instance)`) each instance reads exactly what the fleet-wide query reads with the others left out
 * (`pulse_instance!~"…"`), so the per-instance gates and the fleet-wide gates judge the same numbers; an instance
 * with no series gets the check's empty verdict; names with dots are matched exactly.
 */
import { CHECKS, checkQuery, PER_INSTANCE_CHECKS } from '../../src/prometheus/checks.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { evaluateCheck, evaluateInstanceChecks } from '../../src/prometheus/evaluate.js';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import { backfill, startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { pollsEvery, pulseScrapes } from '../../bench/support/pulse-shaped.js';

const BASE = 1738368000; // 2025-02-01T00:00:00Z
const LABEL = 'pulse_instance';
/** A dot in a name must not match any character (pulse.c vs pulseXc). */
const NAMES = ['pulse-a', 'pulse-b', 'pulse.c', 'pulseXc'];

let prometheus: PrometheusProcess;
let remove: () => void;
let client: PrometheusClient;

function data(): string {
  const at = (i: number) => BASE + 600.4 + i * 60;
  const S = (k: number) => 'S'.repeat(k);
  const instance = (name: string, polls: Record<string, string>) =>
    pulseScrapes({
      from: BASE + 1,
      to: BASE + 3 * 3600,
      labels: { [LABEL]: name },
      polls: Object.fromEntries(Object.entries(polls).map(([id, o]) => [id, pollsEvery(at(0), o)])),
    });
  return [
    instance('pulse-a', { nas1: S(120), nas2: S(120) }),
    // Auth errors from poll 100 on, on one of its two connections.
    instance('pulse-b', { nas1: S(120), nas3: `${S(100)}${'A'.repeat(20)}` }),
    // Failed polls now and then (about 8 %), and a connection with a wrong key from the start (never succeeded).
    instance('pulse.c', { nas1: `${S(60)}${'SSSSSSSSSSE'.repeat(5)}${S(5)}`, nas4: 'A'.repeat(120) }),
    instance('pulseXc', { nas1: S(120) }),
  ].join('');
}

beforeAll(async () => {
  const tsdb = await backfill(data());
  remove = tsdb.remove;
  prometheus = await startPrometheus({ storagePath: tsdb.dir });
  client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 10_000 });
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
  remove?.();
});

const T = BASE + 600 + 115 * 60; // poll 115: every instance has polled for almost 2 h

it.each(PER_INSTANCE_CHECKS)('%s per instance reads what the fleet-wide query reads with the other instances left out', async (id) => {
  const perInstance = await client.query(checkQuery(id, { by: LABEL }).query, T);
  expect(perInstance.resultType).toBe('vector');
  const byName = new Map(
    (perInstance as { samples: Array<{ labels: Record<string, string>; value: string }> }).samples.map((s) => [s.labels[LABEL], s.value]),
  );
  expect([...byName.keys()].sort()).toEqual([...NAMES].sort());
  for (const name of NAMES) {
    const alone = await evaluateCheck(client, id, T, { exclude: { label: LABEL, values: NAMES.filter((n) => n !== name) } });
    expect(alone.series.map((s) => s.value)).toEqual([byName.get(name)]);
  }
});

it('judges each instance: the one with auth errors, the one with errors and a never-valid key, the healthy ones; a missing one is inconclusive', async () => {
  const results = await evaluateInstanceChecks(client, PER_INSTANCE_CHECKS, {
    time: T,
    label: LABEL,
    expected: [...NAMES, 'pulse-missing'],
  });
  const notPassing = Object.fromEntries(
    results.map((r) => [r.check, r.notPassing.map((n) => `${n.instance}:${n.verdict}:${n.value ?? 'none'}`)]),
  );
  expect(notPassing['auth-gate']).toEqual(['pulse-b:fail:15', 'pulse.c:fail:60', 'pulse-missing:inconclusive:none']);
  expect(notPassing['staleness-never-succeeded']).toEqual(['pulse.c:fail:-1', 'pulse-missing:inconclusive:none']);
  expect(notPassing['error-rate'].map((x) => x.split(':').slice(0, 2).join(':'))).toEqual([
    'pulse-b:fail',
    'pulse.c:fail',
    'pulse-missing:inconclusive',
  ]);
  // pulse-b's connection has not polled successfully for 15 polls: its gauge reads 900 s.
  expect(notPassing['staleness-gauge-max']).toEqual(['pulse-b:fail:900', 'pulse-missing:inconclusive:none']);
  expect(results.find((r) => r.check === 'staleness-gauge-max')?.passing).toBe(3);
  // The query is kept only where an instance did not pass, so 500 healthy instances cost no query text per check.
  for (const r of results) expect(!!r.query).toBe(r.notPassing.length > 0);
  expect(CHECKS['auth-gate'].onEmpty).toBe('inconclusive');
});

it('the fleet-wide checks without an instance no longer see it', async () => {
  const all = await evaluateCheck(client, 'auth-gate', T);
  expect(all.verdict).toBe('fail');
  const without = await evaluateCheck(client, 'auth-gate', T, { exclude: { label: LABEL, values: ['pulse-b', 'pulse.c'] } });
  expect(without).toMatchObject({ verdict: 'pass', series: [{ value: '0' }] });
  expect(without.query).toContain('pulse_instance!~"pulse-b|pulse\\\\.c"');
  // Nothing to leave out: the query is the runbook's, unchanged.
  expect(checkQuery('auth-gate', { exclude: { label: LABEL, values: [] } }).query).toBe(checkQuery('auth-gate').query);
});

it("with queries 'not-passing' the activity leaves out a passing check's query and keeps a failing one's", async () => {
  const checks = ['auth-gate', 'staleness-never-succeeded'] as const;
  const ask = (values: string[]) =>
    evaluateMetricChecks({
      prometheus: { url: prometheus.url, timeoutMs: 10_000 },
      checks: [...checks],
      time: T,
      queries: 'not-passing',
      exclude: { label: LABEL, values },
    });
  // pulse.c fails both checks; without it and pulse-b, both pass.
  const failing = await ask(['pulse-b']);
  expect(failing.results.map((r) => [r.check, r.verdict, r.query.includes('pulse_instance!~')])).toEqual(
    checks.map((c) => [c, 'fail', true]),
  );
  const passing = await ask(['pulse-b', 'pulse.c']);
  expect(passing.results.map((r) => [r.check, r.verdict, r.query])).toEqual(checks.map((c) => [c, 'pass', '']));
  // By default every query is kept.
  const all = await evaluateMetricChecks({
    prometheus: { url: prometheus.url, timeoutMs: 10_000 },
    checks: [...checks],
    time: T,
    exclude: { label: LABEL, values: ['pulse-b', 'pulse.c'] },
  });
  expect(all.results.every((r) => r.verdict === 'pass' && r.query.includes('pulse_instance!~'))).toBe(true);
});

it('refuses a per-instance form for a check that has none', () => {
  expect(() => checkQuery('abort-failure-rate', { by: LABEL })).toThrow(/has no per-instance form; per instance: error-rate, /);
});
