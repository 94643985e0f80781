/**
 * The exit gates and the Phase Transition Checklist, computed from the state at a time. Pure, so the status
 * query, the sign-off validator and the workflow's move decision read the same answer.
 */
import { phaseKey, type CanaryInput, type Phase } from '../config/canary.js';
import { countMembers, countsText, fleetCounts, notReady } from './fleet.js';
import { secondsBetween, type CanaryState, type ChecklistItem } from './state.js';

export interface GateStatus {
  phase: Phase;
  /** Seconds in the phase, the phase's minimum, and what is left of it. */
  inPhaseSeconds: number;
  minSeconds?: number;
  minLeftSeconds?: number;
  /** Phase 1: the continuous green clock and what is left of its 24 h. */
  greenSince?: string;
  greenForSeconds: number;
  greenNeededSeconds?: number;
  greenLeftSeconds?: number;
  /** Phase 2: time since the last critical issue (or the phase start) and what is left of its 5 days. */
  quietSince?: string;
  quietForSeconds?: number;
  quietNeededSeconds?: number;
  quietLeftSeconds?: number;
  /** The phase's exit gate duration is met (checklist item 4). */
  met: boolean;
}

/** Phase 2's quiet clock starts at the phase start or the latest critical issue reported in the phase. */
export function quietSince(state: CanaryState): string {
  const criticals = state.issues.filter((i) => i.phase === 2 && i.severity === 'critical').map((i) => i.reportedAt);
  return [state.phaseStartedAt, ...criticals].sort().at(-1)!;
}

export function gateStatus(state: CanaryState, input: CanaryInput, now: number): GateStatus {
  const inPhaseSeconds = secondsBetween(state.phaseStartedAt, now);
  const greenForSeconds = state.greenClock.since ? secondsBetween(state.greenClock.since, now) : 0;
  const left = (needed: number, have: number) => Math.max(0, needed - have);
  if (state.phase === 1) {
    const { minSeconds, greenSeconds } = input.phase1;
    return {
      phase: 1,
      inPhaseSeconds,
      minSeconds,
      minLeftSeconds: left(minSeconds, inPhaseSeconds),
      greenSince: state.greenClock.since,
      greenForSeconds,
      greenNeededSeconds: greenSeconds,
      greenLeftSeconds: left(greenSeconds, greenForSeconds),
      met: inPhaseSeconds >= minSeconds && greenForSeconds >= greenSeconds,
    };
  }
  if (state.phase === 2) {
    const { minSeconds, quietSeconds } = input.phase2;
    const since = quietSince(state);
    const quietForSeconds = secondsBetween(since, now);
    return {
      phase: 2,
      inPhaseSeconds,
      minSeconds,
      minLeftSeconds: left(minSeconds, inPhaseSeconds),
      greenSince: state.greenClock.since,
      greenForSeconds,
      quietSince: since,
      quietForSeconds,
      quietNeededSeconds: quietSeconds,
      quietLeftSeconds: left(quietSeconds, quietForSeconds),
      met: inPhaseSeconds >= minSeconds && quietForSeconds >= quietSeconds,
    };
  }
  // Phase 3 is permanent: it has no exit gate.
  return { phase: 3, inPhaseSeconds, greenSince: state.greenClock.since, greenForSeconds, met: false };
}

const hours = (s: number) => `${(s / 3600).toFixed(1)} h`;

/** Distinct approvers who signed off the current phase. */
export function signersOf(state: CanaryState, phase: Phase): string[] {
  return [...new Set(state.signOffs.filter((s) => s.phase === phase).map((s) => s.actor))];
}

/**
 * The five checklist items for leaving the current phase. `withoutSignOff` leaves item 5 out (what an approver
 * must see green before signing).
 */
export function checklist(state: CanaryState, input: CanaryInput, now: number): ChecklistItem[] {
  const last = state.evaluations.at(-1);
  const open = state.issues.filter((i) => !i.resolved && (i.severity === 'critical' || i.severity === 'high'));
  const staging = state.stagingTests.filter((t) => t.phase === state.phase).at(-1);
  const gate = gateStatus(state, input, now);
  const signers = signersOf(state, state.phase);
  const quorum = input.quorum[phaseKey(state.phase)];

  const gateDetail =
    state.phase === 1
      ? `in phase ${hours(gate.inPhaseSeconds)} of ${hours(gate.minSeconds!)}; green ${hours(gate.greenForSeconds)} of ${hours(gate.greenNeededSeconds!)} continuous`
      : state.phase === 2
        ? `in phase ${hours(gate.inPhaseSeconds)} of ${hours(gate.minSeconds!)}; no critical issue for ${hours(gate.quietForSeconds!)} of ${hours(gate.quietNeededSeconds!)}`
        : 'phase 3 is permanent: no exit gate';

  // A fleet: every instance of the phase must be on and green on its own too (or taken out of the rollout).
  const waiting = notReady(state);
  const fleetText = !state.fleet
    ? ''
    : waiting.length
      ? `; instances not ready: ${countsText(countMembers(waiting))} (${waiting
          .slice(0, 5)
          .map((m) => m.name)
          .join(', ')}${waiting.length > 5 ? ', …' : ''})`
      : `; fleet: ${countsText(fleetCounts(state))}`;
  return [
    {
      step: 'canary.checklist.1',
      title: 'All monitoring checkpoints from the current phase are green',
      ok: !!last?.green && !state.pause && waiting.length === 0,
      detail:
        (state.pause
          ? `monitoring is paused since ${state.pause.at} by ${state.pause.by}`
          : !last
            ? 'no checkpoint evaluated yet'
            : last.green
              ? `green at ${last.at}`
              : `not green at ${last.at}: ${
                  last.checks
                    .filter((c) => c.verdict !== 'pass')
                    .map((c) => `${c.check} ${c.verdict}`)
                    .join(', ') || 'Prometheus unreachable'
                }`) + fleetText,
    },
    {
      step: 'canary.checklist.2',
      title: 'No open critical or high-severity issues attributed to TrueNAS',
      ok: open.length === 0,
      detail: open.length === 0 ? 'none open' : `open: ${open.map((i) => `${i.id} (${i.severity}) ${i.title}`).join('; ')}`,
    },
    {
      step: 'canary.checklist.3',
      title: 'Rollback procedure has been tested in staging',
      ok: !!staging,
      detail: staging
        ? `confirmed by ${staging.actor} at ${staging.at}: ${staging.evidence}`
        : `not confirmed for phase ${state.phase} (canary confirm-staging-rollback)`,
    },
    { step: 'canary.checklist.4', title: 'Phase exit gate duration has been met', ok: gate.met, detail: gateDetail },
    {
      step: 'canary.checklist.5',
      title: 'Stakeholder sign-off has been recorded',
      ok: signers.length >= quorum,
      detail: `${signers.length} of ${quorum} sign-off(s)${signers.length ? `: ${signers.join(', ')}` : ''}`,
    },
  ];
}

export const missingItems = (items: ChecklistItem[]): ChecklistItem[] => items.filter((i) => !i.ok);
