/**
 * The catalogue on series shaped as real Pulse v6.0.0 makes them (issue 12), against a real Prometheus 2.42: a poll
 * timeline per connection (polls every 60 s) goes through the emulator's PulseMetrics and is scraped every 5 s,
 * off the poll times (bench/support/pulse-shaped.ts), then backfilled with promtool. So the error series is born
 * at 1 on the first failed poll, a connection that never succeeded has no last-success series and a staleness gauge
 * of -1, and gauges stay frozen between polls, as measured on real Pulse.
 *
 * Each case also runs the query the catalogue had before issue 12 (OLD below, verbatim) on the same data and
 * asserts that it misjudges it, judged by the same rule, so each test fails with the old query.
 */
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { evaluateCheck } from '../../src/prometheus/evaluate.js';
import { checkEvidence, judge, type CheckResult } from '../../src/prometheus/verdict.js';
import { backfill, startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { pollsEvery, pulseScrapes } from '../../bench/support/pulse-shaped.js';

const BASE = 1738368000; // 2025-02-01T00:00:00Z
const SLOT_SECONDS = 4 * 3600;
/** Each scenario in its own slot, so fleet-wide sums never see another scenario's series. */
const SLOTS = {
  rate1in5: 0,
  rate2in6: 1,
  rate1h: 2,
  streak: 3,
  streakBroken: 4,
  neverValid: 5,
  timeouts: 6,
  abort: 7,
  restart: 8,
  restartStale: 9,
} as const;
const slot = (n: number) => BASE + n * SLOT_SECONDS;
/** End of the i-th poll of a scenario: every 60 s from 10 min into the slot, 0.4 s off the 5 s scrape grid. */
const P = (n: number, i: number) => slot(n) + 600.4 + i * 60;

/** The catalogue's queries before issue 12, verbatim (window as a PromQL duration). */
const TN = 'instance_type="truenas"';
const OLD = {
  'error-rate': (w: string) =>
    `(sum(increase(pulse_monitor_poll_total{${TN},result="error"}[${w}])) or vector(0)) / sum(increase(pulse_monitor_poll_total{${TN}}[${w}]))`,
  'consecutive-errors': () =>
    `increase(pulse_monitor_poll_total{${TN},result="error"}[4m]) unless ignoring (result) (increase(pulse_monitor_poll_total{${TN},result="success"}[4m]) > 0)`,
  staleness: () => `time() - pulse_monitor_poll_last_success_timestamp{${TN}}`,
  timeouts: () => {
    const t = `pulse_monitor_poll_errors_total{${TN},error_type="timeout"}`;
    return `sum by (instance) ((${t} unless ${t} offset 10m) or increase(${t}[10m]))`;
  },
};

function scenarios(): string {
  const timeline = (n: number, polls: Record<string, string>, startOffset: Record<string, number> = {}) =>
    pulseScrapes({
      from: slot(n) + 1,
      to: slot(n) + 3 * 3600,
      polls: Object.fromEntries(
        Object.entries(polls).map(([id, outcomes]) => [id, pollsEvery(P(n, 0) + (startOffset[id] ?? 0), outcomes)]),
      ),
    });
  const S = (k: number) => 'S'.repeat(k);
  return [
    // The first failed poll ever, then healthy again: 1 in the 5 polls of a 5-minute window.
    timeline(SLOTS.rate1in5, { 'er-a': `${S(40)}E${S(10)}` }),
    // The first two failed polls ever: 2 in the 6 polls of a 6-minute window.
    timeline(SLOTS.rate2in6, { 'er-b': `${S(40)}EE${S(5)}` }),
    // Three failed polls in the hour, the first of them the first ever: exactly 5 % over the runbook's 1 h.
    timeline(SLOTS.rate1h, { 'er-c': `${S(20)}E${S(19)}E${S(19)}E${S(9)}` }),
    // Half an hour healthy, then a first-ever streak of 20 failed polls.
    timeline(SLOTS.streak, { ce: `${S(30)}${'E'.repeat(20)}` }),
    // Three errors, a success, four errors, healthy again.
    timeline(SLOTS.streakBroken, { cb: `${S(10)}EEESEEEESSS` }),
    // A connection with a wrong key from its first poll (never valid) beside a healthy one.
    timeline(SLOTS.neverValid, { nv: 'A'.repeat(15), hl: S(16) }, { hl: 20 }),
    // to-old: three timeouts long ago (the series exists), then 5 in the last 10 min; to-born: 6 in 10 min, born in them.
    timeline(SLOTS.timeouts, { 'to-old': `TTT${S(50)}TSTSTSTST`, 'to-born': `${S(53)}TTTTTT` }),
    // The NAS answers 500 from poll 20 on.
    timeline(SLOTS.abort, { ab: `${S(20)}${'E'.repeat(15)}` }),
  ].join('');
}

/** An auth error long ago, then Pulse restarts between auth errors: 3 before, 2 after (the counter starts again at 1). */
function restartScenario(): string {
  const n = SLOTS.restart;
  const polls = pollsEvery(P(n, 0), `${'S'.repeat(5)}A${'S'.repeat(14)}AAASAA${'S'.repeat(5)}`);
  return pulseScrapes({ from: slot(n) + 1, to: slot(n) + 3 * 3600, polls: { rs: polls }, restarts: [P(n, 23) + 20] });
}

/** Healthy, then Pulse restarts and every poll fails from then on: the new process has no last-success series. */
function restartStaleScenario(): string {
  const n = SLOTS.restartStale;
  const polls = pollsEvery(P(n, 0), `${'S'.repeat(10)}${'E'.repeat(15)}`);
  return pulseScrapes({ from: slot(n) + 1, to: slot(n) + 3 * 3600, polls: { rr: polls }, restarts: [P(n, 9) + 30] });
}

let prometheus: PrometheusProcess;
let removeData: () => void;
let client: PrometheusClient;

beforeAll(async () => {
  const data = await backfill(`${scenarios()}${restartScenario()}${restartStaleScenario()}# EOF\n`);
  removeData = data.remove;
  prometheus = await startPrometheus({ storagePath: data.dir });
  client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 10_000 });
}, 60_000);
afterAll(async () => {
  await prometheus?.stop();
  removeData?.();
});

