/**
 * What a canary rollout returns when it ends (completed, aborted, or a plan). Pure types: safe in workflow code.
 */
import type { Phase } from '../config/canary.js';
import type { Evidence } from '../runbook/evidence.js';
import type { GateStatus } from './checklist.js';
import type { AbortRecord, CanaryState, ChecklistItem } from './state.js';

export interface CanaryResult {
  procedure: 'canary-rollout';
  plan: boolean;
  rollout: string;
  outcome: 'completed' | 'aborted' | 'planned';
  startedAt: string;
  finishedAt: string;
  phase: Phase;
  abort?: AbortRecord;
  completed?: CanaryState['completed'];
  /** Plan mode: the Enable plans, the gates and what the first checkpoint saw. */
  planned?: { enable: Array<{ instance: string; workflowId: string; outcome: string }>; checklist: ChecklistItem[]; gates: GateStatus };
  evidence: Evidence[];
}
