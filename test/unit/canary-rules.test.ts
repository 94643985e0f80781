/**
 * The canary's pure rules without Temporal: the green clock and its resets, empty/NaN verdict overrides, the
 * resource regression, auth persistence, the checklist, the sign-off policy and the critical-bug window.
 */
import { CanaryInputSchema, type CanaryInput, type CanaryInputRaw } from '../../src/config/canary.js';
import { applyCheckpoint, regressionOf, withVerdictOverrides } from '../../src/canary/checkpoints.js';
import { checklist, gateStatus } from '../../src/canary/checklist.js';
import {
  applyReportIssue,
  applySignOff,
  applyStagingRollback,
  criticalBurst,
  refuseSignOff,
  refuseUnknownActor,
} from '../../src/canary/people.js';
import { initialState, type CanaryState } from '../../src/canary/state.js';
import type { Evaluation } from '../../src/prometheus/alert-state.js';
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { judge, unanswered } from '../../src/prometheus/verdict.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const H = 3600_000;

function input(extra: Partial<CanaryInputRaw> = {}): CanaryInput {
  return CanaryInputSchema.parse({
    startedBy: 'rita',
    prometheus: { url: 'http://prom:9090' },
    approvers: { phase1: ['sam', 'rita'], phase2: ['sam'], phase3: ['sam'] },
    ...extra,
  });
}

const HEALTHY: Record<string, string> = {
  'error-rate': '0.01',
  'staleness-gauge-max': '61',
  'staleness-never-succeeded': '2',
  'staleness-last-success': '60',
  'auth-gate': '0',
  'abort-failure-rate': '0',
  'auth-errors': '0',
  'resource-memory': '100',
  'resource-cpu': '0.1',
};

function evaluation(at: number, values: Record<string, string | null> = {}): Evaluation {
  const merged = { ...HEALTHY, ...values };
  const iso = new Date(at).toISOString();
  return {
    at: iso,
    prometheusUrl: 'http://prom:9090',
    reachable: true,
    results: Object.entries(merged).map(([id, v]) => {
      const { query, windowSeconds } = checkQuery(id as CheckId);
      return judge(
        id as CheckId,
        query,
        { resultType: 'vector', samples: v === null ? [] : [{ labels: { instance: 'p:9091' }, time: at / 1000, value: v }] },
        iso,
        windowSeconds,
      );
    }),
  };
}

function monitoring(): CanaryState {
  const s = initialState(new Date(T0).toISOString());
  s.status = 'monitoring';
  return s;
}

describe('green clock', () => {
  it('starts at the first all-green checkpoint, resets on a failure with the checks and the time green, and restarts', () => {
    const s = monitoring();
    const inp = input();
    expect(applyCheckpoint(s, inp, evaluation(T0), T0).green).toBe(true);
    expect(s.greenClock.since).toBe(new Date(T0).toISOString());
    applyCheckpoint(s, inp, evaluation(T0 + 40 * H, { 'error-rate': '0.06' }), T0 + 40 * H);
    expect(s.greenClock.since).toBeUndefined();
    expect(s.greenClock.resets).toEqual([
      {
        at: new Date(T0 + 40 * H).toISOString(),
        reason: 'not green: error-rate: fail',
        checks: ['error-rate: fail'],
        greenForSeconds: 40 * 3600,
      },
    ]);
    applyCheckpoint(s, inp, evaluation(T0 + 41 * H), T0 + 41 * H);
    expect(s.greenClock.since).toBe(new Date(T0 + 41 * H).toISOString());
    expect(gateStatus(s, inp, T0 + 48 * H)).toMatchObject({ met: false, minLeftSeconds: 0, greenLeftSeconds: 17 * 3600 });
    expect(gateStatus(s, inp, T0 + 65 * H).met).toBe(true);
  });

  it('exactly 5 % error rate is not green (the runbook says below 5 %)', () => {
    const s = monitoring();
    expect(applyCheckpoint(s, input(), evaluation(T0, { 'error-rate': '0.05' }), T0).green).toBe(false);
  });

  it('an unreachable Prometheus is inconclusive and resets the clock', () => {
    const s = monitoring();
    applyCheckpoint(s, input(), evaluation(T0), T0);
    const at = new Date(T0 + H).toISOString();
    const down: Evaluation = {
      at,
      prometheusUrl: 'http://prom:9090',
      reachable: false,
      results: ['error-rate'].map((id) => unanswered(id as CheckId, 'q', at, { kind: 'unavailable', message: 'ECONNREFUSED' })),
    };
    expect(applyCheckpoint(s, input(), down, T0 + H).green).toBe(false);
    expect(s.greenClock.resets[0].reason).toBe('inconclusive: Prometheus could not be queried');
  });
});

