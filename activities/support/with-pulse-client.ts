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
import type { LineEvidence, PulseLine } from '../../src/pulse/line.js';
import type { StepOutcome } from '../../src/runbook/evidence.js';
import { keptAlive } from './heartbeat.js';

export function toFailure(err: unknown): unknown {
  if (err instanceof PulseError) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable, cause: undefined });
  }
  return err;
}

/**
 * Runs `fn` with a client for one activity, heartbeating meanwhile (a lost worker is noticed by the heartbeat
 * timeout), and closes it after. A step's outcome (`{evidence, value}`) is stamped with the Pulse line that
 * answered: the one its own evidence already named, else `line` (what an earlier step told), else one detected now
 * (two read-only GETs). The evidence then names the line and how it was told, so no step's words can be read as
 * being about the other line. A detection that fails stamps nothing.
 */
export async function withClient<T>(pulse: PulseTarget, fn: (client: PulseClient) => Promise<T>, line?: LineEvidence): Promise<T> {
  return keptAlive(() => withClientNow(pulse, fn, line));
}

async function withClientNow<T>(pulse: PulseTarget, fn: (client: PulseClient) => Promise<T>, line?: LineEvidence): Promise<T> {
  let client: PulseClient;
  try {
    client = await PulseClient.create(pulse);
  } catch (err) {
    if (err instanceof PulseError) throw toFailure(err);
    throw ApplicationFailure.create({ message: (err as Error).message, type: FAILURE_TYPES.tokenUnavailable, nonRetryable: true });
  }
  try {
    const result = await fn(client);
    return isStepOutcome(result) ? ((await stampLine(client, result, line)) as T) : result;
  } catch (err) {
    throw toFailure(err);
  } finally {
    await client.close();
  }
}

function isStepOutcome(v: unknown): v is StepOutcome<unknown> {
  return typeof v === 'object' && v !== null && 'evidence' in v && 'value' in v;
}

async function stampLine(client: PulseClient, outcome: StepOutcome<unknown>, known?: LineEvidence): Promise<StepOutcome<unknown>> {
  const details = outcome.evidence.details ?? {};
  let line: LineEvidence | undefined =
    typeof details.line === 'string' && typeof details.lineSeenFrom === 'string'
      ? { line: details.line as PulseLine, seenFrom: details.lineSeenFrom }
      : known;
  line ??= await client.detectLine().catch(() => undefined);
  if (!line) return outcome;
  return { ...outcome, line, evidence: { ...outcome.evidence, details: { ...details, line: line.line, lineSeenFrom: line.seenFrom } } };
}
