/**
 * Starting a procedure and waiting until it settles, either way, is the same in every e2e file; so is finding the
 * ApplicationFailure that failed it, and, in unit tests, checking that a call fails with a given failure type.
 */
import { WorkflowFailedError, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, type Workflow, type WorkflowResultType } from '@temporalio/common';
import type { Progress } from '../../workflows/support/evidence-log.js';
import { progressQuery } from '../../workflows/procedure.messages.js';
import { uniqueId, type TemporalHarness } from './e2e.js';

/** A run's end, with its handle and (when the run still answers) its progress. */
export type Settled<R> = { handle: WorkflowHandle; progress?: Progress } & ({ ok: true; result: R } | { ok: false; error: unknown });

/**
 * Starts `workflowType` (a contract's name, e.g. KILL_SWITCH_WORKFLOW with `<KillSwitchWorkflow>`) with `args` on the
 * harness's queue and waits, with a worker polling, until it settles. (The start options are cast: the SDK's
 * conditional args type cannot be checked against a generic W; callers are checked by `args: Parameters<W>[0]`.)
 */
export async function startAndSettle<W extends Workflow>(
  harness: TemporalHarness,
  workflowType: string,
  args: Parameters<W>[0],
  opts: { idPrefix: string; memo?: Record<string, unknown> },
): Promise<Settled<WorkflowResultType<W>>> {
  const handle = await harness.client.workflow.start<W>(workflowType, {
    taskQueue: harness.taskQueue,
    workflowId: uniqueId(opts.idPrefix),
    args: [args],
    ...(opts.memo && { memo: opts.memo }),
  } as unknown as WorkflowStartOptions<W>);
  return harness.withWorker(async () => {
    const settled = await handle.result().then(
      (result: WorkflowResultType<W>) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const progress = await handle.query(progressQuery).catch(() => undefined);
    return { ...settled, handle, ...(progress && { progress }) };
  });
}

/** The failure of a run that must have failed, as WorkflowFailedError. */
export function runError(run: Settled<unknown>): WorkflowFailedError {
  expect(run.ok).toBe(false);
  const err = (run as { error: unknown }).error;
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return err as WorkflowFailedError;
}

/** The ApplicationFailure that failed a run: thrown by the workflow itself or by one of its activities. */
export function failureOf(run: Settled<unknown>): ApplicationFailure {
  let cause = runError(run).cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/**
 * Awaits a call that must fail with an ApplicationFailure of `type` (its message matching `messagePart`), and
 * returns it; `nonRetryable: true` also requires that retrying is ruled out.
 */
export async function expectFailure(
  p: Promise<unknown>,
  type: string,
  messagePart?: RegExp,
  opts: { nonRetryable?: boolean } = {},
): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect({ type: f.type, message: f.message }).toEqual({ type, message: expect.any(String) });
    if (messagePart) expect(f.message).toMatch(messagePart);
    if (opts.nonRetryable) expect(f.nonRetryable).toBe(true);
    return f;
  }
  throw new Error(`expected ${type}, but the call succeeded`);
}
