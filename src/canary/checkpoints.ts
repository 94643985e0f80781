/**
 * One monitoring checkpoint applied to the rollout state: the green clock (runbook phase1.4, "green for at least
 * 24 continuous hours"), the resource baseline and regression (phase1.3.4, abort.3), and the auth-error
 * persistence (abort.4). Pure: the workflow passes the evaluation and the time.
 *
 * - Green means every GREEN_CHECKS check passed. A failing check, an inconclusive one (empty/NaN answer whose
 *   verdict is inconclusive, or Prometheus unreachable) or a pause resets the clock: continuity that was not
 *   observed is not claimed.
 * - Each evaluation is kept with its queries, values, time and verdicts (the last KEEP.evaluations of them).
 */
import type { CanaryInput } from '../config/canary.js';
import { ABORT_CHECKS, GREEN_CHECKS, RESOURCE_CHECKS, type VerdictOverrides } from './checks.js';
import type { Evaluation } from '../prometheus/alert-state.js';
import { parseValue, type CheckId } from '../prometheus/checks.js';
import type { CheckResult } from '../prometheus/verdict.js';
import type { Evidence } from '../runbook/evidence.js';
import { addEvidence, KEEP, secondsBetween, type CanaryState, type EvaluationRecord, type ResourceReading } from './state.js';

/** Passing series kept per check in each evaluation (see trimPassing): the workflow asks for this, the simulation applies it. */
export const PASSING_SERIES_KEPT = 20;

/** The checks one cycle evaluates in a phase: the checkpoints, the abort criteria, resources, and phase 3's alerts. */
export function checksFor(input: CanaryInput, phase: number): CheckId[] {
  const ids: CheckId[] = [...GREEN_CHECKS, ...ABORT_CHECKS, ...RESOURCE_CHECKS, ...(phase === 3 ? input.phase3.alertChecks : [])];
  return [...new Set(ids)];
}

