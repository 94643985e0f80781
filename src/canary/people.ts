/**
 * What people do to a rollout: each update has a `refuse…` rule (the validator: a sentence saying why, or
 * undefined) and an `apply…` change to the state. Pure, so the rules are unit-tested without Temporal and the
 * workflow's validators and handlers are one line each. Every accepted change is also recorded as evidence with
 * the actor and the time.
 */
import { phaseKey, type CanaryInput, templateProblems, type CanaryUpdateRequest } from '../config/canary.js';
import { addMember } from './fleet.js';
import { checklist, missingItems, signersOf } from './checklist.js';
import { addEvidence, secondsBetween, type CanaryIssue, type CanaryState, type SignOff } from './state.js';

const iso = (now: number) => new Date(now).toISOString();
const ended = (state: CanaryState) => state.status === 'aborted' || state.status === 'completed' || state.status === 'rolling-back';

function refuseWhenEnded(state: CanaryState): string | undefined {
  if (ended(state)) return `the rollout is ${state.status}${state.abort ? ` (${state.abort.reason})` : ''}: nothing more can be changed`;
  return undefined;
}

/** With `operators` configured, only they, the approvers and the starter may act on the rollout at all. */
export function refuseUnknownActor(input: CanaryInput, actor: string): string | undefined {
  if (!input.operators) return undefined;
  const known = new Set([
    input.startedBy,
    ...input.operators,
    ...input.approvers.phase1,
    ...input.approvers.phase2,
    ...input.approvers.phase3,
  ]);
  if (known.has(actor)) return undefined;
  return `${actor} is not part of this rollout: only its operators (${input.operators.join(', ') || 'none'}), approvers and ${input.startedBy} (who started it) may act`;
}

/** Who may approve `phase`: a configured approver, not the starter unless self-approval is allowed. */
export function refuseApprover(state: CanaryState, input: CanaryInput, actor: string, what: string): string | undefined {
  const key = phaseKey(state.phase);
  const approvers = input.approvers[key];
  if (!approvers.includes(actor))
    return `${actor} is not an approver for phase ${state.phase} and may not ${what} (approvers: ${approvers.join(', ')})`;
  if (actor === input.startedBy && !input.allowSelfApproval)
    return `${actor} started this rollout and may not ${what} their own phase (self-approval is off)`;
  return undefined;
}

// --- sign-off (checklist item 5) -------------------------------------------------------------------------------

export function refuseSignOff(
  state: CanaryState,
  input: CanaryInput,
  req: CanaryUpdateRequest<'signOff'>,
  now: number,
): string | undefined {
  const ended = refuseWhenEnded(state);
  if (ended) return ended;
  if (state.phase === 3)
    return 'phase 3 is permanent and has no transition to sign off; an approver ends the rollout with `canary complete`';
  if (state.status === 'activating') return 'phase 1 is still being activated; sign-off comes at the exit gate';
  const who = refuseApprover(state, input, req.actor, 'sign off');
  if (who) return who;
  if (signersOf(state, state.phase).includes(req.actor)) return `${req.actor} has already signed off phase ${state.phase}`;
  const missing = missingItems(checklist(state, input, now)).filter((i) => i.step !== 'canary.checklist.5');
  if (missing.length)
    return `phase ${state.phase} is not ready for sign-off; missing: ${missing.map((i) => `${i.title} (${i.detail})`).join('; ')}`;
  return undefined;
}

export function applySignOff(state: CanaryState, input: CanaryInput, req: CanaryUpdateRequest<'signOff'>, now: number): SignOff {
  const signOff: SignOff = {
    phase: state.phase,
    actor: req.actor,
    at: iso(now),
    comment: req.comment,
    snapshot: checklist(state, input, now),
  };
  state.signOffs.push(signOff);
  addEvidence(state, {
    step: 'canary.checklist.5',
    at: signOff.at,
    verdict: 'ok',
    summary: `${req.actor} signed off phase ${state.phase}${req.comment ? `: ${req.comment}` : ''}.`,
    details: {
      actor: req.actor,
      phase: state.phase,
      snapshot: signOff.snapshot.map((i) => ({ step: i.step, ok: i.ok, detail: i.detail })),
    },
  });
  return signOff;
}

// --- issues, triage, abort criteria 2 and 5 --------------------------------------------------------------------

export function refuseReportIssue(state: CanaryState): string | undefined {
  return refuseWhenEnded(state);
}

