/**
 * One metric check applied to the rollout, the same way in the workflow and in `canary simulate`: the fleet-wide
 * checkpoint (green clock, abort criteria 1, 3, 4), then, unless it aborts, each instance's own checkpoints (those
 * that broke one are taken out, to be disabled) and the error budget, then whether the phase's exit gate is open.
 * Pure; the caller says what "gate open" means (the workflow: checklist items 1-4; the simulation, which cannot see
 * people: items 1 and 4).
 */
import type { CanaryInput } from '../config/canary.js';
import type { Evaluation } from '../prometheus/alert-state.js';
import { applyCheckpoint, type CheckpointOutcome } from './checkpoints.js';
import { budgetAbort } from './fleet.js';
import { applyInstanceVerdicts } from './instance-gates.js';
import { noteGateOpen } from './phases.js';
import type { AbortCriterion, CanaryState, FleetMember } from './state.js';

export interface CycleOutcome {
  checkpoint: CheckpointOutcome;
  /** The abort this check calls for: a metric criterion, or the error budget spent. */
  abort?: { criterion: AbortCriterion; reason: string };
  /** Instances that broke their own checkpoint at this check (to be disabled on their own). */
  broke: FleetMember[];
  /** The phase's exit gate was first seen open at this check. */
  gateOpened: boolean;
}

export function applyCycle(
  state: CanaryState,
  input: CanaryInput,
  evaluation: Evaluation,
  checkAt: number,
  gateOpen: (state: CanaryState, input: CanaryInput, now: number) => boolean,
): CycleOutcome {
  const checkpoint = applyCheckpoint(state, input, evaluation, checkAt);
  if (checkpoint.abort) return { checkpoint, abort: checkpoint.abort, broke: [], gateOpened: false };
  const { broke } = state.fleet ? applyInstanceVerdicts(state, input, evaluation.perInstance, checkAt) : { broke: [] };
  const spent = state.fleet ? budgetAbort(state, input) : undefined;
  if (spent) return { checkpoint, abort: spent, broke, gateOpened: false };
  return { checkpoint, broke, gateOpened: noteGateOpen(state, input, checkAt, gateOpen(state, input, checkAt)) };
}
