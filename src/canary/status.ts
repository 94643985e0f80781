/**
 * The rollout's status as people see it (the `status` query, the CLI, the UI's current details): the state plus
 * what is computed from it at a time (gates, checklist, what the run waits for). Pure, so the renderer's tests
 * use the real thing.
 */
import type { CanaryInput, CanaryInstance, Phase } from '../config/canary.js';
import type { DisableInput } from '../config/disable.js';
import type { EnableInput } from '../config/enable.js';
import type { Evidence } from '../runbook/evidence.js';
import { checklist, gateStatus, missingItems, type GateStatus } from './checklist.js';
import {
  budgetOf,
  childIds,
  definitionOf,
  disableSettings,
  enableSettings,
  fleetCounts,
  memberNamed,
  needsAttention,
  type Budget,
  type FleetCounts,
} from './fleet.js';
import { overdueTriage } from './people.js';
import type { AbortRecord, CanaryIssue, CanaryState, ChecklistItem, EvaluationRecord, FleetMember, SignOff } from './state.js';

/** How many of the instances that need a person the status lists (the count says how many there are). */
export const ATTENTION_LISTED = 50;

/** A fleet in the status: counted per state, the waves and the error budget, and only what needs a person. */
export interface FleetSummary {
  total: number;
  counts: FleetCounts;
  waves: number;
  /** The instances of the wave in flight. */
  waveInFlight: number;
  budget: Budget;
  attention: Array<Pick<FleetMember, 'name' | 'phase' | 'state' | 'since' | 'note'>>;
  attentionTotal: number;
  /** Per-instance gates: the label that names an instance on its series. */
  instanceLabel?: string;
}

/** One instance in full (`canary status --instance NAME`). */
export interface InstanceDetail {
  member: FleetMember;
  definition: Pick<CanaryInstance, 'name' | 'pulseUrl' | 'contact' | 'vars'>;
  /** Its settings as the rollout runs them (own, or the fleet template filled in): references only, never secrets. */
  enable?: EnableInput;
  disable?: DisableInput;
  /** Its child runs (those that may exist for its state). */
  runs: { enable?: string; disable?: string; rollback?: string };
  /** Evidence entries that name it (of those the rollout still keeps). */
  evidence: Evidence[];
  /** The label value its series carry, when per-instance gates are on. */
  series?: { label: string; value: string };
}

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
  instances: Array<{
    name: string;
    phase: Phase;
    pulseUrl?: string;
    registeredBy: string;
    registeredAt: string;
    rollback: 'workflow' | 'human';
    enabled?: CanaryState['instances'][number]['enabled'];
  }>;
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
  fleet?: FleetSummary;
}

export function waitingFor(state: CanaryState, input: CanaryInput, now: number): string {
  if (state.status === 'aborted') return `nothing: aborted (${state.abort?.reason})`;
  if (state.status === 'completed') return 'nothing: completed';
  if (state.status === 'rolling-back') return 'the rollback children to finish';
  if (state.status === 'activating') return 'the phase 1 Enable workflows';
  if (state.pause) return `resume (monitoring paused by ${state.pause.by}: ${state.pause.reason})`;
  if (state.phase === 3)
    return state.release
      ? 'an approver to complete the rollout (monitoring continues)'
      : 'the default-on release to be recorded (canary record-release)';
  const missing = missingItems(checklist(state, input, now));
  return `phase ${state.phase} exit: ${missing.map((i) => `${i.title.toLowerCase()} (${i.detail})`).join('; ')}`;
}

export function statusOf(
  state: CanaryState,
  input: CanaryInput,
  workflowId: string,
  runCycles: number,
  nextCheckAt: number,
  now = Date.now(),
): CanaryStatus {
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
    instances: state.instances.map((i) => ({
      name: i.name,
      phase: i.phase,
      pulseUrl: i.pulseUrl,
      registeredBy: i.registeredBy,
      registeredAt: i.registeredAt,
      rollback: i.disable ? 'workflow' : 'human',
      enabled: i.enabled,
    })),
    baseline: state.baseline,
    resources: state.resources,
    regressionSince: state.regressionSince,
    authFailingSince: state.authFailingSince,
    release: state.release && {
      version: state.release.version,
      commit: state.release.commit,
      by: state.release.by,
      at: state.release.at,
      rollbackConfigured: !!state.release.rollback,
    },
    pause: state.pause,
    abort: state.abort,
    completed: state.completed,
    lastEvaluation: state.evaluations.at(-1),
    nextCheckAt: state.status === 'monitoring' ? new Date(nextCheckAt).toISOString() : undefined,
    cycles: state.cycles,
    runs: state.runs,
    runCycles,
    evidence: state.evidence,
    ...(state.fleet && { fleet: fleetSummary(state, input) }),
  };
}

export function fleetSummary(state: CanaryState, input: CanaryInput): FleetSummary {
  const attention = needsAttention(state);
  return {
    total: state.fleet?.members.length ?? 0,
    counts: fleetCounts(state),
    waves: state.fleet?.waves ?? 0,
    waveInFlight: state.fleet?.wave?.length ?? 0,
    budget: budgetOf(state, input),
    attention: attention
      .slice(0, ATTENTION_LISTED)
      .map(({ name, phase, state: st, since, note }) => ({ name, phase, state: st, since, note })),
    attentionTotal: attention.length,
    instanceLabel: input.fleet.instanceLabel,
  };
}

export function instanceDetail(state: CanaryState, input: CanaryInput, workflowId: string, name: string): InstanceDetail | undefined {
  const member = memberNamed(state, name);
  if (!member) return undefined;
  const { pulseUrl, contact, vars } = definitionOf(input, member);
  const ids = childIds(workflowId, name);
  const ran = member.state !== 'pending' && !member.manual;
  const word = new RegExp(`(^|[^A-Za-z0-9_.-])${name.replace(/[.]/g, '\\.')}([^A-Za-z0-9_.-]|$)`);
  return {
    member,
    definition: { name, pulseUrl, contact, vars },
    enable: enableSettings(input, member),
    disable: disableSettings(input, member),
    runs: {
      ...(ran && { enable: ids.enable }),
      ...(member.out && member.note?.startsWith('broke') && { disable: ids.disable }),
      ...(state.abort?.rollback?.children.some((c) => c.instance === name) && { rollback: ids.rollback }),
    },
    evidence: state.evidence.filter((e) => word.test(e.summary)),
    ...(input.fleet.instanceLabel && { series: { label: input.fleet.instanceLabel, value: name } }),
  };
}