describe('empty and NaN verdicts', () => {
  it('keep the catalogue verdict unless the rollout overrides it, and say so', () => {
    const e = evaluation(T0, { 'auth-gate': null, 'error-rate': 'NaN' });
    const auth = e.results.find((r) => r.check === 'auth-gate')!;
    const rate = e.results.find((r) => r.check === 'error-rate')!;
    expect(auth.verdict).toBe('inconclusive');
    expect(rate.verdict).toBe('inconclusive');
    expect(withVerdictOverrides(auth, { 'auth-gate': { onEmpty: 'pass' } })).toMatchObject({
      verdict: 'pass',
      reason: expect.stringMatching(/configured for this rollout/),
    });
    expect(withVerdictOverrides(rate, { 'error-rate': { onNaN: 'fail' } }).verdict).toBe('fail');
    expect(withVerdictOverrides(rate, { 'auth-gate': { onNaN: 'pass' } })).toBe(rate);
  });
});

describe('resource regression (abort 3)', () => {
  it('compares each series with its baseline, above the percentage only', () => {
    const base = { memoryBytes: { a: 100 }, cpuCoresUsed: { a: 1 }, at: '' };
    expect(regressionOf(base, { memoryBytes: { a: 120 }, cpuCoresUsed: { a: 1.2 }, at: '' }, 20)).toBeUndefined();
    expect(regressionOf(base, { memoryBytes: { a: 121 }, cpuCoresUsed: { a: 1 }, at: '' }, 20)).toBe('memory +21.0 % over baseline on a');
    expect(regressionOf(base, { memoryBytes: {}, cpuCoresUsed: { a: 1.5 }, at: '' }, 20)).toBe('CPU +50.0 % over baseline on a');
    expect(regressionOf(undefined, { memoryBytes: { a: 999 }, cpuCoresUsed: {}, at: '' }, 20)).toBeUndefined();
  });

  it('aborts once the regression has held for the confirmation time, and forgets one that went away', () => {
    const s = monitoring();
    const inp = input({ baseline: { memoryBytes: 100 }, aborts: { regressionConfirmSeconds: 1800 } });
    s.baseline = { memoryBytes: { all: 100 }, cpuCoresUsed: {}, at: '', source: 'input' };
    expect(applyCheckpoint(s, inp, evaluation(T0, { 'resource-memory': '130' }), T0).abort).toBeUndefined();
    expect(applyCheckpoint(s, inp, evaluation(T0 + 10 * 60_000), T0 + 10 * 60_000).abort).toBeUndefined();
    expect(s.regressionSince).toBeUndefined();
    applyCheckpoint(s, inp, evaluation(T0 + 20 * 60_000, { 'resource-memory': '130' }), T0 + 20 * 60_000);
    expect(applyCheckpoint(s, inp, evaluation(T0 + 49 * 60_000, { 'resource-memory': '130' }), T0 + 49 * 60_000).abort).toBeUndefined();
    expect(applyCheckpoint(s, inp, evaluation(T0 + 50 * 60_000, { 'resource-memory': '130' }), T0 + 50 * 60_000).abort?.criterion).toBe(
      'canary.abort.3',
    );
  });
});

describe('auth persistence (abort 4)', () => {
  it('aborts only after more than authPersistSeconds of auth errors; an inconclusive reading keeps the timer', () => {
    const s = monitoring();
    const inp = input();
    const auth = { 'auth-errors': '1', 'auth-gate': '1' };
    expect(applyCheckpoint(s, inp, evaluation(T0, auth), T0).abort).toBeUndefined();
    expect(applyCheckpoint(s, inp, evaluation(T0 + 300_000, { 'auth-errors': 'NaN' }), T0 + 300_000).abort).toBeUndefined();
    expect(s.authFailingSince).toBe(new Date(T0).toISOString());
    expect(applyCheckpoint(s, inp, evaluation(T0 + 600_000, auth), T0 + 600_000).abort).toBeUndefined();
    expect(applyCheckpoint(s, inp, evaluation(T0 + 601_000, auth), T0 + 601_000).abort?.criterion).toBe('canary.abort.4');
  });
});

