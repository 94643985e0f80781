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
 *
 * Rollouts that begin with this code (patch `canary-fleet`, issue 17) carry a fleet: the instances are enabled in
 * waves of child Enables (fleet.waves.concurrency) inside the monitoring loop, against an error budget; with
 * fleet.instanceLabel every checkpoint is also evaluated per instance and an instance that breaks one is disabled on
 * its own (a child Disable) and left out of the fleet-wide queries; the checks fall on a fixed grid (rollout start +
 * k x checkEverySeconds) and are evaluated at the grid time, so `canary simulate` replays the same verdicts at the
 * same times; the rollback disables in waves too; before continuing as new the run lets its children finish, and it
 * also continues as new when its history grows large. Runs of rollouts begun before keep the older path (their state
 * has no `fleet`), so they replay as recorded.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as prometheusActivities from '../activities/prometheus.js';
import {
  CANARY_UPDATE_SCHEMAS,
  CanaryInputSchema,
  type CanaryInput,
  type CanaryUpdateRequest,
  type CanaryInputRaw,
  type Phase,
} from '../src/config/canary.js';
import { applyCheckpoint, checksFor, inputBaseline, PASSING_SERIES_KEPT } from '../src/canary/checkpoints.js';
import { checklist, gateStatus, missingItems } from '../src/canary/checklist.js';
import { CANARY_FAILURES } from '../src/canary/failure-types.js';
import type { CanaryResult } from '../src/canary/result.js';
import {
  applyDisableOutcome,
  applyEnableOutcome,
  budgetAbort,
  childIds,
  countsText,
  definitionOf,
  disableSettings,
  enableSettings,
  excludedNames,
  finishWaveIfDone,
  fleetCounts,
  initialFleet,
  judgedMembers,
  nextWave,
  setMemberState,
  startWave,
} from '../src/canary/fleet.js';
import { applyCycle } from '../src/canary/cycle.js';
import { INSTANCE_CHECKS } from '../src/canary/instance-gates.js';
import { movePhase, readyForSignOff } from '../src/canary/phases.js';
import { instanceDetail, statusOf, waitingFor, type CanaryStatus } from '../src/canary/status.js';
import * as people from '../src/canary/people.js';
import {
  addEvidence,
  initialState,
  type AbortCriterion,
  type AbortRecord,
  type CanaryState,
  type FleetMember,
  type RollbackRecord,
} from '../src/canary/state.js';
import { instanceSettings } from '../src/config/canary.js';
import type { Evaluation } from '../src/prometheus/alert-state.js';
import type { Evidence } from '../src/runbook/evidence.js';
import type { z } from 'zod';
import {
  CANARY_UPDATES,
  canaryInstanceQuery,
  canaryStatusQuery,
  type CanaryUpdateName,
  type CanaryUpdateResult,
} from './canary-rollout.messages.js';
import { CODE_ROLLBACK_WORKFLOW, type CodeRollbackWorkflow } from './code-rollback.messages.js';
import { DISABLE_WORKFLOW, type DisableWorkflow } from './disable.messages.js';
import { ENABLE_WORKFLOW, type EnableWorkflow } from './enable.messages.js';
import { evaluateOrInconclusive } from './support/evaluate-checks.js';
import { parseWorkflowInput } from './support/parse-input.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../src/config/retry.js';
import { keywordAttributes } from '../src/temporal/search-attributes.js';

export type { CanaryResult, CanaryStatus };

const iso = (ms = Date.now()) => new Date(ms).toISOString();
/** The patch of issue 17: fleets, waves, per-instance gates, checks on a fixed grid. */
export const FLEET_PATCH = 'canary-fleet';
/**
 * Continue as new well before Temporal's warnings (10,240 events, 10 MB): room for a last wave and a whole fleet's
 * rollback (a child is about 6 events with its workflow tasks) in the same run, and a history a client fetches within
 * gRPC's default 4 MB message (each check of 500 instances writes about 15 KB).
 */