export function applyReportIssue(
  state: CanaryState,
  input: CanaryInput,
  req: CanaryUpdateRequest<'reportIssue'>,
  now: number,
): CanaryIssue {
  const at = iso(now);
  const issue: CanaryIssue = {
    id: `issue-${state.issues.length + 1}`,
    severity: req.severity,
    title: req.title,
    instance: req.instance,
    source: req.source,
    phase: state.phase,
    reportedBy: req.actor,
    reportedAt: at,
    triageDueAt: req.source === 'user' ? iso(now + input.phase2.triageSeconds * 1000) : undefined,
  };
  state.issues.push(issue);
  addEvidence(state, {
    step: state.phase === 2 ? 'canary.phase2.3' : 'canary.checklist.2',
    at,
    verdict: req.severity === 'critical' || req.severity === 'high' ? 'failed' : 'ok',
    summary: `${req.actor} reported ${issue.id} (${req.severity}, ${req.source}): ${req.title}.`,
    details: { issue: issue.id, severity: req.severity, instance: req.instance, triageDueAt: issue.triageDueAt },
  });
  return issue;
}

function refuseIssueRef(state: CanaryState, req: CanaryUpdateRequest<'triageIssue'>, what: 'triaged' | 'resolved'): string | undefined {
  const issue = state.issues.find((i) => i.id === req.issue);
  if (!issue) return `no issue ${req.issue} in this rollout (issues: ${state.issues.map((i) => i.id).join(', ') || 'none'})`;
  if (issue[what]) return `${req.issue} was already ${what} by ${issue[what]!.by} at ${issue[what]!.at}`;
  return undefined;
}

export const refuseTriage = (state: CanaryState, req: CanaryUpdateRequest<'triageIssue'>) =>
  refuseWhenEnded(state) ?? refuseIssueRef(state, req, 'triaged');
export const refuseResolve = (state: CanaryState, req: CanaryUpdateRequest<'triageIssue'>) =>
  refuseWhenEnded(state) ?? refuseIssueRef(state, req, 'resolved');

export function applyTriage(state: CanaryState, req: CanaryUpdateRequest<'triageIssue'>, now: number): CanaryIssue {
  const issue = state.issues.find((i) => i.id === req.issue)!;
  const late = !!issue.triageDueAt && now > Date.parse(issue.triageDueAt);
  issue.triaged = { by: req.actor, at: iso(now), note: req.note, late };
  addEvidence(state, {
    step: 'canary.phase2.3',
    at: iso(now),
    verdict: late ? 'failed' : 'ok',
    summary: `${req.actor} triaged ${issue.id} after ${(secondsBetween(issue.reportedAt, now) / 3600).toFixed(1)} h${late ? ' (later than the 24 h the runbook allows)' : ''}: ${req.note}`,
  });
  return issue;
}

export function applyResolve(state: CanaryState, req: CanaryUpdateRequest<'triageIssue'>, now: number): CanaryIssue {
  const issue = state.issues.find((i) => i.id === req.issue)!;
  issue.resolved = { by: req.actor, at: iso(now), note: req.note };
  addEvidence(state, {
    step: 'canary.checklist.2',
    at: iso(now),
    verdict: 'ok',
    summary: `${req.actor} resolved ${issue.id}: ${req.note}`,
  });
  return issue;
}

/** User reports past their triage deadline and still untriaged. */
export function overdueTriage(state: CanaryState, now: number): CanaryIssue[] {
  return state.issues.filter((i) => !i.triaged && !i.resolved && i.triageDueAt && now > Date.parse(i.triageDueAt));
}

/** Abort criterion 5: more than criticalBugsMax critical bugs reported in any window of criticalBugWindowSeconds. */
export function criticalBurst(state: CanaryState, input: CanaryInput): string | undefined {
  const { criticalBugsMax, criticalBugWindowSeconds } = input.aborts;
  const times = state.issues
    .filter((i) => i.severity === 'critical')
    .map((i) => Date.parse(i.reportedAt))
    .sort((a, b) => a - b);
  for (let i = 0; i + criticalBugsMax < times.length; i++) {
    const span = (times[i + criticalBugsMax] - times[i]) / 1000;
    if (span <= criticalBugWindowSeconds) {
      return `${criticalBugsMax + 1} critical bugs reported within ${(span / 3600).toFixed(1)} h (more than ${criticalBugsMax} in ${criticalBugWindowSeconds / 3600} h)`;
    }
  }
  return undefined;
}

export const refuseAbort = (state: CanaryState, _req: CanaryUpdateRequest<'abort'>) => refuseWhenEnded(state);
export const refuseDataCorruption = (state: CanaryState, _req: CanaryUpdateRequest<'reportDataCorruption'>) => refuseWhenEnded(state);

// --- staging rollback test (checklist item 3), instances, release, pause --------------------------------------

export function refuseStagingRollback(state: CanaryState): string | undefined {
  return (
    refuseWhenEnded(state) ??
    (state.phase === 3 ? 'phase 3 has no transition: record the staging test of the revert before phase 3' : undefined)
  );
}

