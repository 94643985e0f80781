/**
 * The canary rollout's state: everything the workflow knows, kept as plain JSON so it is returned by the status
 * query and carried across continue-as-new unchanged. Pure types and constructors: safe in workflow code.
 */
import type { CanaryInstance, IssueSeverity, Phase } from '../config/canary.js';
import type { CodeRollbackInput } from '../config/code-rollback-input.js';
import type { CheckId, CheckVerdict } from '../prometheus/checks.js';
import type { Evidence } from '../runbook/evidence.js';

/** Long lists are capped so a weeks-long run keeps a small state; counts keep the totals. */
export const KEEP = { resets: 100, evidence: 300, evaluations: 10 } as const;

export type RolloutStatus = 'activating' | 'monitoring' | 'paused' | 'rolling-back' | 'aborted' | 'completed';

export interface ClockReset {
  at: string;
  /** Why the clock went back to zero: the failing checks, an inconclusive reading, a pause. */
  reason: string;
  checks: string[];
  /** How long it had been green when it reset. */
  greenForSeconds: number;
}

/** "Green for 24 continuous hours": when the current green stretch began, and every reset with its reason. */
export interface GreenClock {
  since?: string;
  resets: ClockReset[];
  resetCount: number;
}

export interface CanaryIssue {
  id: string;
  severity: IssueSeverity;
  title: string;
  instance?: string;
  source: 'user' | 'internal';
  phase: Phase;
  reportedBy: string;
  reportedAt: string;
  /** User reports must be triaged by this time (phase2.triageSeconds after the report). */
  triageDueAt?: string;
  triaged?: { by: string; at: string; note: string; late: boolean };
  resolved?: { by: string; at: string; note: string };
}

export interface ChecklistItem {
  step: 'canary.checklist.1' | 'canary.checklist.2' | 'canary.checklist.3' | 'canary.checklist.4' | 'canary.checklist.5';
  title: string;
  ok: boolean;
  detail: string;
}

export interface SignOff {
  phase: Phase;
  actor: string;
  at: string;
  comment?: string;
  /** The checklist as the approver saw it when signing. */
  snapshot: ChecklistItem[];
}

export interface StagingTest {
  phase: Phase;
  actor: string;
  at: string;
  evidence: string;
  workflowId?: string;
}

export interface TrackedInstance extends CanaryInstance {
  phase: Phase;
  registeredBy: string;
  registeredAt: string;
  /** Phase 1: the child Enable run and how it ended. */
  enabled?: { workflowId: string; outcome: 'completed' | 'failed' | 'planned'; message?: string };
}

export interface ResourceReading {
  /** Per series (the scrape target's labels as text): resident memory bytes, CPU cores used. */
  memoryBytes: Record<string, number>;
  cpuCoresUsed: Record<string, number>;
  at: string;
}

export interface Baseline extends ResourceReading {
  source: 'input' | 'phase1';
}

export interface CheckSummary {
  check: CheckId;
  verdict: CheckVerdict;
  reason: string;
  /** The query and the values it read: kept in the latest evaluation only (older ones keep verdict and reason). */
  query?: string;
  values?: Array<{ labels: Record<string, string>; value: string }>;
}

export interface EvaluationRecord {
  at: string;
  reachable: boolean;
  /** All GREEN_CHECKS passed. */
  green: boolean;
  checks: CheckSummary[];
}

export type AbortCriterion =
  'canary.abort.1' | 'canary.abort.2' | 'canary.abort.3' | 'canary.abort.4' | 'canary.abort.5' | 'manual' | 'activation-failed';

export interface RollbackRecord {
  /** The runbook step of the phase's rollback (canary.phase1.5, phase2.5, phase3.5). */
  step: 'canary.phase1.5' | 'canary.phase2.5' | 'canary.phase3.5';
  children: Array<{
    instance?: string;
    workflowType: 'disable' | 'codeRollback';
    workflowId: string;
    outcome: 'completed' | 'failed';
    message?: string;
  }>;
  /** What people must still do by hand (an opt-in user's instance, a patch release). */
  humanSteps: string[];
}

export interface AbortRecord {
  criterion: AbortCriterion;
  reason: string;
  at: string;
  phase: Phase;
  actor?: string;
  rollback?: RollbackRecord;
}

export interface DefaultOnRelease {
  version: string;
  commit: string;
  by: string;
  at: string;
  rollback?: CodeRollbackInput;
}