export const RUN_HISTORY_LIMITS = { events: 6000, bytes: 2 * 1024 * 1024 } as const;

export async function canaryRollout(raw: CanaryInputRaw): Promise<CanaryResult> {
  const input: CanaryInput = parseWorkflowInput(CanaryInputSchema, raw, 'canary rollout', CANARY_FAILURES.invalidInput);
  const info = workflowInfo();
  const state: CanaryState = (input.state as CanaryState | undefined) ?? initialState(iso());
  if (input.state) state.runs += 1;
  // Rollouts that begin with this code take the fleet path; runs of older rollouts (no fleet in their state) keep theirs.
  const fleetPath = input.state ? !!state.fleet : patched(FLEET_PATCH);
  if (fleetPath) state.fleet ??= initialFleet(input, Date.parse(state.rolloutStartedAt));
  let runCycles = 0;
  let wake = false;
  let nextCheckAt = state.fleet ? state.fleet.nextCheckAt : Date.now();
  /** Fleet path: the child Enables and Disables in flight, by kind and instance. */
  const children = new Map<string, Promise<void>>();
  /** Fleet path: a continue-as-new is due; no new child starts until those in flight have finished. */
  let draining = false;
  /** The abort to run; `at` is the check that called for it (else the abort runs at the time it is taken). */
  let pendingAbort: { criterion: AbortCriterion; reason: string; actor?: string; at?: number } | undefined;
  const noticedOverdue = new Set(
    state.evidence.filter((e) => e.step === 'canary.phase2.3' && e.details?.overdue).map((e) => String(e.details?.overdue)),
  );

  /** The Prometheus activity, its summary in the UI naming the runbook step of the current phase. */
  const prometheus = () =>
    proxyActivities<typeof prometheusActivities>({
      startToCloseTimeout: `${Math.ceil((2 * input.prometheus.timeoutMs) / 1000) + 10} seconds`,
      // The activity heartbeats while it runs: a lost worker is noticed after this, not the whole timeout.
      heartbeatTimeout: `${input.retry.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS} seconds`,
      retry: {
        maximumAttempts: input.retry.maximumAttempts,
        initialInterval: `${input.retry.initialIntervalSeconds} seconds`,
        maximumInterval: `${input.retry.maximumIntervalSeconds} seconds`,
      },
      summary: `${stepOfPhase(state.phase)}: phase ${state.phase} metric checkpoint`,
    });

  // --- search attributes: findable by procedure, status and phase in the Web UI ----------------------------------
  let published = '';
  const publish = () => {
    // The UI's "current details": what the run waits for now, in the runbook's words (and the fleet, counted).
    const fleet = state.fleet?.members.length ? ` Fleet: ${countsText(fleetCounts(state))}.` : '';
    setCurrentDetails(`Phase ${state.phase}, ${state.status}.${fleet} Waiting for: ${waitingFor(state, input, Date.now())}`);
    const word = input.plan ? 'planning' : state.status;
    const key = `${word}/${state.phase}`;
    if (key === published) return;
    published = key;
    // The typed form (the record form is deprecated); replay compares the upsert command, not its values.
    upsertSearchAttributes(
      keywordAttributes({ RunbookProcedure: 'canary-rollout', RunbookStatus: word, CanaryPhase: `phase-${state.phase}` }),
    );
  };
  publish();

  // --- people: updates with validators (refusals name the reason), and the status query --------------------------
  const refuse = (reason: string | undefined) => {
    if (reason) throw ApplicationFailure.create({ message: reason, type: CANARY_FAILURES.refused, nonRetryable: true });
  };
  /** Registers an update whose payload is parsed by its schema (CANARY_UPDATE_SCHEMAS) in the validator and again in the handler. */
  const onUpdate = <N extends CanaryUpdateName>(
    name: N,
    rule: (req: CanaryUpdateRequest<N>) => string | undefined,
    apply: (req: CanaryUpdateRequest<N>) => CanaryUpdateResult<N>,
  ) => {
    type Req = CanaryUpdateRequest<N>;
    const schema = CANARY_UPDATE_SCHEMAS[name] as z.ZodType as z.ZodType<Req>;
    const parse = (payload: unknown): Req => {
      const parsed = schema.safeParse(payload);
      if (!parsed.success)
        refuse(`invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`);
      return (parsed as { data: Req }).data;
    };
    // Every payload names its actor; unknown actors are refused before the update's own rule.
    const check = (req: Req) => people.refuseUnknownActor(input, (req as { actor: string }).actor) ?? rule(req);
    setHandler(
      CANARY_UPDATES[name] as never,
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

  onUpdate(
    'signOff',
    (r) => people.refuseSignOff(state, input, r, Date.now()),
    (r) => people.applySignOff(state, input, r, Date.now()),
  );
  onUpdate(
    'abort',
    (r) => people.refuseAbort(state, r),
    (r) => {
      pendingAbort ??= { criterion: 'manual', reason: `aborted by ${r.actor}: ${r.reason}`, actor: r.actor };
      return { accepted: true as const, at: iso() };
    },
  );
  onUpdate(
    'reportIssue',
    () => people.refuseReportIssue(state),
    (r) => {
      const issue = people.applyReportIssue(state, input, r, Date.now());
      const burst = people.criticalBurst(state, input);
      if (burst) pendingAbort ??= { criterion: 'canary.abort.5', reason: burst, actor: r.actor };
      return issue;
    },
  );
  onUpdate(
    'triageIssue',
    (r) => people.refuseTriage(state, r),
    (r) => people.applyTriage(state, r, Date.now()),
  );
  onUpdate(
    'resolveIssue',
    (r) => people.refuseResolve(state, r),
    (r) => people.applyResolve(state, r, Date.now()),
  );
  onUpdate(
    'reportDataCorruption',
    (r) => people.refuseDataCorruption(state, r),
    (r) => {
      addEvidence(state, {
        step: 'canary.abort.2',
        at: iso(),
        verdict: 'failed',
        summary: `${r.actor} reported data corruption or cross-platform interference${r.instance ? ` on ${r.instance}` : ''}: ${r.description}`,
      });
      pendingAbort ??= {
        criterion: 'canary.abort.2',
        reason: `data corruption or cross-platform interference reported by ${r.actor}: ${r.description}`,
        actor: r.actor,
      };
      return { accepted: true as const, at: iso() };
    },
  );
  onUpdate(
    'confirmStagingRollback',
    () => people.refuseStagingRollback(state),
    (r) => {
      people.applyStagingRollback(state, r, Date.now());
      return checklist(state, input, Date.now());
    },
  );
  onUpdate(
    'registerInstance',
    (r) => people.refuseRegisterInstance(state, r, input),
    (r) => {
      people.applyRegisterInstance(state, r, Date.now(), input);
      if (!state.fleet) return { instances: state.instances.map((i) => i.name) };
      // A fleet may hold hundreds: the newest few, and how many there are.
      const members = state.fleet.members;
      return { instances: members.slice(-20).map((m) => m.name), total: members.length };
    },
  );
  onUpdate(
    'recordDefaultOnRelease',
    (r) => people.refuseRelease(state, r),
    (r) => {
      people.applyRelease(state, r, Date.now());
      return { version: r.version, commit: r.commit };
    },
  );
  onUpdate(
    'pauseMonitoring',
    () => people.refusePause(state),
    (r) => {
      const at = iso();
      state.pause = { by: r.actor, at, reason: r.reason };
      state.status = 'paused';
      addEvidence(state, {
        step: stepOfPhase(state.phase),
        at,
        verdict: 'human',
        summary: `${r.actor} paused monitoring: ${r.reason}. The green clock stops; abort by hand still works.`,
      });
      resetClockForPause(state, at, r.actor);
      return { paused: true as const, at };
    },
  );
  onUpdate(
    'resumeMonitoring',
    () => people.refuseResume(state),
    (r) => {
      const at = iso();
      addEvidence(state, {
        step: stepOfPhase(state.phase),
        at,
        verdict: 'human',
        summary: `${r.actor} resumed monitoring (paused since ${state.pause!.at})${r.note ? `: ${r.note}` : ''}.`,
      });
      state.pause = undefined;
      state.status = 'monitoring';
      nextCheckAt = Date.now();
      return { paused: false as const, at };
    },
  );
  onUpdate(
    'complete',
    (r) => people.refuseComplete(state, input, r.actor),
    (r) => {
      state.completed = { by: r.actor, at: iso(), comment: r.comment };
      return { completed: true as const, at: state.completed.at };
    },
  );

  setHandler(canaryStatusQuery, () => statusOf(state, input, info.workflowId, runCycles, nextCheckAt));
  setHandler(canaryInstanceQuery, (name: string) => instanceDetail(state, input, info.workflowId, name));

  // --- plan mode ------------------------------------------------------------------------------------------------
  if (input.plan) {
    const enable = await activatePhase1(state, input, true);
    const evaluation = fleetPath ? await evaluateAt(Date.now()) : await evaluate();
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
      addEvidence(state, {
        step: 'canary.phase1.3',
        at: iso(),
        verdict: 'ok',
        summary: 'Resource baseline given with the rollout (measured before it).',
        details: { ...input.baseline },
      });
    }
    if (fleetPath) {
      // The instances are enabled in waves by the loop below, while the checks run.
      if (input.phase1.instances.length === 0) noteNoInternalInstances(state);
      for (const m of state.fleet!.members.filter((x) => x.manual)) noteManualEnable(state, m.name);
    } else {
      const enabled = await activatePhase1(state, input, false);
      const failed = enabled.filter((e) => e.outcome === 'failed');
      if (failed.length)
        pendingAbort ??= {
          criterion: 'activation-failed',
          reason: `phase 1 activation failed on ${failed.map((f) => f.instance).join(', ')}`,
        };
    }
    state.status = 'monitoring';
    publish();
  }

  // --- the monitoring loop ----------------------------------------------------------------------------------------
  for (;;) {
    if (fleetPath) {
      // Fleet path: an abort is a state of the loop (its rollback runs in waves, and may continue as new).
      if (pendingAbort && !state.abort) await beginAbort(pendingAbort);
      if (state.abort) {
        if (rollbackDone()) return await finishAbort();
        if (!draining) startRollbackWave();
      }
    } else if (pendingAbort) return await abortRollout(pendingAbort);
    if (state.completed) {
      await condition(() => children.size === 0);
      return await completeRollout();
    }

    if (fleetPath && !state.abort) {
      if (!draining && !state.pause) startNextWave();
      const spent = budgetAbort(state, input);
      if (spent) {
        pendingAbort ??= spent;
        continue;
      }
    }

    if (!state.abort && !state.pause && Date.now() >= nextCheckAt) {
      let outcome: ReturnType<typeof applyCheckpoint> | undefined;
      if (fleetPath) {
        // On the grid, evaluated at the grid time, through the same cycle `canary simulate` applies (checkpoint, the
        // instances on their own, the budget, the gate): the simulation replays the same verdicts at the same instants.
        const checkAt = nextCheckAt;
        const cycle = applyCycle(state, input, await evaluateAt(checkAt), checkAt, readyForSignOff);
        for (const member of cycle.broke) startOwnDisable(member);
        if (cycle.abort) pendingAbort ??= { ...cycle.abort, at: checkAt };
        const every = input.checkEverySeconds * 1000;
        nextCheckAt = checkAt + every * Math.max(1, Math.ceil((Date.now() - checkAt) / every));
        state.fleet!.nextCheckAt = nextCheckAt;
      } else {
        outcome = applyCheckpoint(state, input, await evaluate(), Date.now());
        nextCheckAt = Date.now() + input.checkEverySeconds * 1000;
      }
      runCycles += 1;
      if (outcome?.abort) pendingAbort ??= outcome.abort;
      if (pendingAbort) continue;
    }
    if (!state.abort) {
      noteOverdueTriage();
      if (state.phase < 3 && !state.pause) {
        const items = checklist(state, input, Date.now());
        if (missingItems(items).length === 0) movePhase(state, input, items, Date.now());
      }
    }
    publish();

    const run = workflowInfo();
    const historyFull = fleetPath && (run.historyLength >= RUN_HISTORY_LIMITS.events || run.historySize >= RUN_HISTORY_LIMITS.bytes);
    if (runCycles >= input.cyclesPerRun || run.continueAsNewSuggested || historyFull) {
      // Children in flight finish in this run (a child outlives no parent run), then updates in flight; the state
      // they changed goes to the next run.
      draining = true;
      if (children.size === 0) {
        await condition(allHandlersFinished);
        if (children.size === 0 && !(pendingAbort && !state.abort) && !state.completed) {
          await continueAsNew<typeof canaryRollout>({ ...raw, state });
        }
        continue;
      }
    }

    wake = false;
    const waitMs = Math.max(0, nextCheckAt - Date.now());
    if (state.pause || state.abort) await condition(() => wake || (!!pendingAbort && !state.abort));
    else
      await condition(() => wake || !!pendingAbort, waitMs, {
        summary: `${stepOfPhase(state.phase)}: next checkpoint in ${input.checkEverySeconds} s`,
      });
  }

  // --- the steps, as closures over the run's state ----------------------------------------------------------------

  /** What every evaluation asks: this phase's checks, on this rollout's Prometheus, windows and job. */
  function phaseChecks() {
    return {
      prometheus: input.prometheus,
      checks: checksFor(input, state.phase),
      windows: input.windows,
      job: input.pulseJob,
      maxPassingSeries: PASSING_SERIES_KEPT,
    };
  }

  async function evaluate(): Promise<Evaluation> {
    return evaluateOrInconclusive(prometheus(), phaseChecks());
  }

  /** Fleet path: the checks at a given time; fleet-wide without the instances taken out, and per instance. */
  async function evaluateAt(atMs: number): Promise<Evaluation> {
    const label = input.fleet.instanceLabel;
    const out = excludedNames(state);
    const judged = judgedMembers(state).map((m) => m.name);
    return evaluateOrInconclusive(prometheus(), {
      ...phaseChecks(),
      queries: 'not-passing',
      time: atMs / 1000,
      ...(label && out.length ? { exclude: { label, values: out } } : {}),
      ...(label && judged.length ? { perInstance: { label, checks: [...INSTANCE_CHECKS], expected: judged } } : {}),
    });
  }

  // --- fleet path: children in waves ------------------------------------------------------------------------------

  /** Runs a child in the background; its outcome is applied when it ends, and the loop wakes. */
  function startChild(
    key: string,
    run: () => Promise<unknown>,
    done: (outcome: { ok: true } | { ok: false; message: string }) => void,
  ): void {
    const running = run().then(
      () => done({ ok: true }),
      (err: unknown) => done({ ok: false, message: childMessage(err) }),
    );
    children.set(
      key,
      running.finally(() => {
        children.delete(key);
        wake = true;
      }),
    );
  }

  function startNextWave(): void {
    const wave = nextWave(state, input);
    if (!wave.length) return;
    const number = startWave(state, wave, Date.now());
    for (const member of wave) {
      const workflowId = childIds(info.workflowId, member.name).enable;
      startChild(
        `enable:${member.name}`,
        () =>
          executeChild<EnableWorkflow>(ENABLE_WORKFLOW, {
            workflowId,
            args: [{ ...enableSettings(input, member)!, plan: false }],
            staticSummary: `Canary phase ${member.phase}, wave ${number}: enable TrueNAS on ${member.name}`,
          }),
        (outcome) => {
          applyEnableOutcome(state, member.name, outcome, Date.now(), workflowId);
          finishWaveIfDone(state, input, Date.now(), info.workflowId);
        },
      );
    }
    publish();
  }

  /** Runs a member's Disable child in the background (its own checkpoint broke, or the rollback). */
  function startDisable(
    key: string,
    member: FleetMember,
    child: { workflowId: string; staticSummary: string },
    done: Parameters<typeof startChild>[2],
  ): void {
    startChild(
      key,
      () =>
        executeChild<DisableWorkflow>(DISABLE_WORKFLOW, {
          workflowId: child.workflowId,
          args: [disableSettings(input, member)!],
          staticSummary: child.staticSummary,
        }),
      done,
    );
  }

  /** An instance broke its own checkpoint: its Disable runs now, whatever the waves do. */
  function startOwnDisable(member: FleetMember): void {
    const workflowId = childIds(info.workflowId, member.name).disable;
    const step = member.phase === 1 ? 'canary.phase1.5' : 'canary.phase2.5';
    startDisable(
      `disable:${member.name}`,
      member,
      { workflowId, staticSummary: `Canary: disable TrueNAS on ${member.name}, which broke its own checkpoint` },
      (outcome) => {
        applyDisableOutcome(state, member.name, outcome, Date.now());
        addEvidence(state, {
          step,
          at: iso(),
          verdict: outcome.ok ? 'ok' : 'failed',
          summary: outcome.ok
            ? `${member.name}: its Disable completed (${workflowId}).`
            : `${member.name}: its Disable failed: ${outcome.message}; disable it by hand.`,
          details: { workflowId },
        });
      },
    );
  }

  async function beginAbort(why: { criterion: AbortCriterion; reason: string; actor?: string; at?: number }): Promise<void> {
    const at = iso(why.at);
    state.status = 'rolling-back';
    const record: AbortRecord = { criterion: why.criterion, reason: why.reason, at, phase: state.phase, actor: why.actor };
    state.abort = record;
    publish();
    addEvidence(state, {
      step: why.criterion.startsWith('canary.abort.') ? (why.criterion as Evidence['step']) : stepOfPhase(state.phase),
      at,
      verdict: 'failed',
      summary: `Abort in phase ${state.phase}: ${why.reason}. Running the phase's rollback.`,
    });
    if (state.phase === 3) {
      record.rollback = await revertDefaultOn();
      return;
    }
    const step = state.phase === 1 ? 'canary.phase1.5' : 'canary.phase2.5';
    record.rollback = { step, children: [], humanSteps: [] };
    for (const m of state.fleet!.members) {
      if (m.state === 'pending') setMemberState(m, 'pending', Date.now(), 'not started: the rollout aborted');
      if (m.state !== 'pending' && m.state !== 'disabled' && !disableSettings(input, m)) {
        const contact = definitionOf(input, m).contact;
        const ask = `${m.name}: unset PULSE_ENABLE_TRUENAS (or set it to false) and restart Pulse${contact ? ` (ask ${contact})` : ''}`;
        record.rollback.humanSteps.push(ask);
        m.attention = true;
        addEvidence(state, { step, at, verdict: 'human', summary: ask });
      }
    }
  }

  /** Members the rollback still has to disable: on (or half-on), with Disable settings, not tried yet. */
  function rollbackQueue(): FleetMember[] {
    const tried = new Set(state.abort?.rollback?.children.map((c) => c.instance));
    return state.fleet!.members.filter(
      (m) => !tried.has(m.name) && (m.state === 'enabled' || m.state === 'green' || m.state === 'failing') && !!disableSettings(input, m),
    );
  }

  function rollbackDone(): boolean {
    return state.phase === 3 ? children.size === 0 : children.size === 0 && rollbackQueue().length === 0;
  }

  function startRollbackWave(): void {
    if (state.phase === 3) return;
    const rollback = state.abort!.rollback!;
    const room = input.fleet.waves.concurrency - [...children.keys()].filter((k) => k.startsWith('rollback:')).length;
    for (const member of rollbackQueue().slice(0, Math.max(0, room))) {
      const workflowId = childIds(info.workflowId, member.name).rollback;
      setMemberState(member, 'disabling', Date.now());
      startDisable(
        `rollback:${member.name}`,
        member,
        { workflowId, staticSummary: `Canary rollback: disable TrueNAS on ${member.name}` },
        (outcome) => {
          rollback.children.push({
            instance: member.name,
            workflowType: 'disable',
            workflowId,
            outcome: outcome.ok ? 'completed' : 'failed',
            ...(outcome.ok ? {} : { message: outcome.message }),
          });
          applyDisableOutcome(state, member.name, outcome, Date.now());
          if (!outcome.ok) {
            addEvidence(state, {
              step: rollback.step,
              at: iso(),
              verdict: 'failed',
              summary: `${member.name}: the Disable workflow failed: ${outcome.message}; disable it by hand.`,
              details: { workflowId },
            });
          }
        },
      );
    }
  }

  async function finishAbort(): Promise<CanaryResult> {
    const rollback = state.abort!.rollback;
    if (rollback && state.phase < 3) {
      const done = rollback.children.filter((c) => c.outcome === 'completed').length;
      const failed = rollback.children.filter((c) => c.outcome === 'failed');
      addEvidence(state, {
        step: rollback.step,
        at: iso(),
        verdict: failed.length ? 'failed' : 'ok',
        summary: `Rollback: ${done} Disable run(s) completed${
          failed.length
            ? `, ${failed.length} failed (${failed
                .slice(0, 10)
                .map((c) => c.instance)
                .join(', ')})`
            : ''
        }; ${rollback.humanSteps.length} instance(s) to disable by hand.`,
      });
    }
    state.status = 'aborted';
    publish();
    await condition(allHandlersFinished);
    return result('aborted');
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

  /** An instance without Enable settings: a person enables it (phase 1, item 1). */
  function noteManualEnable(s: CanaryState, name: string): void {
    addEvidence(s, {
      step: 'canary.phase1.1',
      at: iso(),
      verdict: 'human',
      summary: `${name}: no Enable settings given; set PULSE_ENABLE_TRUENAS=true there yourself.`,
    });
  }

  async function activatePhase1(s: CanaryState, inp: CanaryInput, plan: boolean) {
    const outcomes: Array<{ instance: string; workflowId: string; outcome: 'completed' | 'failed' | 'planned'; message?: string }> = [];
    if (inp.phase1.instances.length === 0) noteNoInternalInstances(s);
    // The older path starts every Enable at once; a fleet plans its Enables in waves, with the template filled in.
    const settingsOf = (instance: (typeof inp.phase1.instances)[number]) =>
      fleetPath ? instanceSettings(inp.fleet, instance, 'enable') : instance.enable;
    const wave = fleetPath ? inp.fleet.waves.concurrency : Math.max(1, inp.phase1.instances.length);
    for (let first = 0; first < inp.phase1.instances.length; first += wave) {
      await Promise.all(
        inp.phase1.instances.slice(first, first + wave).map(async (instance) => {
          const workflowId = `${info.workflowId}-${plan ? 'plan-' : ''}enable-${instance.name}`;
          let outcome: (typeof outcomes)[number] = { instance: instance.name, workflowId, outcome: plan ? 'planned' : 'completed' };
          const settings = settingsOf(instance);
          if (!settings) {
            outcome = { ...outcome, outcome: plan ? 'planned' : 'completed', message: 'no Enable settings: enabled by a person' };
            noteManualEnable(s, instance.name);
          } else {
            try {
              await executeChild<EnableWorkflow>(ENABLE_WORKFLOW, {
                workflowId,
                args: [{ ...settings, plan }],
                staticSummary: `Canary phase 1: enable TrueNAS on ${instance.name}`,
              });
              addEvidence(s, {
                step: 'canary.phase1.1',
                at: iso(),
                verdict: plan ? 'planned' : 'ok',
                summary: `${instance.name}: the Enable workflow ${plan ? 'planned the change' : 'completed'} (${workflowId}).`,
                details: { workflowId },
              });
            } catch (err) {
              const message = childMessage(err);
              outcome = { ...outcome, outcome: 'failed', message };
              addEvidence(s, {
                step: 'canary.phase1.1',
                at: iso(),
                verdict: 'failed',
                summary: `${instance.name}: the Enable workflow failed: ${message}`,
                details: { workflowId },
              });
            }
          }
          outcomes.push(outcome);
          if (!plan) {
            s.instances.push({
              ...instance,
              phase: 1,
              registeredBy: inp.startedBy,
              registeredAt: iso(),
              enabled: { workflowId, outcome: outcome.outcome, message: outcome.message },
            });
          }
        }),
      );
    }
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
          await executeChild<DisableWorkflow>(DISABLE_WORKFLOW, {
            workflowId,
            args: [instance.disable],
            staticSummary: `Canary rollback: disable TrueNAS on ${instance.name}`,
          });
          rollback.children.push({ instance: instance.name, workflowType: DISABLE_WORKFLOW, workflowId, outcome: 'completed' });
          addEvidence(state, {
            step,
            at: iso(),
            verdict: 'ok',
            summary: `${instance.name}: the Disable workflow completed (${workflowId}).`,
            details: { workflowId },
          });
        } catch (err) {
          const message = childMessage(err);
          rollback.children.push({ instance: instance.name, workflowType: DISABLE_WORKFLOW, workflowId, outcome: 'failed', message });
          addEvidence(state, {
            step,
            at: iso(),
            verdict: 'failed',
            summary: `${instance.name}: the Disable workflow failed: ${message}; disable it by hand.`,
            details: { workflowId },
          });
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
      await executeChild<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
        workflowId,
        args: [release.rollback],
        staticSummary: `Canary rollback: revert the default-on commit ${release.commit}`,
      });
      rollback.children.push({ workflowType: CODE_ROLLBACK_WORKFLOW, workflowId, outcome: 'completed' });
      addEvidence(state, {
        step,
        at: iso(),
        verdict: 'ok',
        summary: `The Code Rollback of ${release.commit} completed (${workflowId}).`,
        details: { workflowId },
      });
    } catch (err) {
      const message = childMessage(err);
      rollback.children.push({ workflowType: CODE_ROLLBACK_WORKFLOW, workflowId, outcome: 'failed', message });
      addEvidence(state, {
        step,
        at: iso(),
        verdict: 'failed',
        summary: `The Code Rollback of ${release.commit} failed: ${message}`,
        details: { workflowId },
      });
    }
    rollback.humanSteps.push(`release a patch with the revert of ${release.commit}`);
    addEvidence(state, { step, at: iso(), verdict: 'human', summary: `Release a patch with the revert of ${release.commit}.` });
    return rollback;
  }

  async function completeRollout(): Promise<CanaryResult> {
    state.status = 'completed';
    addEvidence(state, {
      step: 'canary.phase3.2',
      at: state.completed!.at,
      verdict: 'ok',
      summary: `${state.completed!.by} completed the rollout: TrueNAS is default-on${state.completed!.comment ? `; ${state.completed!.comment}` : ''}.`,
    });
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

function noteNoInternalInstances(state: CanaryState): void {
  addEvidence(state, {
    step: 'canary.phase1.1',
    at: iso(),
    verdict: 'human',
    summary:
      'No internal instances are listed: set PULSE_ENABLE_TRUENAS=true on the internal/dev instances yourself (or list them with their Enable settings).',
  });
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
