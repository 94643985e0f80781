/**
 * The evidence a procedure gathers, step by step, kept in workflow state so a query can show it while the run
 * is waiting and the result carries it at the end. Deterministic: times come from the workflow clock.
 */
import { defineQuery, setHandler } from '@temporalio/workflow';
import type { Evidence, Verdict } from '../../src/runbook/evidence.js';
import { RUNBOOK_STEPS, type StepId } from '../../src/runbook/steps.js';

export interface Progress {
  procedure: string;
  plan: boolean;
  status: 'running' | 'completed' | 'failed';
  /** The step being worked on now, with what the run waits for. */
  current?: { step: StepId; title: string; waitingFor?: string; since: string };
  evidence: Evidence[];
}

export const progressQuery = defineQuery<Progress>('progress');

export class EvidenceLog {
  readonly progress: Progress;

  constructor(procedure: string, plan: boolean) {
    this.progress = { procedure, plan, status: 'running', evidence: [] };
    setHandler(progressQuery, () => this.progress);
  }

  /** Marks the step now under way; `waitingFor` says in plain words what the run is waiting on. */
  begin(step: StepId, waitingFor?: string): void {
    this.progress.current = { step, title: RUNBOOK_STEPS[step].title, waitingFor, since: new Date().toISOString() };
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

  finish(status: 'completed' | 'failed'): void {
    this.progress.status = status;
    this.progress.current = undefined;
  }
}
