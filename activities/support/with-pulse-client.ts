/**
 * Shared by the Pulse activities (not an activity itself, so it is not exported from activities/index.ts):
 * opens a client, reads the token by reference, and maps the client's typed errors onto Temporal failures whose
 * type the workflows decide on.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PulseTarget } from '../../src/config/pulse-target.js';
import { PulseClient } from '../../src/pulse/client.js';
import { PulseError } from '../../src/pulse/errors.js';
import { FAILURE_TYPES } from '../../src/runbook/failure-types.js';
import { keptAlive } from './heartbeat.js';

export function toFailure(err: unknown): unknown {
  if (err instanceof PulseError) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable, cause: undefined });
  }
  return err;
}

/** Runs `fn` with a client, heartbeating meanwhile (a lost worker is noticed by the heartbeat timeout). */
export async function withClient<T>(pulse: PulseTarget, fn: (client: PulseClient) => Promise<T>): Promise<T> {
  return keptAlive(() => withClientNow(pulse, fn));
}

async function withClientNow<T>(pulse: PulseTarget, fn: (client: PulseClient) => Promise<T>): Promise<T> {
  let client: PulseClient;
  try {
    client = await PulseClient.create(pulse);
  } catch (err) {
    if (err instanceof PulseError) throw toFailure(err);
    throw ApplicationFailure.create({ message: (err as Error).message, type: FAILURE_TYPES.tokenUnavailable, nonRetryable: true });
  }
  try {
    return await fn(client);
  } catch (err) {
    throw toFailure(err);
  } finally {
    await client.close();
  }
}