export interface CanaryState {
  rolloutStartedAt: string;
  phase: Phase;
  phaseStartedAt: string;
  phases: Array<{ phase: Phase; startedAt: string; endedAt?: string }>;
  status: RolloutStatus;
  greenClock: GreenClock;
  instances: TrackedInstance[];
  issues: CanaryIssue[];
  signOffs: SignOff[];
  stagingTests: StagingTest[];
  baseline?: Baseline;
  /** The latest conclusive resource reading. */
  resources?: ResourceReading;
  /** Abort criterion 3: when the current regression was first seen. */
  regressionSince?: string;
  /** Abort criterion 4: when the current run of auth errors was first seen. */
  authFailingSince?: string;
  pause?: { by: string; at: string; reason: string };
  release?: DefaultOnRelease;
  evaluations: EvaluationRecord[];
  /** The notable evidence of the rollout, newest last (capped at KEEP.evidence; evidenceDropped counts the rest). */
  evidence: Evidence[];
  evidenceDropped: number;
  /** Monitoring cycles over all runs, and runs (1 + continue-as-new count). */
  cycles: number;
  runs: number;
  abort?: AbortRecord;
  completed?: { by: string; at: string; comment?: string };
  /**
   * Rollouts started since issue 17 (fleet, waves, per-instance gates, checks on a fixed grid). Absent in runs that
   * began with the older code, which keep their own path (they replay as recorded).
   */
  fleet?: FleetState;
}

/**
 * Where one instance of the fleet is: `pending` (not started yet), `enabling` (its Enable runs), `enabled` (on, not
 * judged on its own: per-instance gates are off or not evaluated yet), `green` / `failing` (its own checkpoints
 * pass / do not), `disabling` (its Disable runs), `disabled` (the Disable completed).
 */
export type MemberState = 'pending' | 'enabling' | 'enabled' | 'green' | 'failing' | 'disabling' | 'disabled';
export const MEMBER_STATES: readonly MemberState[] = ['pending', 'enabling', 'enabled', 'green', 'failing', 'disabling', 'disabled'];

/** One instance, kept small: 500 of them travel in the state across continue-as-new. */
export interface FleetMember {
  name: string;
  phase: Phase;
  state: MemberState;
  /** When it entered this state. */
  since: string;
  /** Why, when it needs saying: the Enable's failure, the checks it broke, what a person must do. */
  note?: string;
  /** Taken out of the rollout (its Enable failed, it broke a checkpoint): left out of the fleet-wide queries. */
  out?: true;
  /** Counted against the error budget. */
  failed?: true;
  /** Enabled by a person, not by the rollout (no Enable settings): not in the error budget's count. */
  manual?: true;
  /** A person must act (shown in the status): a failed child, a disable by hand, an inconclusive instance. */
  attention?: true;
  /** Registered while the rollout ran (not listed in its input): its definition, who and when. */
  registered?: { by: string; at: string; instance: CanaryInstance };
}

export interface FleetState {
  members: FleetMember[];
  /** Waves started so far (numbered from 1). */
  waves: number;
  /** The members of the wave in flight, if any. */
  wave?: string[];
  /** Grid of the metric checks: the next check's time (ms); checks fall at rollout start + k x checkEverySeconds. */
  nextCheckAt: number;
  /** When each phase's exit gate was first seen open (checklist items 1-4), recorded once. */
  gateOpenedAt: Partial<Record<'phase1' | 'phase2', string>>;
}

export function initialState(at: string): CanaryState {
  return {
    rolloutStartedAt: at,
    phase: 1,
    phaseStartedAt: at,
    phases: [{ phase: 1, startedAt: at }],
    status: 'activating',
    greenClock: { resets: [], resetCount: 0 },
    instances: [],
    issues: [],
    signOffs: [],
    stagingTests: [],
    evaluations: [],
    evidence: [],
    evidenceDropped: 0,
    cycles: 0,
    runs: 1,
  };
}

export function addEvidence(state: CanaryState, evidence: Evidence): Evidence {
  state.evidence.push(evidence);
  if (state.evidence.length > KEEP.evidence) {
    state.evidence.splice(0, state.evidence.length - KEEP.evidence);
    state.evidenceDropped += 1;
  }
  return evidence;
}

export const secondsBetween = (from: string, to: string | number): number =>
  Math.max(0, ((typeof to === 'number' ? to : Date.parse(to)) - Date.parse(from)) / 1000);