describe('checklist and sign-off', () => {
  it('lists what is missing, refuses sign-off until items 1-4 hold, and records the snapshot the approver saw', () => {
    const s = monitoring();
    const inp = input();
    applyCheckpoint(s, inp, evaluation(T0), T0);
    const at = T0 + 49 * H;
    applyCheckpoint(s, inp, evaluation(at), at);
    expect(
      checklist(s, inp, at)
        .filter((i) => !i.ok)
        .map((i) => i.step),
    ).toEqual(['canary.checklist.3', 'canary.checklist.5']);
    expect(refuseSignOff(s, inp, { actor: 'sam' }, at)).toMatch(/missing: Rollback procedure has been tested in staging/);
    applyStagingRollback(s, { actor: 'olga', evidence: 'run 7' }, at);
    expect(refuseSignOff(s, inp, { actor: 'rita' }, at)).toBe(
      'rita started this rollout and may not sign off their own phase (self-approval is off)',
    );
    expect(refuseSignOff(s, { ...inp, allowSelfApproval: true }, { actor: 'rita' }, at)).toBeUndefined();
    expect(refuseSignOff(s, inp, { actor: 'eve' }, at)).toBe(
      'eve is not an approver for phase 1 and may not sign off (approvers: sam, rita)',
    );
    expect(refuseSignOff(s, inp, { actor: 'sam' }, at)).toBeUndefined();
    const signed = applySignOff(s, inp, { actor: 'sam', comment: 'ok' }, at);
    expect(signed.snapshot.map((i) => i.ok)).toEqual([true, true, true, true, false]);
    expect(checklist(s, inp, at).every((i) => i.ok)).toBe(true);
  });

  it('an open critical or high issue is item 2', () => {
    const s = monitoring();
    const inp = input();
    applyReportIssue(s, inp, { actor: 'o', severity: 'high', title: 'x', source: 'user' }, T0);
    applyReportIssue(s, inp, { actor: 'o', severity: 'low', title: 'y', source: 'user' }, T0);
    expect(checklist(s, inp, T0).find((i) => i.step === 'canary.checklist.2')).toMatchObject({
      ok: false,
      detail: 'open: issue-1 (high) x',
    });
  });
});

describe('critical bugs (abort 5)', () => {
  it('more than 3 critical bugs within any 24 h window abort; spread out they do not', () => {
    const s = monitoring();
    const inp = input();
    const report = (at: number) => applyReportIssue(s, inp, { actor: 'o', severity: 'critical', title: 't', source: 'user' }, at);
    report(T0);
    report(T0 + 20 * H);
    report(T0 + 21 * H);
    report(T0 + 25 * H);
    expect(criticalBurst(s, inp)).toBeUndefined();
    report(T0 + 26 * H);
    expect(criticalBurst(s, inp)).toMatch(/^4 critical bugs reported within 6\.0 h/);
  });
});

describe('input', () => {
  it('has the runbook defaults and names the field of a bad value', () => {
    const inp = input();
    expect([
      inp.phase1.minSeconds,
      inp.phase1.greenSeconds,
      inp.phase2.minSeconds,
      inp.phase2.quietSeconds,
      inp.phase2.triageSeconds,
      inp.checkEverySeconds,
    ]).toEqual([172800, 86400, 604800, 432000, 86400, 60]);
    expect([
      inp.aborts.regressionPercent,
      inp.aborts.authPersistSeconds,
      inp.aborts.criticalBugsMax,
      inp.aborts.criticalBugWindowSeconds,
    ]).toEqual([20, 600, 3, 86400]);
    const bad = CanaryInputSchema.safeParse({
      startedBy: 'rita',
      prometheus: { url: 'http://p:9090' },
      approvers: { phase1: ['s'], phase2: ['s'], phase3: ['s'] },
      phase1: { minSeconds: -1 },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain(
      'phase1.minSeconds: phase1.minSeconds must be positive',
    );
    const tooLong = CanaryInputSchema.safeParse({
      startedBy: 'rita',
      prometheus: { url: 'http://p:9090' },
      approvers: { phase1: ['s'], phase2: ['s'], phase3: ['s'] },
      aborts: { regressionConfirmSeconds: 7200 },
    });
    expect(tooLong.error!.issues[0].path.join('.')).toBe('aborts.regressionConfirmSeconds');
  });
});

describe('who may act', () => {
  it('without operators anyone may report or abort; with them, unknown actors are refused by name', () => {
    expect(refuseUnknownActor(input(), 'mallory')).toBeUndefined();
    const inp = input({ operators: ['olga'] });
    expect(refuseUnknownActor(inp, 'olga')).toBeUndefined();
    expect(refuseUnknownActor(inp, 'sam')).toBeUndefined();
    expect(refuseUnknownActor(inp, 'rita')).toBeUndefined();
    expect(refuseUnknownActor(inp, 'mallory')).toBe(
      'mallory is not part of this rollout: only its operators (olga), approvers and rita (who started it) may act',
    );
  });
});
