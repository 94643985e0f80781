/**
 * `canary simulate` (issue 17): a rollout's gates, clocks and aborts replayed over recorded metrics. The catalogue's
 * queries are read over a time range at the rollout's check interval (Prometheus `query_range`, or a saved range
 * file), and every step goes through the very code the workflow runs at each check: the verdicts of
 * src/prometheus/verdict.ts, then src/canary/cycle.ts (the checkpoint and green clock, abort criteria 1, 3 and 4, each
 * instance on its own, the error budget, the exit gate), then the phase move of src/canary/phases.ts. No rule is
 * copied here; this module only walks the grid and notes what changed.
 *
 * What the simulation cannot see, it assumes, and says so: the people's checklist items (the staging test, no open
 * issue, a sign-off the moment the gate opens), every instance of a phase on from the phase's start, and an
 * instance's own Disable completing at once. The checks fall on the workflow's grid (from + k x checkEverySeconds),
 * so a rollout started at `from` checks at the same instants. A query the range API cannot replay (it reads `@ end()`,
 * which a range query fixes at the range's end: consecutive-errors) is left out and named; no gate reads it.
 */
import type { CanaryInput, Phase } from '../config/canary.js';
import type { Evaluation } from '../prometheus/alert-state.js';
import { checkQuery, type CheckId, type CheckVerdict } from '../prometheus/checks.js';
import type { Labels } from '../prometheus/client.js';
import { judge, judgeInstances, trimPassing, type InstanceCheckResult } from '../prometheus/verdict.js';
import { checklist } from './checklist.js';
import { checksFor, inputBaseline, PASSING_SERIES_KEPT } from './checkpoints.js';
import { applyCycle } from './cycle.js';
import { excludedNames, initialFleet, judgedMembers, setMemberState } from './fleet.js';
import { INSTANCE_CHECKS } from './instance-gates.js';
import { metricGateOpen, movePhase } from './phases.js';
import { formatDuration } from './render.js';
import { initialState, type ClockReset, type MemberState } from './state.js';

/** One series of a range answer, aligned to the grid: values[k] is the value at start + k x step (null: none). */
export interface RangeSeries {
  labels: Labels;
  values: Array<string | null>;
}

/** Where the series come from: Prometheus (query_range) or a saved range file. */
export interface RangeSource {
  /** `query` at start, start + step, ..., end (unix seconds, end on the grid). */
  range(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]>;
  /** For the report: the Prometheus URL, or the file. */
  describe: string;
}

export interface SimulateOptions {
  /** The first check (ms): the rollout's start. */
  from: number;
  /** The last possible check (ms). */
  to: number;
  /** Keep every check's verdicts (large: one entry per check). */
  keepSteps?: boolean;
}

export type TimelineKind = 'check' | 'instance' | 'clock-start' | 'clock-reset' | 'gate-open' | 'phase' | 'abort' | 'end';

export interface TimelineEvent {
  at: string;
  phase: Phase;
  kind: TimelineKind;
  /** "error-rate red", "green clock reset", "phase 1 exit gate open", "abort: canary.abort.3"… */
  what: string;
  detail: string;
  check?: CheckId;
  instance?: string;
}

export interface SimulatedStep {
  at: string;
  verdicts: Partial<Record<CheckId, CheckVerdict>>;
  /** Per instance: those that did not pass, per check. */
  instances?: Partial<Record<CheckId, InstanceCheckResult['notPassing']>>;
}