async function check(id: CheckId, time: number, windowSeconds?: number): Promise<CheckResult> {
  const result = await evaluateCheck(client, id, time, windowSeconds ? { windows: { [id]: windowSeconds } } : {});
  expect(result.error).toBeUndefined();
  return result;
}

/** The old query, judged by the same rule as the check. */
async function old(id: CheckId, query: string, time: number): Promise<CheckResult> {
  return judge(id, query, await client.query(query, time), new Date(time * 1000).toISOString());
}

/** instance → [value, verdict]; a never-succeeded staleness series is marked "<instance>/never". */
function byInstance(r: CheckResult): Record<string, [string, string]> {
  return Object.fromEntries(
    r.series.map((s) => [`${s.labels.instance ?? '(fleet)'}${s.labels.since ? '/never' : ''}`, [s.value, s.verdict]]),
  );
}

const rounded = (r: CheckResult) =>
  Object.fromEntries(Object.entries(byInstance(r)).map(([k, [v, verdict]]) => [k, [Math.round(Number(v)), verdict]]));

describe('error-rate counts the first error of a new error series (born at 1)', () => {
  it('1 failed poll in 5 reads 0.2 and fails the gate; the old query read 0 and passed', async () => {
    const t = P(SLOTS.rate1in5, 40) + 20;
    expect(byInstance(await check('error-rate', t, 300))).toEqual({ '(fleet)': ['0.2', 'fail'] });
    expect(byInstance(await old('error-rate', OLD['error-rate']('5m'), t))).toEqual({ '(fleet)': ['0', 'pass'] });
  });

  it('2 failed polls in 6 read exactly 1/3; the old query read about 0.21', async () => {
    const t = P(SLOTS.rate2in6, 41) + 20;
    expect(Number((await check('error-rate', t, 360)).series[0].value)).toBe(1 / 3);
    expect(Number((await old('error-rate', OLD['error-rate']('6m'), t)).series[0].value)).toBeLessThan(0.3);
  });

  it("over the runbook's 1 h, 3 failed polls in 60 are exactly 5 %, not below it; the old query read 3.4 % and passed", async () => {
    const t = P(SLOTS.rate1h, 69) + 20;
    const result = await check('error-rate', t);
    expect(byInstance(result)).toEqual({ '(fleet)': ['0.05', 'fail'] });
    const before = await old('error-rate', OLD['error-rate']('1h'), t);
    expect(before.verdict).toBe('pass');
    expect(Number(before.series[0].value)).toBeLessThan(0.04);
    // The evidence carries the query, the value and the verdict.
    expect(checkEvidence(result).details).toMatchObject({
      query: checkQuery('error-rate').query,
      values: [{ value: '0.05', verdict: 'fail' }],
      rule: '>= 0.05',
    });
  });
});

