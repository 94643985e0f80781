/**
 * The fleet of a canary rollout (issue 17): which instances are where, which start in the next wave, the error
 * budget, and what the status shows. Pure, so the workflow, the simulation and the tests read the same answers.
 *
 * - Instances are enabled in waves of `fleet.waves.concurrency` child Enable runs; the next wave starts when the
 *   whole wave has finished. Instances registered while a phase runs join the next wave.
 * - Failures (a failed Enable, an instance that broke its own checkpoint) count against the error budget
 *   (`maxFailures`, or `maxFailurePercent` of the instances to enable; 0 when neither is given, as before: the
 *   first failure). More failures than the budget: no new Enable starts and the rollout aborts once none is in flight.
 * - An instance taken out of the rollout (`out`) is left out of the fleet-wide queries, so one bad instance stops
 *   counting against the fleet once it is dealt with on its own.
 */
import { instanceSettings, type CanaryInput, type CanaryInstance, type Phase } from '../config/canary.js';
import { addEvidence, MEMBER_STATES, type CanaryState, type FleetMember, type FleetState, type MemberState } from './state.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The child workflow ids of an instance's Enable, its own Disable, and the rollback's Disable. */
export const childIds = (workflowId: string, name: string) => ({
  enable: `${workflowId}-enable-${name}`,
  disable: `${workflowId}-disable-${name}`,
  rollback: `${workflowId}-rollback-disable-${name}`,
});

/** The definition of a member: listed in the input, or registered by a person while the rollout ran. */
export function definitionOf(input: CanaryInput, member: FleetMember): CanaryInstance {
  if (member.registered) return member.registered.instance;
  const listed = (member.phase === 1 ? input.phase1.instances : input.phase2.instances).find((i) => i.name === member.name);
  if (!listed) throw new Error(`instance ${member.name} is neither listed for phase ${member.phase} nor registered`);
  return listed;
}

export const enableSettings = (input: CanaryInput, member: FleetMember) =>
  instanceSettings(input.fleet, definitionOf(input, member), 'enable');
export const disableSettings = (input: CanaryInput, member: FleetMember) =>
  instanceSettings(input.fleet, definitionOf(input, member), 'disable');

function newMember(
  input: CanaryInput,
  instance: CanaryInstance,
  phase: Phase,
  at: string,
  registered?: FleetMember['registered'],
): FleetMember {
  const member: FleetMember = { name: instance.name, phase, state: 'pending', since: at, ...(registered && { registered }) };
  if (!instanceSettings(input.fleet, instance, 'enable')) {
    member.state = 'enabled';
    member.manual = true;
    member.note = phase === 1 ? 'no Enable settings: enabled by a person' : 'enabled by its user (opt-in)';
  }
  return member;
}

/** The fleet at the start of the rollout: phase 1's instances, and the check grid from `startMs`. */
export function initialFleet(input: CanaryInput, startMs: number): FleetState {
  const at = iso(startMs);
  return { members: input.phase1.instances.map((i) => newMember(input, i, 1, at)), waves: 0, nextCheckAt: startMs, gateOpenedAt: {} };
}

/** Adds an instance (phase 2's list at the move, or one registered by a person) and records it. */
export function addMember(
  state: CanaryState,
  input: CanaryInput,
  instance: CanaryInstance,
  phase: Phase,
  now: number,
  registered?: FleetMember['registered'],
): FleetMember {
  const member = newMember(input, instance, phase, iso(now), registered);
  state.fleet!.members.push(member);
  if (member.state === 'enabled' && !registered) {
    addEvidence(state, {
      step: phase === 1 ? 'canary.phase1.1' : 'canary.phase2.1',
      at: iso(now),
      verdict: 'human',
      summary: `${instance.name}: ${phase === 1 ? 'no Enable settings given; set PULSE_ENABLE_TRUENAS=true there yourself' : 'its user enables TrueNAS (no Enable settings given)'}.`,
    });
  }
  return member;
}

