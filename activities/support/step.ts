/**
 * Which runbook step an activity's evidence belongs to is the workflow's decision: every workflow passes `step` in
 * the activity's input. A run started before workflows did so (issue 14) still schedules its activities without
 * it, and a worker of today must record their evidence under the step it always used: that is this table, the one
 * place an activity knows a step id. Not an activity itself, so activities/index.ts does not export it.
 */
import type { PulseTarget } from '../../src/config/pulse-target.js';
import type { LineEvidence } from '../../src/pulse/line.js';
import type { StepId } from '../../src/runbook/steps.js';

const STEP_BEFORE_WORKFLOWS_PASSED_IT = {
  listConnections: 'kill-switch.1',
  deleteConnection: 'kill-switch.2',
  verifyNoConnections: 'kill-switch.4',
  checkTrueNASResources: 'kill-switch.5',
  verifyTrueNASRoutesAbsent: 'rollback.4',
  verifyPollerRuns: 'enable.4',
  addConnection: 'enable.5',
  testConnection: 'enable.6',
  resolveDataDir: 'cleanup.1',
  inspectTrueNASFile: 'cleanup.3',
  removeTrueNASFile: 'cleanup.4',
  fingerprintEncryptionKey: 'cleanup.7',
  verifyEncryptionKeyIntact: 'cleanup.6',
  validateRollbackRange: 'rollback.1',
  revertRange: 'rollback.2',
  buildRepository: 'rollback.3',
} as const satisfies Record<string, StepId>;

export type SteppedActivity = keyof typeof STEP_BEFORE_WORKFLOWS_PASSED_IT;

/** What a stepped activity takes besides its own input: the step its evidence is recorded under. */
export interface StepInput {
  step?: StepId;
}

/** What every Pulse activity takes: the Pulse, plan mode, the line an earlier step told, and the step. */
export interface PulseStepInput extends StepInput {
  pulse: PulseTarget;
  plan: boolean;
  /** The Pulse line an earlier step told (StepOutcome.line); without it the step tells it itself. */
  line?: LineEvidence;
}

/** The step the workflow named, else (a run started before workflows named it) the one the activity always used. */
export function stepOf(activity: SteppedActivity, input: StepInput | undefined): StepId {
  return input?.step ?? STEP_BEFORE_WORKFLOWS_PASSED_IT[activity];
}

/** The input without `step`, for the activities whose input schema is strict. */
export function withoutStep<T extends StepInput>(input: T): Omit<T, 'step'> {
  const { step: _step, ...rest } = input;
  return rest;
}
