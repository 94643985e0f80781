/**
 * The evidence a procedure gathers, step by step, kept in workflow state so a query can show it while the run
 * is waiting and the result carries it at the end. Deterministic: times come from the workflow clock.
 *
 * It is also the run's trail in the Temporal Web UI (issue 6), named after the runbook step under way:
 * - the run's current details (`setCurrentDetails`) say which step it is on and what it waits for;
 * - `activities()` gives activity proxies whose summary names the step each call belongs to;
 * - `timer()` gives the summary of a durable timer in the current step.
 * These are metadata only (user metadata on commands, a query answer): they never change which commands a run
 * issues, so histories recorded without them still replay (test/workflows/replay.test.ts).
 */
import {
  proxyActivities,
  setCurrentDetails,
  setHandler,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type TimerOptions,
} from '@temporalio/workflow';
import type { Evidence, Verdict } from '../../src/runbook/evidence.js';
import { RUNBOOK_STEPS, type StepId } from '../../src/runbook/steps.js';
import { progressQuery } from '../procedure.messages.js';

export interface Progress {
  procedure: string;
  plan: boolean;
  status: 'running' | 'completed' | 'failed';
  /** The step being worked on now, with what the run waits for. */
  current?: { step: StepId; title: string; waitingFor?: string; since: string };
  evidence: Evidence[];
}

/** "kill-switch.3: Wait for syncConnections() on the next poller tick (60 s)": a step as the UI names it. */
export function stepSummary(step: StepId): string {
  return `${step}: ${RUNBOOK_STEPS[step].title}`;
}

function isStepId(value: unknown): value is StepId {
  return typeof value === 'string' && Object.hasOwn(RUNBOOK_STEPS, value);
}

/** The step an activity call names itself (`{ step: 'enable.4', ... }`), when it does. */
function stepOfArgs(args: unknown[]): StepId | undefined {
  const first = args[0];
  if (first === null || typeof first !== 'object') return undefined;
  const step = (first as { step?: unknown }).step;
  return isStepId(step) ? step : undefined;
}

export class EvidenceLog {
  readonly progress: Progress;
  /** Set by the first begin(): a workflow that never begins a step (the incident) keeps its own current details. */
  private publishesDetails = false;
  /** Where the run stopped, for the details of a failed run. */
  private failedAt?: StepId;

  constructor(procedure: string, plan: boolean) {
    this.progress = { procedure, plan, status: 'running', evidence: [] };
    setHandler(progressQuery, () => this.progress);
  }

  /** Marks the step now under way; `waitingFor` says in plain words what the run is waiting on. */
  begin(step: StepId, waitingFor?: string): void {
    this.progress.current = { step, title: RUNBOOK_STEPS[step].title, waitingFor, since: new Date().toISOString() };
    this.publishesDetails = true;
    this.publishDetails();
  }

  add(evidence: Evidence): Evidence {
    const deviation = (RUNBOOK_STEPS[evidence.step] as { deviation?: string }).deviation;
    const entry = deviation && !evidence.deviation ? { ...evidence, deviation } : evidence;
    this.progress.evidence.push(entry);
    return entry;
  }

  /** Records an observation made by the workflow itself (a wait, a decision). */
  note(step: StepId, verdict: Verdict, summary: string, details?: Record<string, unknown>, actions?: Evidence['actions']): Evidence {
    return this.add({ step, at: new Date().toISOString(), verdict, summary, details, actions });
  }

  /** Ends the run's trail; a failed run names the step it stopped at (by default the step under way). */
  finish(status: 'completed' | 'failed', failedAt?: StepId): void {
    this.failedAt = status === 'failed' ? (failedAt ?? this.progress.current?.step) : undefined;
    this.progress.status = status;
    this.progress.current = undefined;
    this.publishDetails();
  }

  /**
   * Activity proxies whose UI summary names the runbook step of each call: the step the call's input names
   * (`step: 'enable.4'`), else the step under way. The SDK fixes a summary per proxy, so a proxy is made per
   * call (a plain object: cheap, and it issues exactly the command the shared proxy would).
   */
  activities<A>(options: ActivityOptions): ActivityInterfaceFor<A> {
    return new Proxy({} as ActivityInterfaceFor<A>, {
      get: (_target, name) => {
        if (typeof name !== 'string') return undefined;
        return (...args: unknown[]) => {
          const step = stepOfArgs(args) ?? this.progress.current?.step;
          const proxy = proxyActivities<Record<string, (...a: unknown[]) => Promise<unknown>>>(
            step ? { ...options, summary: stepSummary(step) } : options,
          );
          return proxy[name](...args);
        };
      },
    });
  }

  /**
   * Options for a durable timer of the current step: its summary is "<step>: <what>", by default "wait for" what
   * begin() said the step waits for, e.g. "kill-switch.3: wait for the next poller tick (60 s)".
   */
  timer(what?: string): TimerOptions {
    const current = this.progress.current;
    if (!current) return {};
    const text = what ?? (current.waitingFor ? `wait for ${current.waitingFor}` : current.title);
    return { summary: `${current.step}: ${text}` };
  }

  /**
   * Options for the timer between two checks of a step that polls (untilObserved), e.g.
   * "kill-switch.5: next check in 10 s, waiting for TrueNAS resources to turn stale or vanish (up to 120 s)".
   */
  pollTimer(everySeconds: number): TimerOptions {
    const waitingFor = this.progress.current?.waitingFor;
    return this.timer(`next check in ${everySeconds} s${waitingFor ? `, waiting for ${waitingFor}` : ''}`);
  }

  /** The run's current details in the Web UI: one or two lines on the step under way, or how the run ended. */
  private publishDetails(): void {
    if (!this.publishesDetails) return;
    setCurrentDetails(this.details());
  }

  private details(): string {
    const { procedure, plan, status, current } = this.progress;
    const name = `${procedure}${plan ? ' (plan: nothing is changed)' : ''}`;
    if (status === 'completed') return `${name} completed: ${this.progress.evidence.length} evidence record(s).`;
    if (status === 'failed')
      return `${name} failed${this.failedAt ? ` at ${stepSummary(this.failedAt)}` : ''}. The failure and the evidence are in the result and the \`progress\` query.`;
    if (!current) return `${name} is starting.`;
    const doing = `${name}, step ${stepSummary(current.step)}`;
    return current.waitingFor
      ? `${doing}\n\nWaiting for ${current.waitingFor} (since ${current.since}).`
      : `${doing} (since ${current.since}).`;
  }
}