describe('consecutive-errors counts the streak itself', () => {
  it('a first-ever streak: the 3rd failed poll passes, the 4th fires (the old query read 3.06 and passed)', async () => {
    expect(byInstance(await check('consecutive-errors', P(SLOTS.streak, 32) + 12))).toEqual({ ce: ['3', 'pass'] });
    const fourth = P(SLOTS.streak, 33) + 12;
    expect(byInstance(await check('consecutive-errors', fourth))).toEqual({ ce: ['4', 'fail'] });
    const before = await old('consecutive-errors', OLD['consecutive-errors'](), fourth);
    expect(before.verdict).toBe('pass');
    expect(Number(before.series[0].value)).toBeLessThan(3.1);
  });

  it('a long streak never dips: every 5 s from the 4th failed poll to the end it fires; the old query passed at times', async () => {
    const oldPasses: string[] = [];
    for (let t = P(SLOTS.streak, 33) + 12; t < P(SLOTS.streak, 49) + 55; t += 5) {
      const r = await check('consecutive-errors', t);
      expect({ t, verdict: r.verdict }).toEqual({ t, verdict: 'fail' });
      const before = await old('consecutive-errors', OLD['consecutive-errors'](), t);
      if (before.verdict === 'pass') oldPasses.push(before.series[0]?.value ?? 'empty');
    }
    expect(oldPasses.length).toBeGreaterThan(0);
    expect(Math.min(...oldPasses.map(Number))).toBeLessThan(4);
  });

  it('a success ends the streak: errors before it do not count, the 4th after it fires, the next success reads 0', async () => {
    expect(byInstance(await check('consecutive-errors', P(SLOTS.streakBroken, 16) + 12))).toEqual({ cb: ['3', 'pass'] });
    expect(byInstance(await check('consecutive-errors', P(SLOTS.streakBroken, 17) + 12))).toEqual({ cb: ['4', 'fail'] });
    expect(byInstance(await check('consecutive-errors', P(SLOTS.streakBroken, 18) + 12))).toEqual({ cb: ['0', 'pass'] });
  });

  it('a connection that never succeeded fires at its 4th failed poll (the old query read 3.06)', async () => {
    expect(byInstance(await check('consecutive-errors', P(SLOTS.neverValid, 2) + 12))).toEqual({ nv: ['3', 'pass'] });
    const fourth = P(SLOTS.neverValid, 3) + 12;
    expect(byInstance(await check('consecutive-errors', fourth))).toEqual({ nv: ['4', 'fail'] });
    expect((await old('consecutive-errors', OLD['consecutive-errors'](), fourth)).verdict).toBe('pass');
  });
});

describe('staleness rows see a connection that never succeeded', () => {
  const first = P(SLOTS.neverValid, 0);

  it('> 300 s WARNING: from its first failed poll (gauge -1, no last-success series); the old query listed only the healthy one', async () => {
    expect(rounded(await check('staleness-warning', first + 290))).toEqual({ hl: [30, 'pass'], 'nv/never': [285, 'pass'] });
    const warning = await check('staleness-warning', first + 315);
    expect(rounded(warning)).toEqual({ hl: [55, 'pass'], 'nv/never': [310, 'fail'] });
    expect(warning.series.find((s) => s.labels.instance === 'nv')!.labels.since).toBe('first failed poll, never succeeded');
    const before = await old('staleness-warning', OLD.staleness(), first + 315);
    expect(rounded(before)).toEqual({ hl: [55, 'pass'] });
  });

  it('> 600 s CRITICAL likewise (the old query passed)', async () => {
    expect(rounded(await check('staleness-critical', first + 590))).toEqual({ hl: [30, 'pass'], 'nv/never': [585, 'pass'] });
    expect(rounded(await check('staleness-critical', first + 615))).toEqual({ hl: [55, 'pass'], 'nv/never': [610, 'fail'] });
    expect((await old('staleness-critical', OLD.staleness(), first + 615)).verdict).toBe('pass');
  });

  it('a Pulse restart does not hide the last success: the age still counts from it, not from the first -1 after the restart', async () => {
    const lastSuccess = P(SLOTS.restartStale, 9);
    const t = lastSuccess + 700;
    expect(rounded(await check('staleness-critical', t))).toEqual({ rr: [700, 'fail'] });
    // The old query: the last-success series went away with the old process.
    expect((await old('staleness-critical', OLD.staleness(), t)).series).toEqual([]);
  });

  it('auth errors fire at its first failed poll, with the whole value of the new series', async () => {
    expect(byInstance(await check('auth-errors', first + 12))).toEqual({ nv: ['1', 'fail'] });
  });
});

describe('counters counted exactly', () => {
  it('timeouts > 5 in 10 min: 5 on an existing series pass (the old query extrapolated them to 5.04 and fired); 6 born in the window fire', async () => {
    const t = P(SLOTS.timeouts, 61) + 20;
    expect(byInstance(await check('timeouts', t))).toEqual({ 'to-old': ['5', 'pass'], 'to-born': ['6', 'fail'] });
    const before = byInstance(await old('timeouts', OLD.timeouts(), t));
    expect(before['to-old'][1]).toBe('fail');
    expect(Number(before['to-old'][0])).toBeGreaterThan(5);
  });

  it('abort.1: the NAS answering 500 aborts 7 min after the first failed poll (the failure ratio over 5 min passes 50 % at the 3rd, then holds 5 min)', async () => {
    const firstError = P(SLOTS.abort, 20);
    let firstFail: number | undefined;
    for (let t = firstError; t < firstError + 600 && firstFail === undefined; t += 5) {
      if ((await check('abort-failure-rate', t)).verdict === 'fail') firstFail = t;
    }
    expect(firstFail! - firstError).toBeGreaterThan(300);
    expect(firstFail! - firstError).toBeLessThanOrEqual(430);
  });

  it('a Pulse restart between auth errors in the window: both sides of the reset count (increase(), extrapolated)', async () => {
    const n = SLOTS.restart;
    const r = await check('auth-errors', P(n, 25) + 20, 600);
    expect(r.verdict).toBe('fail');
    const value = Number(r.series[0].value);
    expect(value).toBeGreaterThanOrEqual(5);
    expect(value).toBeLessThan(6);
    expect(Number((await check('auth-gate', P(n, 25) + 20, 600)).series[0].value)).toBeGreaterThanOrEqual(5);
  });
});