/** Applies this rollout's empty/NaN verdicts (issue: "configurable per check") over the catalogue's. */
export function withVerdictOverrides(result: CheckResult, overrides: VerdictOverrides): CheckResult {
  const o = overrides[result.check];
  if (!o || result.error) return result;
  if (result.empty && o.onEmpty && o.onEmpty !== result.verdict) {
    return { ...result, verdict: o.onEmpty, reason: `no series (empty result): ${o.onEmpty} as configured for this rollout` };
  }
  if (!o.onNaN) return result;
  const series = result.series.map((s) => (Number.isNaN(parseValue(s.value)) ? { ...s, verdict: o.onNaN! } : s));
  if (series.every((s, i) => s.verdict === result.series[i].verdict)) return result;
  const verdict = series.some((s) => s.verdict === 'fail')
    ? 'fail'
    : series.some((s) => s.verdict === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  return { ...result, series, verdict, reason: `${result.reason} (NaN counted as ${o.onNaN} for this rollout)` };
}

function labelsKey(labels: Record<string, string>): string {
  const keys = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort();
  return keys.map((k) => `${k}=${labels[k]}`).join(',') || 'all';
}

function numbers(result: CheckResult | undefined): Record<string, number> | undefined {
  if (!result || result.error || result.series.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const s of result.series) {
    const n = parseValue(s.value);
    if (Number.isFinite(n)) out[labelsKey(s.labels)] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

export interface CheckpointOutcome {
  record: EvaluationRecord;
  green: boolean;
  /** Set when an abort criterion read from metrics is met (abort.1 at once, abort.3/4 after their persistence). */
  abort?: { criterion: 'canary.abort.1' | 'canary.abort.3' | 'canary.abort.4'; reason: string };
}

/** Records what a checkpoint saw, under the runbook step it belongs to, at the checkpoint's time. */
function note(
  state: CanaryState,
  at: string,
  step: Evidence['step'],
  verdict: Evidence['verdict'],
  summary: string,
  details?: Record<string, unknown>,
): void {
  addEvidence(state, details === undefined ? { step, at, verdict, summary } : { step, at, verdict, summary, details });
}

/** Applies one evaluation (already taken by the activity) to the state at `now` (ms). */
export function applyCheckpoint(state: CanaryState, input: CanaryInput, evaluation: Evaluation, now: number): CheckpointOutcome {
  const at = new Date(now).toISOString();
  const results = evaluation.results.map((r) => withVerdictOverrides(r, input.verdicts));
  const byId = new Map(results.map((r) => [r.check, r]));
  const gate = GREEN_CHECKS.map((id) => byId.get(id));
  const green = evaluation.reachable && gate.every((r) => r?.verdict === 'pass');

  const record: EvaluationRecord = {
    at: evaluation.at,
    reachable: evaluation.reachable,
    green,
    checks: results.map((r) => ({
      check: r.check,
      verdict: r.verdict,
      reason: r.reason,
      ...(r.query && { query: r.query }),
      values: r.series.slice(0, 10).map((s) => ({ labels: s.labels, value: s.value })),
    })),
  };
  // Older records keep each check's verdict and reason; the query and values are in the latest one (and in the
  // evidence of every reset): ten full records of a fleet's long queries would fill the state.
  const previous = state.evaluations.at(-1);
  if (previous) previous.checks = previous.checks.map(({ check, verdict, reason }) => ({ check, verdict, reason }));
  state.evaluations.push(record);
  if (state.evaluations.length > KEEP.evaluations) state.evaluations.splice(0, state.evaluations.length - KEEP.evaluations);
  state.cycles += 1;

  // The green clock.
  const clock = state.greenClock;
  if (green) {
    if (!clock.since) {
      clock.since = at;
      note(state, at, 'canary.phase1.4', 'ok', 'Every monitoring checkpoint is green: the continuous green clock starts.', {
        checks: [...GREEN_CHECKS],
      });
    }
  } else {
    const bad = gate.filter((r) => r?.verdict !== 'pass').map((r, i) => `${r?.check ?? GREEN_CHECKS[i]}: ${r?.verdict ?? 'missing'}`);
    const reason = evaluation.reachable ? `not green: ${bad.join(', ')}` : 'inconclusive: Prometheus could not be queried';
    if (clock.since) {
      const greenForSeconds = secondsBetween(clock.since, now);
      clock.resets.push({ at, reason, checks: bad, greenForSeconds });
      if (clock.resets.length > KEEP.resets) clock.resets.splice(0, clock.resets.length - KEEP.resets);
      clock.resetCount += 1;
      clock.since = undefined;
      note(state, at, 'canary.phase1.4', 'failed', `The green clock resets after ${Math.round(greenForSeconds)} s: ${reason}.`, {
        failing: gate
          .filter((r) => r && r.verdict !== 'pass')
          .map((r) => ({ check: r!.check, query: r!.query, verdict: r!.verdict, reason: r!.reason })),
      });
    }
  }

  // Resources: the latest reading, the phase 1 baseline, and abort criterion 3.
  const memory = numbers(byId.get('resource-memory'));
  const cpu = numbers(byId.get('resource-cpu'));
  if (memory || cpu) state.resources = { memoryBytes: memory ?? {}, cpuCoresUsed: cpu ?? {}, at };
  const abort = firstAbort(state, input, byId, now, at);
  return { record, green, abort };
}

function firstAbort(
  state: CanaryState,
  input: CanaryInput,
  byId: Map<CheckId, CheckResult>,
  now: number,
  at: string,
): CheckpointOutcome['abort'] {
  // Abort 1: the check itself spans the 5 minutes (its lowest ratio over the window is above 50 %).
  const failureRate = byId.get('abort-failure-rate');
  if (failureRate?.verdict === 'fail') {
    return {
      criterion: 'canary.abort.1',
      reason: `poll failure rate above 50 % across all connections for ${failureRate.windowSeconds ?? 300} s: ${failureRate.reason}`,
    };
  }

  // Abort 4: auth errors in every reading for longer than authPersistSeconds. Inconclusive keeps the timer as is.
  const auth = byId.get('auth-errors');
  if (auth?.verdict === 'fail') {
    state.authFailingSince ??= at;
    const persisted = secondsBetween(state.authFailingSince, now);
    if (persisted > input.aborts.authPersistSeconds) {
      return {
        criterion: 'canary.abort.4',
        reason: `auth errors have persisted for ${Math.round(persisted)} s (more than ${input.aborts.authPersistSeconds} s) without resolution: ${auth.reason}`,
      };
    }
  } else if (auth?.verdict === 'pass' && state.authFailingSince) {
    note(state, at, 'canary.abort.4', 'ok', `Auth errors stopped after ${Math.round(secondsBetween(state.authFailingSince, now))} s.`);
    state.authFailingSince = undefined;
  }

  // Abort 3: a regression over the baseline, confirmed for regressionConfirmSeconds (which is at most an hour).
  const regression = regressionOf(state.baseline, state.resources, input.aborts.regressionPercent);
  if (regression && state.resources?.at === at) {
    if (!state.regressionSince) {
      state.regressionSince = at;
      note(
        state,
        at,
        'canary.abort.3',
        'failed',
        `Resource regression seen: ${regression}; confirming for ${input.aborts.regressionConfirmSeconds} s.`,
      );
    }
    const held = secondsBetween(state.regressionSince, now);
    if (held >= input.aborts.regressionConfirmSeconds) {
      return { criterion: 'canary.abort.3', reason: `${regression}, for ${Math.round(held)} s while the TrueNAS poller runs` };
    }
  } else if (!regression && state.regressionSince && state.resources?.at === at) {
    note(state, at, 'canary.abort.3', 'ok', 'The resource regression is gone.');
    state.regressionSince = undefined;
  }
  return undefined;
}

/** "memory +34 % over baseline on instance=pulse:9091" when a reading exceeds the baseline by more than pct. */
export function regressionOf(baseline: ResourceReading | undefined, current: ResourceReading | undefined, pct: number): string | undefined {
  if (!baseline || !current) return undefined;
  const found: string[] = [];
  const compare = (what: string, base: Record<string, number>, now: Record<string, number>) => {
    for (const [series, value] of Object.entries(now)) {
      const before = base[series] ?? (Object.keys(base).length === 1 ? Object.values(base)[0] : undefined);
      if (before === undefined || before <= 0) continue;
      const change = ((value - before) / before) * 100;
      if (change > pct) found.push(`${what} +${change.toFixed(1)} % over baseline on ${series}`);
    }
  };
  compare('memory', baseline.memoryBytes, current.memoryBytes);
  compare('CPU', baseline.cpuCoresUsed, current.cpuCoresUsed);
  return found.length ? found.join('; ') : undefined;
}

/** The resource baseline from the input (measured before the rollout), as a reading. */
export function inputBaseline(input: CanaryInput, at: string): ResourceReading | undefined {
  if (!input.baseline) return undefined;
  return {
    memoryBytes: input.baseline.memoryBytes !== undefined ? { all: input.baseline.memoryBytes } : {},
    cpuCoresUsed: input.baseline.cpuCoresUsed !== undefined ? { all: input.baseline.cpuCoresUsed } : {},
    at,
  };
}