export function applyStagingRollback(state: CanaryState, req: CanaryUpdateRequest<'confirmStagingRollback'>, now: number): void {
  state.stagingTests.push({ phase: state.phase, actor: req.actor, at: iso(now), evidence: req.evidence, workflowId: req.workflowId });
  addEvidence(state, {
    step: 'canary.checklist.3',
    at: iso(now),
    verdict: 'ok',
    summary: `${req.actor} confirmed the phase ${state.phase} rollback was tested in staging: ${req.evidence}`,
    details: { workflowId: req.workflowId },
  });
}

export function refuseRegisterInstance(
  state: CanaryState,
  req: CanaryUpdateRequest<'registerInstance'>,
  input?: CanaryInput,
): string | undefined {
  const ended = refuseWhenEnded(state);
  if (ended) return ended;
  if (state.phase === 3) return 'phase 3 is default-on: every instance runs TrueNAS, there is nothing to opt in';
  const name = req.instance.name;
  const listed = state.fleet && input ? [...input.phase1.instances, ...input.phase2.instances].some((i) => i.name === name) : false;
  if (listed || state.instances.some((i) => i.name === name) || state.fleet?.members.some((m) => m.name === name))
    return `an instance named "${name}" is already part of the rollout`;
  if (state.fleet && input) {
    const problems = templateProblems(input.fleet, req.instance);
    if (problems.length) return `instance ${name}: ${problems.map((p) => p.message).join('; ')}`;
  }
  return undefined;
}

export function applyRegisterInstance(
  state: CanaryState,
  req: CanaryUpdateRequest<'registerInstance'>,
  now: number,
  input?: CanaryInput,
): void {
  if (state.fleet && input) {
    // A fleet: the instance joins phase 2; the rollout enables it in the next wave when it has Enable settings.
    const member = addMember(state, input, req.instance, 2, now, { by: req.actor, at: iso(now), instance: req.instance });
    addEvidence(state, {
      step: 'canary.phase2.1',
      at: iso(now),
      verdict: member.manual ? 'human' : 'ok',
      summary: `${req.actor} registered opt-in instance ${req.instance.name}${req.instance.pulseUrl ? ` (${req.instance.pulseUrl})` : ''}; ${
        member.manual
          ? 'its user sets PULSE_ENABLE_TRUENAS=true themselves'
          : `the rollout enables it in a wave of phase 2${state.phase === 1 ? ' once phase 2 begins' : ''}`
      }.`,
      details: { instance: req.instance.name },
    });
    return;
  }
  state.instances.push({ ...req.instance, phase: 2, registeredBy: req.actor, registeredAt: iso(now) });
  addEvidence(state, {
    step: 'canary.phase2.1',
    at: iso(now),
    verdict: 'human',
    summary: `${req.actor} registered opt-in instance ${req.instance.name}${req.instance.pulseUrl ? ` (${req.instance.pulseUrl})` : ''}; its user sets PULSE_ENABLE_TRUENAS=true themselves.`,
    details: { instance: req.instance.name, rollbackByWorkflow: !!req.instance.disable },
  });
}

export function refuseRelease(state: CanaryState, _req: CanaryUpdateRequest<'recordDefaultOnRelease'>): string | undefined {
  const ended = refuseWhenEnded(state);
  if (ended) return ended;
  if (state.phase === 1) return 'the default-on release belongs to phase 3; record it once phase 2 is under way';
  if (state.release)
    return `the default-on release ${state.release.version} (${state.release.commit}) was already recorded by ${state.release.by}`;
  return undefined;
}

export function applyRelease(state: CanaryState, req: CanaryUpdateRequest<'recordDefaultOnRelease'>, now: number): void {
  state.release = { version: req.version, commit: req.commit, by: req.actor, at: iso(now), rollback: req.rollback };
  addEvidence(state, {
    step: 'canary.phase3.1',
    at: iso(now),
    verdict: 'human',
    summary: `${req.actor} recorded the default-on release ${req.version} (commit ${req.commit})${req.rollback ? '; its revert is configured for phase 3 rollback' : ''}.`,
    details: { version: req.version, commit: req.commit },
  });
}

export function refusePause(state: CanaryState): string | undefined {
  return refuseWhenEnded(state) ?? (state.pause ? `monitoring is already paused by ${state.pause.by} since ${state.pause.at}` : undefined);
}

export function refuseResume(state: CanaryState): string | undefined {
  return refuseWhenEnded(state) ?? (state.pause ? undefined : 'monitoring is not paused');
}

export function refuseComplete(state: CanaryState, input: CanaryInput, actor: string): string | undefined {
  const ended = refuseWhenEnded(state);
  if (ended) return ended;
  if (state.phase !== 3) return `the rollout is in phase ${state.phase}: it can only be completed in phase 3 (default-on)`;
  return refuseApprover(state, input, actor, 'complete');
}
