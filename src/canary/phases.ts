/**
 * Moving between phases, and seeing a phase's exit gate open. Pure, so the workflow's moves and the simulation's
 * (`canary simulate`, which assumes the people's items: the staging test, no open issues, an immediate sign-off)
 * record the same evidence from the same code.
 */
import type { CanaryInput, Phase } from '../config/canary.js';
import { checklist, gateStatus, missingItems } from './checklist.js';
import { addMember } from './fleet.js';
import { addEvidence, type CanaryState, type ChecklistItem } from './state.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Checklist items 1-4 (everything but the sign-off) hold at `now`. */
export function readyForSignOff(state: CanaryState, input: CanaryInput, now: number): boolean {
  return missingItems(checklist(state, input, now)).every((i) => i.step === 'canary.checklist.5');
}

/** The items the simulation cannot see (issues, the staging test, the sign-off) are taken as held. */
export function metricGateOpen(state: CanaryState, input: CanaryInput, now: number): boolean {
  const items = checklist(state, input, now);
  return items.filter((i) => i.step === 'canary.checklist.1' || i.step === 'canary.checklist.4').every((i) => i.ok);
}

/**
 * Records, once per phase, the moment the exit gate opened (fleet rollouts): from then on the move waits for people
 * only. `open` says whether it is open now (the workflow: items 1-4; the simulation: items 1 and 4).
 */
export function noteGateOpen(state: CanaryState, input: CanaryInput, now: number, open: boolean): boolean {
  const fleet = state.fleet;
  if (!fleet || state.phase === 3 || !open) return false;
  const key = state.phase === 1 ? 'phase1' : 'phase2';
  if (fleet.gateOpenedAt[key]) return false;
  fleet.gateOpenedAt[key] = iso(now);
  const gates = gateStatus(state, input, now);
  addEvidence(state, {
    step: state.phase === 1 ? 'canary.phase1.4' : 'canary.phase2.4',
    at: iso(now),
    verdict: 'ok',
    summary:
      state.phase === 1
        ? `Phase 1 exit gate open: ${(gates.inPhaseSeconds / 3600).toFixed(1)} h in the phase, green for ${(gates.greenForSeconds / 3600).toFixed(1)} continuous hours; waiting for the sign-off.`
        : `Phase 2 exit gate open: ${(gates.inPhaseSeconds / 86400).toFixed(1)} days in the phase, no critical issue for ${((gates.quietForSeconds ?? 0) / 86400).toFixed(1)} days; waiting for the sign-off.`,
  });
  return true;
}

/** Leaves the current phase (1 or 2): the exit evidence, phase 1's baseline, and what the next phase begins with. */
export function movePhase(state: CanaryState, input: CanaryInput, items: ChecklistItem[], now: number): void {
  const at = iso(now);
  const from = state.phase;
  const gates = gateStatus(state, input, now);
  addEvidence(state, {
    step: from === 1 ? 'canary.phase1.4' : 'canary.phase2.4',
    at,
    verdict: 'ok',
    summary:
      from === 1
        ? `Phase 1 exit gate met: ${(gates.inPhaseSeconds / 3600).toFixed(1)} h in the phase, green for ${(gates.greenForSeconds / 3600).toFixed(1)} continuous hours.`
        : `Phase 2 exit gate met: ${(gates.inPhaseSeconds / 86400).toFixed(1)} days in the phase, no critical issue for ${((gates.quietForSeconds ?? 0) / 86400).toFixed(1)} days.`,
    details: { checklist: items.map((i) => ({ step: i.step, ok: i.ok, detail: i.detail })) },
  });
  if (from === 1 && !state.baseline) {
    if (state.resources) {
      state.baseline = { ...state.resources, source: 'phase1' };
      addEvidence(state, {
        step: 'canary.phase1.3',
        at,
        verdict: 'ok',
        summary: 'Memory and CPU baseline captured at the end of phase 1 for comparison in later phases.',
        details: { memoryBytes: state.resources.memoryBytes, cpuCoresUsed: state.resources.cpuCoresUsed },
      });
    } else {
      addEvidence(state, {
        step: 'canary.phase1.3',
        at,
        verdict: 'failed',
        summary: 'No memory/CPU reading was available: no baseline, so abort criterion 3 cannot be evaluated in later phases.',
      });
    }
  }
  state.phases[state.phases.length - 1].endedAt = at;
  state.phase = (from + 1) as Phase;
  state.phaseStartedAt = at;
  state.phases.push({ phase: state.phase, startedAt: at });
  addEvidence(state, {
    step: state.phase === 2 ? 'canary.phase2.1' : 'canary.phase3.1',
    at,
    verdict: 'human',
    summary:
      state.phase === 2
        ? 'Phase 2 begins: early adopters set PULSE_ENABLE_TRUENAS=true themselves; register each with `canary register-instance`.'
        : 'Phase 3 begins: release the change that flips the PULSE_ENABLE_TRUENAS default to true and record it with `canary record-release`.',
  });
  // A fleet: phase 2's listed opt-in instances join now (enabled in waves when they have Enable settings).
  if (state.fleet && state.phase === 2) for (const instance of input.phase2.instances) addMember(state, input, instance, 2, now);
}
