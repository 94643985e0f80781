/**
 * Runbook "Canary Rollout Strategy": one long-running workflow over the three phases.
 *
 * - Phase 1 enables TrueNAS on the listed internal instances (child Enable workflows), then checks the metric
 *   checkpoints every `checkEverySeconds` on a durable timer. Its exit gate: 48 h in the phase and every
 *   checkpoint green for 24 continuous hours (src/canary/checkpoints.ts keeps the clock, its resets and why).
 * - Phase 2: opt-in instances are registered while it runs; the same checks continue; exit after 1 week with no
 *   critical issue for 5 continuous days; user reports are tracked against their 24 h triage deadline.
 * - Phase 3: the default-on release is recorded; monitoring continues (plus the staleness alerts) until an
 *   approver completes the rollout or it aborts.
 * - A move happens only when all five checklist items hold at once (src/canary/checklist.ts); the sign-off is an
 *   update whose validator enforces approvers, quorum and no self-approval, and records the checklist seen.
 * - Abort criteria 1, 3, 4 come from the metrics, 2 and 5 from people's reports, and anyone may abort with a
 *   reason. An abort runs the phase's rollback (child Disable workflows in phases 1-2, the recorded revert as a
 *   child Code Rollback in phase 3; what only people can do is recorded as human steps) and the run ends
 *   `aborted` with the reason.
 * - Every `cyclesPerRun` checks (or when Temporal suggests it) the run continues as new with its state, after
 *   every handler has finished, so weeks of checks never approach the history limits.
 * - Plan mode: the Enable children in plan mode, one evaluation, the gates and checklist; nothing changes.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as prometheusActivities from '../activities/prometheus.js';
import {
  AbortSchema,
  CanaryInputSchema,
  CompleteSchema,
  DataCorruptionSchema,
  DefaultOnReleaseSchema,
  IssueRefSchema,
  PauseSchema,
  RegisterInstanceSchema,
  ReportIssueSchema,
  ResumeSchema,
  SignOffSchema,
  StagingRollbackSchema,
  type CanaryInput,
  type CanaryInputRaw,
  type Phase,
} from '../src/config/canary.js';
import { applyCheckpoint, checksFor, inputBaseline } from '../src/canary/checkpoints.js';
import { checklist, gateStatus, missingItems } from '../src/canary/checklist.js';
import { CANARY_FAILURES } from '../src/canary/failure-types.js';
import type { CanaryResult } from '../src/canary/result.js';
import { statusOf, waitingFor, type CanaryStatus } from '../src/canary/status.js';
import * as people from '../src/canary/people.js';
import {
  addEvidence,
  initialState,
  type AbortCriterion,
  type AbortRecord,
  type CanaryState,
  type ChecklistItem,
  type RollbackRecord,
} from '../src/canary/state.js';
import type { Evaluation } from '../src/prometheus/alert-state.js';
import type { Evidence } from '../src/runbook/evidence.js';
import type { z } from 'zod';
import {
  abortUpdate,
  canaryStatusQuery,
  completeUpdate,
  confirmStagingRollbackUpdate,
  pauseMonitoringUpdate,
  recordDefaultOnReleaseUpdate,
  registerInstanceUpdate,
  reportDataCorruptionUpdate,
  reportIssueUpdate,
  resolveIssueUpdate,
  resumeMonitoringUpdate,
  signOffUpdate,
  triageIssueUpdate,
} from './canary-rollout.messages.js';
import { CODE_ROLLBACK_WORKFLOW, type CodeRollbackWorkflow } from './code-rollback.messages.js';
import { DISABLE_WORKFLOW, type DisableWorkflow } from './disable.messages.js';
import { ENABLE_WORKFLOW, type EnableWorkflow } from './enable.messages.js';
import { evaluateOrInconclusive } from './support/evaluate-checks.js';
import { parseWorkflowInput } from './support/parse-input.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../src/config/retry.js';

export type { CanaryResult, CanaryStatus };

const iso = (ms = Date.now()) => new Date(ms).toISOString();
const PASSING_SERIES_KEPT = 20;

export async function canaryRollout(raw: CanaryInputRaw): Promise<CanaryResult> {
  const input: CanaryInput = parseWorkflowInput(CanaryInputSchema, raw, 'canary rollout', CANARY_FAILURES.invalidInput);
  const info = workflowInfo();
  const state: CanaryState = (input.state as CanaryState | undefined) ?? initialState(iso());
  if (input.state) state.runs += 1;
  let runCycles = 0;
  let wake = false;
  let nextCheckAt = Date.now();
  let pendingAbort: { criterion: AbortCriterion; reason: string; actor?: string } | undefined;
  const noticedOverdue = new Set(state.evidence.filter((e) => e.step === 'canary.phase2.3' && e.details?.overdue).map((e) => String(e.details?.overdue)));

  /** The Prometheus activity, its summary in the UI naming the runbook step of the current phase. */
  const prometheus = () =>
    proxyActivities<typeof prometheusActivities>({
      startToCloseTimeout: `${Math.ceil((2 * input.prometheus.timeoutMs) / 1000) + 10} seconds`,
      // The activity heartbeats while it runs: a lost worker is noticed after this, not the whole timeout.
      heartbeatTimeout: `${input.retry.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS} seconds`,
      retry: { maximumAttempts: input.retry.maximumAttempts, initialInterval: `${input.retry.initialIntervalSeconds} seconds`, maximumInterval: `${input.retry.maximumIntervalSeconds} seconds` },
      summary: `${stepOfPhase(state.phase)}: phase ${state.phase} metric checkpoint`,
    });

  // --- search attributes: findable by procedure, status and phase in the Web UI ----------------------------------
  let published = '';
  const publish = () => {
    // The UI's "current details": what the run waits for now, in the runbook's words.
    setCurrentDetails(`Phase ${state.phase}, ${state.status}. Waiting for: ${waitingFor(state, input, Date.now())}`);
    const word = input.plan ? 'planning' : state.status;
    const key = `${word}/${state.phase}`;
    if (key === published) return;
    published = key;
    upsertSearchAttributes({ RunbookProcedure: ['canary-rollout'], RunbookStatus: [word], CanaryPhase: [`phase-${state.phase}`] });
  };
  publish();

  // --- people: updates with validators (refusals name the reason), and the status query --------------------------
  const refuse = (reason: string | undefined) => {
    if (reason) throw ApplicationFailure.create({ message: reason, type: CANARY_FAILURES.refused, nonRetryable: true });
  };
  /** Registers an update whose payload is parsed by `schema` in the validator and again in the handler. */
  const onUpdate = <S extends z.ZodType, R>(
    update: Parameters<typeof setHandler>[0],
    schema: S,
    rule: (req: z.infer<S>) => string | undefined,
    apply: (req: z.infer<S>) => R,
  ) => {
    const parse = (payload: unknown): z.infer<S> => {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) refuse(`invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`);
      return (parsed as { data: z.infer<S> }).data;
    };
    // Every payload names its actor; unknown actors are refused before the update's own rule.
    const check = (req: z.infer<S>) => people.refuseUnknownActor(input, (req as { actor: string }).actor) ?? rule(req);
    setHandler(
      update as never,
      ((payload: unknown) => {
        const req = parse(payload);
        refuse(check(req));
        const out = apply(req);
        wake = true;
        publish();
        return out;
      }) as never,
      { validator: ((payload: unknown) => refuse(check(parse(payload)))) as never } as never,
    );
  };

  onUpdate(signOffUpdate, SignOffSchema, (r) => people.refuseSignOff(state, input, r, Date.now()), (r) => people.applySignOff(state, input, r, Date.now()));
  onUpdate(abortUpdate, AbortSchema, (r) => people.refuseAbort(state, r), (r) => {
    pendingAbort ??= { criterion: 'manual', reason: `aborted by ${r.actor}: ${r.reason}`, actor: r.actor };
    return { accepted: true as const, at: iso() };
  });
  onUpdate(reportIssueUpdate, ReportIssueSchema, () => people.refuseReportIssue(state), (r) => {
    const issue = people.applyReportIssue(state, input, r, Date.now());
    const burst = people.criticalBurst(state, input);
    if (burst) pendingAbort ??= { criterion: 'canary.abort.5', reason: burst, actor: r.actor };
    return issue;
  });
  onUpdate(triageIssueUpdate, IssueRefSchema, (r) => people.refuseTriage(state, r), (r) => people.applyTriage(state, r, Date.now()));
  onUpdate(resolveIssueUpdate, IssueRefSchema, (r) => people.refuseResolve(state, r), (r) => people.applyResolve(state, r, Date.now()));
  onUpdate(reportDataCorruptionUpdate, DataCorruptionSchema, (r) => people.refuseDataCorruption(state, r), (r) => {
    addEvidence(state, { step: 'canary.abort.2', at: iso(), verdict: 'failed', summary: `${r.actor} reported data corruption or cross-platform interference${r.instance ? ` on ${r.instance}` : ''}: ${r.description}` });
    pendingAbort ??= { criterion: 'canary.abort.2', reason: `data corruption or cross-platform interference reported by ${r.actor}: ${r.description}`, actor: r.actor };
    return { accepted: true as const, at: iso() };
  });
  onUpdate(confirmStagingRollbackUpdate, StagingRollbackSchema, () => people.refuseStagingRollback(state), (r) => {
    people.applyStagingRollback(state, r, Date.now());
    return checklist(state, input, Date.now());
  });
  onUpdate(registerInstanceUpdate, RegisterInstanceSchema, (r) => people.refuseRegisterInstance(state, r), (r) => {
    people.applyRegisterInstance(state, r, Date.now());
    return { instances: state.instances.map((i) => i.name) };
  });
  onUpdate(recordDefaultOnReleaseUpdate, DefaultOnReleaseSchema, (r) => people.refuseRelease(state, r), (r) => {
    people.applyRelease(state, r, Date.now());
    return { version: r.version, commit: r.commit };
  });
  onUpdate(pauseMonitoringUpdate, PauseSchema, () => people.refusePause(state), (r) => {
    const at = iso();
    state.pause = { by: r.actor, at, reason: r.reason };
    state.status = 'paused';
    addEvidence(state, { step: stepOfPhase(state.phase), at, verdict: 'human', summary: `${r.actor} paused monitoring: ${r.reason}. The green clock stops; abort by hand still works.` });
    resetClockForPause(state, at, r.actor);
    return { paused: true as const, at };
  });
  onUpdate(resumeMonitoringUpdate, ResumeSchema, () => people.refuseResume(state), (r) => {
    const at = iso();
    addEvidence(state, { step: stepOfPhase(state.phase), at, verdict: 'human', summary: `${r.actor} resumed monitoring (paused since ${state.pause!.at})${r.note ? `: ${r.note}` : ''}.` });
    state.pause = undefined;
    state.status = 'monitoring';
    nextCheckAt = Date.now();
    return { paused: false as const, at };
  });
  onUpdate(completeUpdate, CompleteSchema, (r) => people.refuseComplete(state, input, r.actor), (r) => {
    state.completed = { by: r.actor, at: iso(), comment: r.comment };
    return { completed: true as const, at: state.completed.at };
  });

  setHandler(canaryStatusQuery, () => statusOf(state, input, info.workflowId, runCycles, nextCheckAt));

  // --- plan mode ------------------------------------------------------------------------------------------------
  if (input.plan) {
    const enable = await activatePhase1(state, input, true);
    const evaluation = await evaluate();
    applyCheckpoint(state, input, evaluation, Date.now());
    const now = Date.now();
    addEvidence(state, {
      step: 'canary.phase1.2',
      at: iso(now),
      verdict: 'planned',
      summary: `Would check the metrics every ${input.checkEverySeconds} s; phase 1 exits after ${input.phase1.minSeconds / 3600} h with ${input.phase1.greenSeconds / 3600} h continuous green, phase 2 after ${input.phase2.minSeconds / 86400} days with ${input.phase2.quietSeconds / 86400} days free of critical issues.`,
      actions: [{ kind: 'wait', seconds: input.phase1.minSeconds, reason: 'phase 1 minimum duration' }],
    });
    await condition(allHandlersFinished);
    return result('planned', { enable, checklist: checklist(state, input, now), gates: gateStatus(state, input, now) });
  }

  // --- phase 1 activation (once, not again after continue-as-new) -------------------------------------------------
  if (!input.state) {
    const baseline = inputBaseline(input, iso());
    if (baseline) {
      state.baseline = { ...baseline, source: 'input' };
      addEvidence(state, { step: 'canary.phase1.3', at: iso(), verdict: 'ok', summary: 'Resource baseline given with the rollout (measured before it).', details: { ...input.baseline } });
    }
    const enabled = await activatePhase1(state, input, false);
    const failed = enabled.filter((e) => e.outcome === 'failed');
    if (failed.length) pendingAbort ??= { criterion: 'activation-failed', reason: `phase 1 activation failed on ${failed.map((f) => f.instance).join(', ')}` };
    state.status = 'monitoring';
    publish();
  }

  // --- the monitoring loop ----------------------------------------------------------------------------------------
  for (;;) {
    if (pendingAbort) return await abortRollout(pendingAbort);
    if (state.completed) return await completeRollout();

    if (!state.pause && Date.now() >= nextCheckAt) {
      const outcome = applyCheckpoint(state, input, await evaluate(), Date.now());
      runCycles += 1;
      nextCheckAt = Date.now() + input.checkEverySeconds * 1000;
      if (outcome.abort) pendingAbort ??= outcome.abort;
      if (pendingAbort) continue;
    }
    noteOverdueTriage();
    if (state.phase < 3 && !state.pause) {
      const items = checklist(state, input, Date.now());
      if (missingItems(items).length === 0) moveToNextPhase(items);
    }
    publish();

    if (runCycles >= input.cyclesPerRun || workflowInfo().continueAsNewSuggested) {
      // Updates in flight finish in this run; the state they changed goes to the next run.
      await condition(allHandlersFinished);
      if (!pendingAbort && !state.completed) {
        await continueAsNew<typeof canaryRollout>({ ...raw, state });
      }
      continue;
    }

    wake = false;
    const waitMs = Math.max(0, nextCheckAt - Date.now());
    if (state.pause) await condition(() => wake || !!pendingAbort);
    else await condition(() => wake || !!pendingAbort, waitMs, { summary: `${stepOfPhase(state.phase)}: next checkpoint in ${input.checkEverySeconds} s` });
  }

  // --- the steps, as closures over the run's state ----------------------------------------------------------------

  async function evaluate(): Promise<Evaluation> {
    return evaluateOrInconclusive(prometheus(), { prometheus: input.prometheus, checks: checksFor(input, state.phase), windows: input.windows, job: input.pulseJob, maxPassingSeries: PASSING_SERIES_KEPT });
  }

  function noteOverdueTriage(): void {
    for (const issue of people.overdueTriage(state, Date.now())) {
      if (noticedOverdue.has(issue.id)) continue;
      noticedOverdue.add(issue.id);
      addEvidence(state, {
        step: 'canary.phase2.3',
        at: iso(),
        verdict: 'failed',
        summary: `${issue.id} (${issue.severity}, reported by ${issue.reportedBy}) was not triaged within ${input.phase2.triageSeconds / 3600} h.`,
        details: { overdue: issue.id, dueAt: issue.triageDueAt },
      });
    }
  }

  function moveToNextPhase(items: ChecklistItem[]): void {
    const at = iso();
    const from = state.phase;
    const gates = gateStatus(state, input, Date.now());
    addEvidence(state, {
      step: from === 1 ? 'canary.phase1.4' : 'canary.phase2.4',
      at,
      verdict: 'ok',
      summary:
        from === 1
          ? `Phase 1 exit gate met: ${(gates.inPhaseSeconds / 3600).toFixed(1)} h in the phase, green for ${(gates.greenForSeconds / 3600).toFixed(1)} continuous hours.`
          : `Phase 2 exit gate met: ${(gates.inPhaseSeconds / 86400).toFixed(1)} days in the phase, no critical issue for ${((gates.quietForSeconds ?? 0) / 86400).toFixed(1)} days.`,
      details: { checklist: items.map((i) => ({ step: i.step, ok: i.ok, detail: i.detail })) },
    });
    if (from === 1 && !state.baseline) {
      if (state.resources) {
        state.baseline = { ...state.resources, source: 'phase1' };
        addEvidence(state, { step: 'canary.phase1.3', at, verdict: 'ok', summary: 'Memory and CPU baseline captured at the end of phase 1 for comparison in later phases.', details: { memoryBytes: state.resources.memoryBytes, cpuCoresUsed: state.resources.cpuCoresUsed } });
      } else {
        addEvidence(state, { step: 'canary.phase1.3', at, verdict: 'failed', summary: 'No memory/CPU reading was available: no baseline, so abort criterion 3 cannot be evaluated in later phases.' });
      }
    }
    state.phases[state.phases.length - 1].endedAt = at;
    state.phase = (from + 1) as Phase;
    state.phaseStartedAt = at;
    state.phases.push({ phase: state.phase, startedAt: at });
    addEvidence(state, {
      step: state.phase === 2 ? 'canary.phase2.1' : 'canary.phase3.1',
      at,
      verdict: 'human',
      summary:
        state.phase === 2
          ? 'Phase 2 begins: early adopters set PULSE_ENABLE_TRUENAS=true themselves; register each with `canary register-instance`.'
          : 'Phase 3 begins: release the change that flips the PULSE_ENABLE_TRUENAS default to true and record it with `canary record-release`.',
    });
  }

  async function activatePhase1(s: CanaryState, inp: CanaryInput, plan: boolean) {
    const outcomes: Array<{ instance: string; workflowId: string; outcome: 'completed' | 'failed' | 'planned'; message?: string }> = [];
    if (inp.phase1.instances.length === 0) {
      addEvidence(s, { step: 'canary.phase1.1', at: iso(), verdict: 'human', summary: 'No internal instances are listed: set PULSE_ENABLE_TRUENAS=true on the internal/dev instances yourself (or list them with their Enable settings).' });
    }
    await Promise.all(
      inp.phase1.instances.map(async (instance) => {
        const workflowId = `${info.workflowId}-${plan ? 'plan-' : ''}enable-${instance.name}`;
        let outcome: (typeof outcomes)[number] = { instance: instance.name, workflowId, outcome: plan ? 'planned' : 'completed' };
        if (!instance.enable) {
          outcome = { ...outcome, outcome: plan ? 'planned' : 'completed', message: 'no Enable settings: enabled by a person' };
          addEvidence(s, { step: 'canary.phase1.1', at: iso(), verdict: 'human', summary: `${instance.name}: no Enable settings given; set PULSE_ENABLE_TRUENAS=true there yourself.` });
        } else {
          try {
            await executeChild<EnableWorkflow>(ENABLE_WORKFLOW, { workflowId, args: [{ ...instance.enable, plan }], staticSummary: `Canary phase 1: enable TrueNAS on ${instance.name}` });
            addEvidence(s, { step: 'canary.phase1.1', at: iso(), verdict: plan ? 'planned' : 'ok', summary: `${instance.name}: the Enable workflow ${plan ? 'planned the change' : 'completed'} (${workflowId}).`, details: { workflowId } });
          } catch (err) {
            const message = childMessage(err);
            outcome = { ...outcome, outcome: 'failed', message };
            addEvidence(s, { step: 'canary.phase1.1', at: iso(), verdict: 'failed', summary: `${instance.name}: the Enable workflow failed: ${message}`, details: { workflowId } });
          }
        }
        outcomes.push(outcome);
        if (!plan) {
          s.instances.push({ ...instance, phase: 1, registeredBy: inp.startedBy, registeredAt: iso(), enabled: { workflowId, outcome: outcome.outcome, message: outcome.message } });
        }
      }),
    );
    return outcomes;
  }

  async function abortRollout(why: { criterion: AbortCriterion; reason: string; actor?: string }): Promise<CanaryResult> {
    const at = iso();
    state.status = 'rolling-back';
    publish();
    const record: AbortRecord = { criterion: why.criterion, reason: why.reason, at, phase: state.phase, actor: why.actor };
    state.abort = record;
    addEvidence(state, {
      step: why.criterion.startsWith('canary.abort.') ? (why.criterion as Evidence['step']) : stepOfPhase(state.phase),
      at,
      verdict: 'failed',
      summary: `Abort in phase ${state.phase}: ${why.reason}. Running the phase's rollback.`,
    });
    record.rollback = state.phase === 3 ? await revertDefaultOn() : await disableInstances();
    state.status = 'aborted';
    publish();
    await condition(allHandlersFinished);
    return result('aborted');
  }

  async function disableInstances(): Promise<RollbackRecord> {
    const step = state.phase === 1 ? 'canary.phase1.5' : 'canary.phase2.5';
    const rollback: RollbackRecord = { step, children: [], humanSteps: [] };
    await Promise.all(
      state.instances.map(async (instance) => {
        if (!instance.disable) {
          const ask = `${instance.name}: unset PULSE_ENABLE_TRUENAS (or set it to false) and restart Pulse${instance.contact ? ` (ask ${instance.contact})` : ''}`;
          rollback.humanSteps.push(ask);
          addEvidence(state, { step, at: iso(), verdict: 'human', summary: ask });
          return;
        }
        const workflowId = `${info.workflowId}-rollback-disable-${instance.name}`;
        try {
          await executeChild<DisableWorkflow>(DISABLE_WORKFLOW, { workflowId, args: [instance.disable], staticSummary: `Canary rollback: disable TrueNAS on ${instance.name}` });
          rollback.children.push({ instance: instance.name, workflowType: DISABLE_WORKFLOW, workflowId, outcome: 'completed' });
          addEvidence(state, { step, at: iso(), verdict: 'ok', summary: `${instance.name}: the Disable workflow completed (${workflowId}).`, details: { workflowId } });
        } catch (err) {
          const message = childMessage(err);
          rollback.children.push({ instance: instance.name, workflowType: DISABLE_WORKFLOW, workflowId, outcome: 'failed', message });
          addEvidence(state, { step, at: iso(), verdict: 'failed', summary: `${instance.name}: the Disable workflow failed: ${message}; disable it by hand.`, details: { workflowId } });
        }
      }),
    );
    return rollback;
  }

  async function revertDefaultOn(): Promise<RollbackRecord> {
    const step = 'canary.phase3.5';
    const rollback: RollbackRecord = { step, children: [], humanSteps: [] };
    const release = state.release;
    if (!release?.rollback) {
      const ask = release
        ? `revert the default-on commit ${release.commit} (release ${release.version}) and release a patch`
        : 'no default-on release was recorded: find the commit that flipped the default, revert it and release a patch';
      rollback.humanSteps.push(ask);
      addEvidence(state, { step, at: iso(), verdict: 'human', summary: ask });
      return rollback;
    }
    const workflowId = `${info.workflowId}-rollback-revert-${release.commit.slice(0, 12)}`;
    try {
      await executeChild<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, { workflowId, args: [release.rollback], staticSummary: `Canary rollback: revert the default-on commit ${release.commit}` });
      rollback.children.push({ workflowType: CODE_ROLLBACK_WORKFLOW, workflowId, outcome: 'completed' });
      addEvidence(state, { step, at: iso(), verdict: 'ok', summary: `The Code Rollback of ${release.commit} completed (${workflowId}).`, details: { workflowId } });
    } catch (err) {
      const message = childMessage(err);
      rollback.children.push({ workflowType: CODE_ROLLBACK_WORKFLOW, workflowId, outcome: 'failed', message });
      addEvidence(state, { step, at: iso(), verdict: 'failed', summary: `The Code Rollback of ${release.commit} failed: ${message}`, details: { workflowId } });
    }
    rollback.humanSteps.push(`release a patch with the revert of ${release.commit}`);
    addEvidence(state, { step, at: iso(), verdict: 'human', summary: `Release a patch with the revert of ${release.commit}.` });
    return rollback;
  }

  async function completeRollout(): Promise<CanaryResult> {
    state.status = 'completed';
    addEvidence(state, { step: 'canary.phase3.2', at: state.completed!.at, verdict: 'ok', summary: `${state.completed!.by} completed the rollout: TrueNAS is default-on${state.completed!.comment ? `; ${state.completed!.comment}` : ''}.` });
    publish();
    await condition(allHandlersFinished);
    return result('completed');
  }

  function result(outcome: CanaryResult['outcome'], planned?: CanaryResult['planned']): CanaryResult {
    return {
      procedure: 'canary-rollout',
      plan: input.plan,
      rollout: input.rollout,
      outcome,
      startedAt: state.rolloutStartedAt,
      finishedAt: iso(),
      phase: state.phase,
      abort: state.abort,
      completed: state.completed,
      ...(planned ? { planned } : {}),
      evidence: state.evidence,
    };
  }
}

function stepOfPhase(phase: Phase): Evidence['step'] {
  return phase === 1 ? 'canary.phase1.3' : phase === 2 ? 'canary.phase2.3' : 'canary.phase3.4';
}

function resetClockForPause(state: CanaryState, at: string, actor: string): void {
  const since = state.greenClock.since;
  if (!since) return;
  const greenForSeconds = (Date.parse(at) - Date.parse(since)) / 1000;
  state.greenClock.resets.push({ at, reason: `monitoring paused by ${actor}`, checks: [], greenForSeconds });
  state.greenClock.resetCount += 1;
  state.greenClock.since = undefined;
}

function childMessage(err: unknown): string {
  let inner: unknown = err;
  while ((inner instanceof ChildWorkflowFailure || inner instanceof ActivityFailure) && inner.cause) inner = inner.cause;
  if (inner instanceof ApplicationFailure) return `${inner.type ? `${inner.type}: ` : ''}${inner.message}`;
  return inner instanceof Error ? inner.message : String(inner);
}
