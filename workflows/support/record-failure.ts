/**
 * When a step fails, the run's evidence should say so in the step itself: the progress query and the failed
 * result then show which runbook step stopped and why, next to what earlier steps observed. The procedure
 * lifecycle (procedure.ts) calls it for every procedure.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { StepId } from '../../src/runbook/steps.js';
import type { EvidenceLog } from './evidence-log.js';

/** The failure's type and message, taken from the activity's own ApplicationFailure when there is one. */
export function describeStepFailure(err: unknown): { type?: string; message: string } {
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (inner instanceof ApplicationFailure) return { type: inner.type ?? undefined, message: inner.message };
  return { message: inner instanceof Error ? inner.message : String(inner) };
}

/** Records a 'failed' observation for the step under way (if any); returns that step. */
export function noteStepFailure(log: EvidenceLog, err: unknown): StepId | undefined {
  const step = log.progress.current?.step;
  if (step) {
    const { type, message } = describeStepFailure(err);
    log.note(step, 'failed', `${type ? `${type}: ` : ''}${message}`, type ? { failureType: type } : undefined);
  }
  return step;
}
