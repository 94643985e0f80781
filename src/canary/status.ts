/**
 * The rollout's status as people see it (the `status` query, the CLI, the UI's current details): the state plus
 * what is computed from it at a time (gates, checklist, what the run waits for). Pure, so the renderer's tests
 * use the real thing.
 */
import type { CanaryInput, Phase } from '../config/canary.js';
import type { Evidence } from '../runbook/evidence.js';
import { checklist, gateStatus, missingItems, type GateStatus } from './checklist.js';
import { overdueTriage } from './people.js';
import type { AbortRecord, CanaryIssue, CanaryState, ChecklistItem, EvaluationRecord, SignOff } from './state.js';

export interface CanaryStatus {
  rollout: string;
  workflowId: string;
  startedBy: string;
  status: CanaryState['status'];
  phase: Phase;
  phaseStartedAt: string;
  rolloutStartedAt: string;
  /** In plain words: what the run is waiting for now. */
  waitingFor: string;
  gates: GateStatus;
  greenClock: CanaryState['greenClock'];
  checklist: ChecklistItem[];
  missing: string[];
  issues: CanaryIssue[];
  overdueTriage: string[];
  signOffs: SignOff[];
  stagingTests: CanaryState['stagingTests'];
  instances: Array<{ name: string; phase: Phase; pulseUrl?: string; registeredBy: string; registeredAt: string; rollback: 'workflow' | 'human'; enabled?: CanaryState['instances'][number]['enabled'] }>;
  baseline?: CanaryState['baseline'];
  resources?: CanaryState['resources'];
  regressionSince?: string;
  authFailingSince?: string;
  release?: Omit<NonNullable<CanaryState['release']>, 'rollback'> & { rollbackConfigured: boolean };
  pause?: CanaryState['pause'];
  abort?: AbortRecord;
  completed?: CanaryState['completed'];
  lastEvaluation?: EvaluationRecord;
  nextCheckAt?: string;
  cycles: number;
  runs: number;
  runCycles: number;
  evidence: Evidence[];
}

export function waitingFor(state: CanaryState, input: CanaryInput, now: number): string {
  if (state.status === 'aborted') return `nothing: aborted (${state.abort?.reason})`;
  if (state.status === 'completed') return 'nothing: completed';
  if (state.status === 'rolling-back') return 'the rollback children to finish';
  if (state.status === 'activating') return 'the phase 1 Enable workflows';
  if (state.pause) return `resume (monitoring paused by ${state.pause.by}: ${state.pause.reason})`;
  if (state.phase === 3) return state.release ? 'an approver to complete the rollout (monitoring continues)' : 'the default-on release to be recorded (canary record-release)';
  const missing = missingItems(checklist(state, input, now));
  return `phase ${state.phase} exit: ${missing.map((i) => `${i.title.toLowerCase()} (${i.detail})`).join('; ')}`;
}

export function statusOf(state: CanaryState, input: CanaryInput, workflowId: string, runCycles: number, nextCheckAt: number, now = Date.now()): CanaryStatus {
  const items = state.phase < 3 ? checklist(state, input, now) : [];
  return {
    rollout: input.rollout,
    workflowId,
    startedBy: input.startedBy,
    status: state.status,
    phase: state.phase,
    phaseStartedAt: state.phaseStartedAt,
    rolloutStartedAt: state.rolloutStartedAt,
    waitingFor: waitingFor(state, input, now),
    gates: gateStatus(state, input, now),
    greenClock: state.greenClock,
    checklist: items,
    missing: missingItems(items).map((i) => i.step),
    issues: state.issues,
    overdueTriage: overdueTriage(state, now).map((i) => i.id),
    signOffs: state.signOffs,
    stagingTests: state.stagingTests,
    instances: state.instances.map((i) => ({ name: i.name, phase: i.phase, pulseUrl: i.pulseUrl, registeredBy: i.registeredBy, registeredAt: i.registeredAt, rollback: i.disable ? 'workflow' : 'human', enabled: i.enabled })),
    baseline: state.baseline,
    resources: state.resources,
    regressionSince: state.regressionSince,
    authFailingSince: state.authFailingSince,
    release: state.release && { version: state.release.version, commit: state.release.commit, by: state.release.by, at: state.release.at, rollbackConfigured: !!state.release.rollback },
    pause: state.pause,
    abort: state.abort,
    completed: state.completed,
    lastEvaluation: state.evaluations.at(-1),
    nextCheckAt: state.status === 'monitoring' ? new Date(nextCheckAt).toISOString() : undefined,
    cycles: state.cycles,
    runs: state.runs,
    runCycles,
    evidence: state.evidence,
  };
}