export interface SimulationResult {
  rollout: string;
  source: string;
  from: string;
  to: string;
  stepSeconds: number;
  evaluations: number;
  /** The last check: the abort's, or the last before `to`. */
  endedAt: string;
  phases: Array<{ phase: Phase; startedAt: string; endedAt?: string; gateOpenedAt?: string }>;
  /** Every reset of the green clock (the workflow keeps the last 100). */
  resets: ClockReset[];
  abort?: { criterion: string; reason: string; at: string; phase: Phase };
  /** The green clock at each of its corners (for the chart). */
  clock: Array<{ at: number; greenForSeconds: number; phase: Phase }>;
  /** Instances of a fleet taken out by their own checkpoints (disabled at once, or left to a person without Disable settings), and where every instance ended. */
  instances?: { broke: Array<{ name: string; at: string; note?: string }>; counts: Partial<Record<MemberState, number>> };
  events: TimelineEvent[];
  /** What the simulation assumed or left out. */
  notes: string[];
  steps?: SimulatedStep[];
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Checks whose query the range API cannot replay. */
const NOT_REPLAYABLE = /@\s*(end|start)\(\)/;

export class SimulationError extends Error {}

/** Replays the rollout over [from, to] on the series the source gives. */
export async function simulate(input: CanaryInput, source: RangeSource, opts: SimulateOptions): Promise<SimulationResult> {
  const step = input.checkEverySeconds;
  if (!(opts.to > opts.from)) throw new SimulationError(`the range is empty: --to ${iso(opts.to)} is not after --from ${iso(opts.from)}`);
  const toSec = opts.from / 1000 + Math.floor((opts.to - opts.from) / 1000 / step) * step;

  const state = initialState(iso(opts.from));
  state.status = 'monitoring';
  const baseline = inputBaseline(input, iso(opts.from));
  if (baseline) state.baseline = { ...baseline, source: 'input' };
  state.fleet = initialFleet(input, opts.from);
  const label = input.fleet.instanceLabel;
  const turnOn = (now: number) => {
    for (const m of state.fleet!.members)
      if (m.state === 'pending' && m.phase <= state.phase)
        setMemberState(m, 'enabled', now, 'taken as enabled from the start of its phase');
  };
  turnOn(opts.from);

  const notes = [
    'Assumed: every instance of a phase is enabled from the start of the phase; the staging rollback test is confirmed, no issue is open and the sign-off comes the moment the exit gate opens; an instance that breaks its checkpoint is disabled at once.',
  ];
  const skipped = new Set<CheckId>();
  const events: TimelineEvent[] = [];
  const steps: SimulatedStep[] = [];
  const resets: ClockReset[] = [];
  const clock: SimulationResult['clock'] = [];
  const broke: NonNullable<SimulationResult['instances']>['broke'] = [];
  const phases: SimulationResult['phases'] = [{ phase: 1, startedAt: iso(opts.from) }];
  const verdictBefore = new Map<CheckId, CheckVerdict>();
  let abort: SimulationResult['abort'];
  let evaluations = 0;
  let last = opts.from;

  // Range answers by query, fetched from the first step that needs them to the end of the range.
  const cache = new Map<string, { start: number; series: RangeSeries[] }>();
  async function fetchMissing(queries: Array<{ query: string; check: CheckId }>, tSec: number): Promise<void> {
    const missing = queries.filter((q) => !cache.has(q.query));
    await Promise.all(
      missing.map(async ({ query, check }) => {
        try {
          cache.set(query, { start: tSec, series: await source.range(query, tSec, toSec, step) });
        } catch (err) {
          throw new SimulationError(`${check}: ${(err as Error).message}`);
        }
      }),
    );
  }
  const samplesAt = (query: string, tSec: number) => {
    const entry = cache.get(query)!;
    const k = Math.round((tSec - entry.start) / step);
    return entry.series.flatMap((s) =>
      s.values[k] === null || s.values[k] === undefined ? [] : [{ labels: s.labels, time: tSec, value: s.values[k]! }],
    );
  };

  for (let t = opts.from; t / 1000 <= toSec + 1e-6; t += step * 1000) {
    const tSec = t / 1000;
    const at = iso(t);
    const ids = checksFor(input, state.phase);
    const out = excludedNames(state);
    const judged = judgedMembers(state).map((m) => m.name);
    const fleetWide = ids
      .map((id) => ({
        check: id,
        ...checkQuery(id, {
          windowSeconds: input.windows[id],
          job: input.pulseJob,
          exclude: label && out.length ? { label, values: out } : undefined,
        }),
      }))
      .filter((q) => {
        if (!NOT_REPLAYABLE.test(q.query)) return true;
        if (!skipped.has(q.check)) {
          skipped.add(q.check);
          notes.push(
            `${q.check} is left out: its query reads \`@ end()\`, which a range query fixes at the end of the range (no gate or abort reads it).`,
          );
        }
        return false;
      });
    const perInstance =
      label && judged.length
        ? INSTANCE_CHECKS.map((id) => ({
            check: id,
            ...checkQuery(id, { windowSeconds: input.windows[id], job: input.pulseJob, by: label }),
          }))
        : [];
    await fetchMissing([...fleetWide, ...perInstance], tSec);

    const evaluation: Evaluation = {
      at,
      prometheusUrl: source.describe,
      reachable: true,
      results: fleetWide.map((q) =>
        trimPassing(
          judge(q.check, q.query, { resultType: 'vector', samples: samplesAt(q.query, tSec) }, at, q.windowSeconds),
          PASSING_SERIES_KEPT,
        ),
      ),
      ...(perInstance.length && {
        perInstance: perInstance.map((q) =>
          judgeInstances(
            q.check,
            q.query,
            { resultType: 'vector', samples: samplesAt(q.query, tSec) },
            at,
            label!,
            judged,
            q.windowSeconds,
          ),
        ),
      }),
    };

    const sinceBefore = state.greenClock.since;
    const resetsBefore = state.greenClock.resetCount;
    const statesBefore = new Map(state.fleet.members.map((m) => [m.name, m.state]));
    const outBefore = new Set(excludedNames(state));
    const cycle = applyCycle(state, input, evaluation, t, metricGateOpen);
    evaluations += 1;
    last = t;

    // What changed at this check.
    for (const c of cycle.checkpoint.record.checks) {
      const before = verdictBefore.get(c.check);
      if (before === c.verdict || (before === undefined && c.verdict === 'pass')) {
        verdictBefore.set(c.check, c.verdict);
        continue;
      }
      verdictBefore.set(c.check, c.verdict);
      const what = c.verdict === 'pass' ? 'green' : c.verdict === 'fail' ? 'red' : 'inconclusive';
      events.push({ at, phase: state.phase, kind: 'check', check: c.check, what: `${c.check} ${what}`, detail: c.reason });
    }
    if (state.greenClock.resetCount > resetsBefore) {
      const reset = state.greenClock.resets.at(-1)!;
      resets.push(reset);
      clock.push({ at: t, greenForSeconds: reset.greenForSeconds, phase: state.phase }, { at: t, greenForSeconds: 0, phase: state.phase });
      events.push({
        at,
        phase: state.phase,
        kind: 'clock-reset',
        what: 'green clock reset',
        detail: `after ${formatDuration(reset.greenForSeconds)} green: ${reset.reason}`,
      });
    }
    if (!sinceBefore && state.greenClock.since) {
      clock.push({ at: t, greenForSeconds: 0, phase: state.phase });
      events.push({
        at,
        phase: state.phase,
        kind: 'clock-start',
        what: 'green clock starts',
        detail: 'every monitoring checkpoint is green',
      });
    }
    for (const m of cycle.broke) setMemberState(m, 'disabled', t, m.note);
    for (const m of state.fleet.members) if (m.out && !outBefore.has(m.name)) broke.push({ name: m.name, at, note: m.note });
    for (const m of state.fleet.members) {
      if (statesBefore.get(m.name) === m.state) continue;
      events.push({ at, phase: state.phase, kind: 'instance', instance: m.name, what: `${m.name} ${m.state}`, detail: m.note ?? '' });
    }
    if (opts.keepSteps) {
      steps.push({
        at,
        verdicts: Object.fromEntries(cycle.checkpoint.record.checks.map((c) => [c.check, c.verdict])),
        ...(evaluation.perInstance && { instances: Object.fromEntries(evaluation.perInstance.map((r) => [r.check, r.notPassing])) }),
      });
    }
    if (cycle.abort) {
      abort = { criterion: cycle.abort.criterion, reason: cycle.abort.reason, at, phase: state.phase };
      events.push({
        at,
        phase: state.phase,
        kind: 'abort',
        what: `abort: ${cycle.abort.criterion}`,
        detail: `${cycle.abort.reason} (the rollout would end here and run phase ${state.phase}'s rollback)`,
      });
      break;
    }
    if (cycle.gateOpened) {
      const phase = phases.at(-1)!;
      phase.gateOpenedAt = at;
      events.push({
        at,
        phase: state.phase,
        kind: 'gate-open',
        what: `phase ${state.phase} exit gate open`,
        detail: state.evidence.at(-1)?.summary ?? '',
      });
      // The sign-off is taken as given at once: the move happens at this check.
      clock.push({
        at: t,
        greenForSeconds: state.greenClock.since ? (t - Date.parse(state.greenClock.since)) / 1000 : 0,
        phase: state.phase,
      });
      movePhase(state, input, checklist(state, input, t), t);
      phase.endedAt = at;
      phases.push({ phase: state.phase, startedAt: at });
      clock.push({
        at: t,
        greenForSeconds: state.greenClock.since ? (t - Date.parse(state.greenClock.since)) / 1000 : 0,
        phase: state.phase,
      });
      turnOn(t);
      events.push({
        at,
        phase: state.phase,
        kind: 'phase',
        what: `phase ${state.phase} begins`,
        detail: 'the sign-off is taken as given when the gate opens',
      });
    }
  }

  clock.push({
    at: last,
    greenForSeconds: state.greenClock.since ? (last - Date.parse(state.greenClock.since)) / 1000 : 0,
    phase: state.phase,
  });
  if (!abort)
    events.push({
      at: iso(last),
      phase: state.phase,
      kind: 'end',
      what: 'end of the range',
      detail: `in phase ${state.phase}; no abort criterion fired`,
    });
  const counts: Partial<Record<MemberState, number>> = {};
  for (const m of state.fleet.members) counts[m.state] = (counts[m.state] ?? 0) + 1;
  return {
    rollout: input.rollout,
    source: source.describe,
    from: iso(opts.from),
    to: iso(toSec * 1000),
    stepSeconds: step,
    evaluations,
    endedAt: iso(last),
    phases,
    resets,
    ...(abort && { abort }),
    clock,
    ...(state.fleet.members.length && { instances: { broke, counts } }),
    events,
    notes,
    ...(opts.keepSteps && { steps }),
  };
}
