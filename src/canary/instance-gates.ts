/**
 * The per-instance gates of a fleet (issue 17): every checkpoint evaluated per instance, grouped by the scrape
 * config's instance label. An instance whose own checkpoint FAILS breaks it: it is taken out of the rollout, counted
 * against the error budget and disabled on its own (the workflow starts its Disable). An instance whose checkpoints
 * cannot be judged (no series for it, NaN) is `failing` and listed for a person, but stays in. Pure: the workflow and
 * the simulation apply the same evaluation the same way.
 */
import { PER_INSTANCE_CHECKS, parseValue, type CheckId, type CheckVerdict } from '../prometheus/checks.js';
import type { InstanceCheckResult } from '../prometheus/verdict.js';
import type { CanaryInput } from '../config/canary.js';
import { disableSettings, judgedMembers, setMemberState } from './fleet.js';
import { addEvidence, type CanaryState, type FleetMember } from './state.js';

/** The checks evaluated per instance (the canary's monitoring checkpoints). */
export const INSTANCE_CHECKS: readonly CheckId[] = PER_INSTANCE_CHECKS;

/** The verdict of one instance's entry with this rollout's empty/NaN verdicts applied over the catalogue's. */
function verdictOf(input: CanaryInput, check: CheckId, entry: { value: string | null; verdict: CheckVerdict }): CheckVerdict {
  const o = input.verdicts[check];
  if (entry.value === null) return o?.onEmpty ?? entry.verdict;
  if (Number.isNaN(parseValue(entry.value))) return o?.onNaN ?? entry.verdict;
  return entry.verdict;
}

export interface InstanceOutcome {
  /** Members that broke a checkpoint this time: taken out, to be disabled on their own. */
  broke: FleetMember[];
}

/**
 * Applies the per-instance results to the members judged this cycle. A result whose query failed judges nobody:
 * when any did, the members keep their states (the fleet-wide checks already say Prometheus could not be read).
 */
export function applyInstanceVerdicts(
  state: CanaryState,
  input: CanaryInput,
  results: InstanceCheckResult[] | undefined,
  now: number,
): InstanceOutcome {
  const broke: FleetMember[] = [];
  if (!results?.length || results.some((r) => r.error)) return { broke };
  const at = new Date(now).toISOString();
  const bad = new Map<string, Array<{ check: CheckId; value: string | null; verdict: CheckVerdict; query?: string }>>();
  for (const r of results) {
    for (const entry of r.notPassing) {
      const verdict = verdictOf(input, r.check, entry);
      if (verdict === 'pass') continue;
      bad.set(entry.instance, [...(bad.get(entry.instance) ?? []), { check: r.check, value: entry.value, verdict, query: r.query }]);
    }
  }
  for (const member of judgedMembers(state)) {
    const found = bad.get(member.name);
    if (!found) {
      setMemberState(member, 'green', now, member.manual ? member.note : '');
      member.attention = undefined;
      continue;
    }
    const failing = found.filter((f) => f.verdict === 'fail');
    const what = (fs: typeof found) => fs.map((f) => `${f.check} ${f.value ?? 'no series'}`).join(', ');
    if (!failing.length) {
      setMemberState(member, 'failing', now, `inconclusive: ${what(found)}`);
      member.attention = true;
      continue;
    }
    // It broke its own checkpoint: out of the rollout, counted against the budget, disabled on its own.
    member.out = true;
    member.failed = true;
    const phaseStep = member.phase === 1 ? 'canary.phase1.5' : 'canary.phase2.5';
    const canDisable = !!disableSettings(input, member);
    const note = `broke ${what(failing)}`;
    if (canDisable) {
      setMemberState(member, 'disabling', now, note);
      broke.push(member);
    } else {
      setMemberState(member, 'failing', now, `${note}; no Disable settings: unset PULSE_ENABLE_TRUENAS there and restart Pulse by hand`);
      member.attention = true;
    }
    addEvidence(state, {
      step: phaseStep,
      at,
      verdict: 'failed',
      summary: `${member.name} broke its own phase ${member.phase} checkpoint(s): ${failing.map((f) => `${f.check} ${f.value}`).join(', ')}. ${
        canDisable
          ? 'It is disabled on its own (a Disable run) and left out of the fleet-wide checks.'
          : 'It has no Disable settings: disable it by hand; it is left out of the fleet-wide checks.'
      }`,
      details: { instance: member.name, checks: failing.map((f) => ({ check: f.check, value: f.value, query: f.query })) },
    });
  }
  return { broke };
}
