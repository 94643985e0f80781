/**
 * The host's typed errors (RollbackError, CleanupError: src/runbook/failure-types.ts failureClass) as the Temporal
 * failures workflows decide on: the same type, retryable only when the type may get better, details redacted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { redact } from '../../src/runbook/redact.js';
import { keptAlive } from './heartbeat.js';

interface HostError extends Error {
  readonly type: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
}

/** Runs an activity body with the host's errors of `errorClass` mapped to failures, heartbeating meanwhile. */
export async function withHostFailures<T>(errorClass: abstract new (...args: never[]) => HostError, fn: () => Promise<T>): Promise<T> {
  try {
    return await keptAlive(fn);
  } catch (err) {
    if (!(err instanceof errorClass)) throw err;
    throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable, details: [redact(err.details)] });
  }
}