export interface Budget {
  failures: number;
  /** Failures allowed; more than this stop the waves. */
  allowed: number;
  spent: boolean;
  /** "6 failures of 500 instances (budget 5, maxFailurePercent 1 %)". */
  text: string;
}

export function budgetOf(state: CanaryState, input: CanaryInput): Budget {
  const members = state.fleet?.members ?? [];
  const failures = members.filter((m) => m.failed).length;
  const { maxFailures, maxFailurePercent } = input.fleet.waves;
  const total = members.filter((m) => !m.manual).length;
  const allowed = maxFailures ?? (maxFailurePercent !== undefined ? Math.floor((maxFailurePercent * total) / 100) : 0);
  const basis =
    maxFailures !== undefined
      ? `maxFailures ${maxFailures}`
      : maxFailurePercent !== undefined
        ? `maxFailurePercent ${maxFailurePercent} % of ${total}`
        : 'no budget given: the first failure';
  return { failures, allowed, spent: failures > allowed, text: `${failures} failure(s), ${allowed} allowed (${basis})` };
}

/** The abort the error budget calls for: spent, and no wave in flight (its Enables finish first). */
export function budgetAbort(state: CanaryState, input: CanaryInput): { criterion: 'activation-failed'; reason: string } | undefined {
  const budget = budgetOf(state, input);
  if (!budget.spent || state.fleet?.wave?.length) return undefined;
  const failed = state.fleet!.members.filter((m) => m.failed);
  return {
    criterion: 'activation-failed',
    reason: `the error budget is spent: ${budget.text}: ${failed
      .slice(0, 10)
      .map((m) => `${m.name} (${m.note})`)
      .join('; ')}${failed.length > 10 ? `; … ${failed.length - 10} more` : ''}`,
  };
}

/**
 * The members of the next wave: pending ones in order (phase 1 before phase 2, listed before registered), at most
 * `concurrency`; none while a wave is in flight, once the budget is spent, or after an abort.
 */
export function nextWave(state: CanaryState, input: CanaryInput): FleetMember[] {
  const fleet = state.fleet;
  if (!fleet || fleet.wave?.length || state.abort || budgetOf(state, input).spent) return [];
  return fleet.members.filter((m) => m.state === 'pending' && m.phase <= state.phase).slice(0, input.fleet.waves.concurrency);
}

export function setMemberState(member: FleetMember, to: MemberState, now: number, note?: string): void {
  if (member.state !== to) member.since = iso(now);
  member.state = to;
  if (note !== undefined) member.note = note || undefined;
}

/** Starts a wave: its members are enabling from now. */
export function startWave(state: CanaryState, members: FleetMember[], now: number): number {
  const fleet = state.fleet!;
  fleet.waves += 1;
  fleet.wave = members.map((m) => m.name);
  for (const m of members) setMemberState(m, 'enabling', now, '');
  return fleet.waves;
}

export function memberNamed(state: CanaryState, name: string): FleetMember | undefined {
  return state.fleet?.members.find((m) => m.name === name);
}

/** A member's Enable run ended. A failure takes it out of the rollout and counts against the budget. */
export function applyEnableOutcome(
  state: CanaryState,
  name: string,
  outcome: { ok: true } | { ok: false; message: string },
  now: number,
  workflowId: string,
): void {
  const member = memberNamed(state, name)!;
  const step = member.phase === 1 ? 'canary.phase1.1' : 'canary.phase2.1';
  if (outcome.ok) {
    setMemberState(member, 'enabled', now, '');
  } else {
    setMemberState(member, 'failing', now, `Enable failed: ${outcome.message}`);
    member.out = true;
    member.failed = true;
    member.attention = true;
    addEvidence(state, {
      step,
      at: iso(now),
      verdict: 'failed',
      summary: `${name}: the Enable workflow failed: ${outcome.message}`,
      details: { workflowId },
    });
  }
}

