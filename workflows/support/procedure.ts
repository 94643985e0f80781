/**
 * The lifecycle every runbook procedure shares (Enable, Disable, Kill-Switch, Code Rollback, Data Cleanup), in one
 * place so no procedure does it its own way:
 *  1. the input is checked with the procedure's zod schema (defaults filled, every wrong field named) before any
 *     step acts (parse-input.ts);
 *  2. the run is findable: RunbookProcedure, RunbookStatus=running and PulseTarget are upserted;
 *  3. the steps run against one EvidenceLog;
 *  4. on success the log is finished and RunbookStatus says completed (planned for a plan);
 *  5. on failure the step under way records the failure in its evidence (record-failure.ts), the procedure's own
 *     failure work runs (undo, tell the incident), then the log is finished as failed and RunbookStatus says so.
 *
 * The commands issued are exactly those the procedures issued before this helper existed, in the same order, so
 * saved histories replay (test/workflows/replay.test.ts).
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { z } from 'zod';
import type { LineEvidence } from '../../src/pulse/line.js';
import type { Evidence } from '../../src/runbook/evidence.js';
import type { StepId } from '../../src/runbook/steps.js';
import { keywordAttributes } from '../../src/temporal/search-attributes.js';
import { EvidenceLog } from './evidence-log.js';
import { parseWorkflowInput } from './parse-input.js';
import { noteStepFailure } from './record-failure.js';

/** What every procedure's input has: plan mode and the Pulse it acts on. */
export interface ProcedureInput {
  plan: boolean;
  pulse: { url: string };
}

export interface ProcedureDefinition<I extends ProcedureInput, P extends string = string> {
  /** The name in evidence, search attributes and the UI: 'kill-switch'. */
  procedure: P;
  /** Checks the raw input (parseWorkflowInput with the procedure's schema) and returns it with defaults filled. */
  parse: (raw: unknown) => I;
}

/** A definition that parses with `schema`, refusing bad input as `invalidInputType` and naming it `inputName`. */
export function procedureDefinition<S extends z.ZodType<ProcedureInput>, P extends string>(
  procedure: P,
  schema: S,
  invalidInputType: string,
  inputName: string = procedure,
): ProcedureDefinition<z.infer<S>, P> {
  return { procedure, parse: (raw) => parseWorkflowInput(schema, raw, inputName, invalidInputType) };
}

/** The fields every procedure's result starts with; `evidence` is the log's own list, filled as the run goes. */
export interface ProcedureResultBase<P extends string> {
  procedure: P;
  plan: boolean;
  pulseUrl: string;
  startedAt: string;
  finishedAt: string;
  evidence: Evidence[];
}

/** What a procedure's steps get: its checked input, its evidence log, its result's first fields, and its Pulse. */
export interface ProcedureRun<I extends ProcedureInput, P extends string> {
  input: I;
  log: EvidenceLog;
  base: ProcedureResultBase<P>;
  /** The Pulse and plan mode every Pulse activity takes; the line the first step tells is kept here and passed on,
   *  so later steps name it without asking again. */
  target: { pulse: I['pulse']; plan: boolean; line?: LineEvidence };
}

export interface ProcedureSteps<R> {
  /** The result the steps fill in; returned with `finishedAt` set when they complete. */
  result: R;
  steps: () => Promise<void>;
  /**
   * The procedure's own work once a step failed (its failure is already in that step's evidence), before the run
   * is marked failed: undo what was changed, tell the incident record. Returns the error the run fails with
   * (by default the step's own).
   */
  onFailure?: (err: unknown, failedStep: StepId | undefined) => Promise<unknown>;
}

/**
 * Runs a procedure through the shared lifecycle. `prepare` builds the result and the steps from the checked
 * input (activity proxies are made there: they issue no command).
 */
export async function runProcedure<I extends ProcedureInput, P extends string, R extends { finishedAt: string }>(
  definition: ProcedureDefinition<I, P>,
  raw: unknown,
  prepare: (run: ProcedureRun<I, P>) => ProcedureSteps<R>,
): Promise<R> {
  const input = definition.parse(raw);
  const { procedure } = definition;
  const log = new EvidenceLog(procedure, input.plan);
  const startedAt = new Date().toISOString();
  const base = {
    procedure,
    plan: input.plan,
    pulseUrl: input.pulse.url,
    startedAt,
    finishedAt: startedAt,
    evidence: log.progress.evidence,
  };
  const { result, steps, onFailure } = prepare({ input, log, base, target: { pulse: input.pulse, plan: input.plan } });
  upsertSearchAttributes(keywordAttributes({ RunbookProcedure: procedure, RunbookStatus: 'running', PulseTarget: input.pulse.url }));
  try {
    await steps();
    log.finish('completed');
    upsertSearchAttributes(keywordAttributes({ RunbookStatus: input.plan ? 'planned' : 'completed' }));
    result.finishedAt = new Date().toISOString();
    return result;
  } catch (err) {
    const failedStep = noteStepFailure(log, err);
    const failure = onFailure ? await onFailure(err, failedStep) : err;
    log.finish('failed', failedStep);
    upsertSearchAttributes(keywordAttributes({ RunbookStatus: 'failed' }));
    throw failure;
  }
}