/** The wave in flight has finished when none of its members is still enabling: records its outcome once. */
export function finishWaveIfDone(state: CanaryState, input: CanaryInput, now: number, workflowId: string): boolean {
  const fleet = state.fleet!;
  if (!fleet.wave?.length) return false;
  const members = fleet.wave.map((n) => memberNamed(state, n)!);
  if (members.some((m) => m.state === 'enabling')) return false;
  const failed = members.filter((m) => m.failed && m.note?.startsWith('Enable failed'));
  const ok = members.filter((m) => !failed.includes(m));
  const budget = budgetOf(state, input);
  const left = fleet.members.filter((m) => m.state === 'pending').length;
  addEvidence(state, {
    step: members[0].phase === 1 ? 'canary.phase1.1' : 'canary.phase2.1',
    at: iso(now),
    verdict: failed.length ? 'failed' : 'ok',
    summary:
      `Wave ${fleet.waves} (${members.length} instance(s)): ${ok.length} enabled${ok.length ? ` (${names(ok)})` : ''}${failed.length ? `, ${failed.length} failed (${names(failed)})` : ''}; ` +
      `their Enable runs are ${childIds(workflowId, '<name>').enable}. ${left} pending; error budget: ${budget.text}${budget.spent ? ': SPENT, no new Enable starts' : ''}.`,
    details: { wave: fleet.waves, enabled: ok.length, failed: failed.map((m) => m.name) },
  });
  fleet.wave = undefined;
  return true;
}

const names = (ms: FleetMember[], max = 10) =>
  `${ms
    .slice(0, max)
    .map((m) => m.name)
    .join(', ')}${ms.length > max ? `, … ${ms.length - max} more` : ''}`;

/** A member's own Disable (it broke a checkpoint) or the rollback's ended. */
export function applyDisableOutcome(
  state: CanaryState,
  name: string,
  outcome: { ok: true } | { ok: false; message: string },
  now: number,
): void {
  const member = memberNamed(state, name)!;
  if (outcome.ok) setMemberState(member, 'disabled', now, member.note);
  else {
    setMemberState(member, 'failing', now, `Disable failed: ${outcome.message}; disable it by hand`);
    member.attention = true;
  }
}

/** Instances left out of the fleet-wide queries (taken out of the rollout). */
export function excludedNames(state: CanaryState): string[] {
  return (state.fleet?.members ?? []).filter((m) => m.out).map((m) => m.name);
}

/** Instances judged on their own this cycle: on, and still in the rollout. */
export function judgedMembers(state: CanaryState): FleetMember[] {
  return (state.fleet?.members ?? []).filter((m) => !m.out && (m.state === 'enabled' || m.state === 'green' || m.state === 'failing'));
}

/** Members that keep the phase from ending: not started, starting, being disabled, or failing while still in. */
export function notReady(state: CanaryState): FleetMember[] {
  return (state.fleet?.members ?? []).filter(
    (m) =>
      m.phase <= state.phase &&
      (m.state === 'pending' || m.state === 'enabling' || m.state === 'disabling' || (m.state === 'failing' && !m.out)),
  );
}

export type FleetCounts = Record<MemberState, number>;

export function countMembers(members: readonly FleetMember[]): FleetCounts {
  const counts = Object.fromEntries(MEMBER_STATES.map((s) => [s, 0])) as FleetCounts;
  for (const m of members) counts[m.state] += 1;
  return counts;
}

export const fleetCounts = (state: CanaryState): FleetCounts => countMembers(state.fleet?.members ?? []);

/** "480 green, 10 enabling, 8 pending, 2 disabled" (states with none are left out). */
export function countsText(counts: FleetCounts): string {
  const parts = MEMBER_STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no instances';
}

/** What needs a person: failing members, and members whose rollout step is theirs to do. */
export function needsAttention(state: CanaryState): FleetMember[] {
  return (state.fleet?.members ?? []).filter((m) => m.attention || m.state === 'failing');
}
