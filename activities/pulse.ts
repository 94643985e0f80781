/**
 * Pulse API side effects of the procedures. Each activity reads the token itself (by reference), so no secret
 * passes through workflow history; in plan mode only read-only GETs are made and changes are described.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PulseTarget } from '../src/config/pulse-target.js';
import type { LineEvidence } from '../src/pulse/line.js';
import type { Action, Evidence, StepOutcome } from '../src/runbook/evidence.js';
import type { StepId } from '../src/runbook/steps.js';
import { activityJournal } from './support/heartbeat.js';
import { withClient } from './support/with-pulse-client.js';
import { PulseDisabledError, PulseError, PulseMethodNotAllowed, PulseNotFoundError } from '../src/pulse/errors.js';
import { describeDeleteConnection, describeListConnections, planPulseRequest } from '../src/pulse/plan.js';
import { readTrueNASResources, resourceDetails, vanishedText } from './support/truenas-resources.js';
import { PULSE_PATHS } from '../src/pulse/paths.js';
import { TRUENAS_ROUTES_PRESENT } from '../src/config/code-rollback-input.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';

export interface PulseStepInput {
  pulse: PulseTarget;
  plan: boolean;
  /** The Pulse line an earlier step told (StepOutcome.line); without it the step tells it itself. */
  line?: LineEvidence;
}

function evidence(step: StepId, verdict: Evidence['verdict'], summary: string, actions: Action[], details?: Record<string, unknown>): Evidence {
  return { step, at: new Date().toISOString(), verdict, summary, actions, details };
}

/** kill-switch.1: the ids of the configured TrueNAS connections (read-only, also in plan mode). */
export async function listConnections(input: PulseStepInput): Promise<StepOutcome<{ ids: string[]; disabled: boolean }>> {
  return withClient(input.pulse, async (client) => {
    const action = describeListConnections(input.pulse.url);
    try {
      const list = await client.listConnections();
      const ids = list.map((c) => c.id);
      return {
        value: { ids, disabled: false },
        evidence: evidence('kill-switch.1', 'ok', `${ids.length} TrueNAS connection(s) configured${ids.length ? `: ${ids.join(', ')}` : ''}.`, [action], {
          status: 200,
          connections: list.map((c) => ({ id: c.id, name: c.name, host: c.host, enabled: c.enabled })),
        }),
      };
    } catch (err) {
      if (err instanceof PulseDisabledError) {
        return {
          value: { ids: [], disabled: true },
          evidence: evidence('kill-switch.1', 'ok', 'The TrueNAS integration is disabled: GET answered 404 truenas_disabled (the runbook expects an array here, §8.2).', [action], {
            status: 404,
            code: 'truenas_disabled',
          }),
        };
      }
      throw err;
    }
  }, input.line);
}

/** What the attempts of one delete tell each other (activities/support/heartbeat.ts). */
type DeleteJournal = { id: string; sent?: true; answered?: number };

/**
 * kill-switch.2 (or `step`, e.g. undo.enable): deletes one connection; 404 truenas_not_found means it is already
 * gone (a retry never fails).
 *
 * It counts what this run did, across retries: before the DELETE is sent the attempt records (durably, in its
 * heartbeat details) that it is sending it, and after Pulse answers it records the answer. A retry whose earlier
 * attempt got the 200 sends nothing and reports "deleted"; one whose earlier attempt sent the DELETE but died
 * before the answer came back finds 404 and reports "deleted" too (this run deleted it; the answer was lost with
 * the worker). Only a 404 with no DELETE of this run before it is "already gone".
 */
export async function deleteConnection(input: PulseStepInput & { id: string; step?: StepId }): Promise<StepOutcome<{ outcome: 'deleted' | 'already-gone' | 'planned' | 'integration-disabled' }>> {
  const step = input.step ?? 'kill-switch.2';
  const action = describeDeleteConnection(input.pulse.url, input.id);
  if (input.plan) {
    return { value: { outcome: 'planned' }, evidence: evidence(step, 'planned', `Would delete connection ${input.id}.`, [action]) };
  }
  const journal = activityJournal<DeleteJournal>();
  const earlier = journal.previous.filter((e) => e.id === input.id);
  if (earlier.some((e) => e.answered === 200)) {
    return {
      value: { outcome: 'deleted' },
      evidence: evidence(step, 'ok', `Deleted connection ${input.id} (attempt ${journal.attempt - 1} got 200; its completion was lost with its worker, so it is not sent again).`, [action], { status: 200, outcome: 'deleted', confirmedBy: 'journal' }),
    };
  }
  const sentBefore = earlier.some((e) => e.sent);
  return withClient(input.pulse, async (client) => {
    try {
      await journal.record({ id: input.id, sent: true }, { durable: true });
      const res = await client.deleteConnection(input.id);
      if (res.outcome === 'deleted') {
        await journal.record({ id: input.id, answered: res.status }, { durable: true });
        return { value: { outcome: 'deleted' }, evidence: evidence(step, 'ok', `Deleted connection ${input.id}.`, [action], { status: res.status, outcome: 'deleted' }) };
      }
      if (sentBefore) {
        return {
          value: { outcome: 'deleted' },
          evidence: evidence(step, 'ok', `Deleted connection ${input.id}: an earlier attempt of this run sent the DELETE and its answer was lost with its worker; this attempt found it gone (404 truenas_not_found).`, [action], {
            status: res.status,
            outcome: 'deleted',
            confirmedBy: 'retry-404',
          }),
        };
      }
      return { value: { outcome: 'already-gone' }, evidence: evidence(step, 'ok', `Connection ${input.id} was already gone (404 truenas_not_found).`, [action], { status: res.status, outcome: 'already-gone' }) };
    } catch (err) {
      if (err instanceof PulseDisabledError) {
        return {
          value: { outcome: 'integration-disabled' },
          evidence: evidence(step, 'ok', `The integration was disabled before ${input.id} could be deleted (404 truenas_disabled).`, [action], { status: 404 }),
        };
      }
      throw err;
    }
  }, input.line);
}

/** kill-switch.4 / cleanup.5 (`step`, default kill-switch.4): the list must be an empty array. */
export async function verifyNoConnections(input: PulseStepInput & { step?: StepId }): Promise<StepOutcome<{ remaining: string[] }>> {
  const step = input.step ?? 'kill-switch.4';
  const action = describeListConnections(input.pulse.url);
  if (input.plan) {
    return { value: { remaining: [] }, evidence: evidence(step, 'planned', 'Would verify that GET /api/truenas/connections answers [].', [action]) };
  }
  return withClient(input.pulse, async (client) => {
    const list = await client.listConnections();
    const remaining = list.map((c) => c.id);
    if (remaining.length > 0) {
      throw ApplicationFailure.create({
        message: `${remaining.length} TrueNAS connection(s) remain after the deletes: ${remaining.join(', ')} (was one added meanwhile?)`,
        type: FAILURE_TYPES.connectionsRemain,
        nonRetryable: true,
      });
    }
    return { value: { remaining }, evidence: evidence(step, 'ok', 'GET /api/truenas/connections answered [].', [action], { status: 200, body: '[]' }) };
  }, input.line);
}

/** How Pulse answered once its TrueNAS routes were gone. */
export type RoutesAbsentAnswer = 'not-found' | 'disabled' | 'method-not-allowed';

/**
 * rollback.4 (`step`): after the reverted build was restarted, GET /api/truenas/connections must no longer list
 * connections. Accepted answers: 404 without a code (the route is not registered), 404 truenas_disabled (the
 * handler is there but the feature is off) and 405 (only other methods remain on the path). A 200 array means
 * the old code still runs: TrueNASRoutesPresent, non-retryable, since a retry would read the same process.
 */
export async function verifyTrueNASRoutesAbsent(input: PulseStepInput & { step?: StepId }): Promise<StepOutcome<{ answer: RoutesAbsentAnswer; status: number }>> {
  const step = input.step ?? 'rollback.4';
  const action = planPulseRequest(input.pulse.url, 'GET', PULSE_PATHS.connections, undefined, '404 (route gone, plain or truenas_disabled) or 405; 200 with a list means the TrueNAS routes are still served');
  if (input.plan) {
    return {
      value: { answer: 'not-found', status: 404 },
      evidence: evidence(step, 'planned', 'Would verify that GET /api/truenas/connections answers 404 (plain or truenas_disabled) or 405 once the rebuilt Pulse runs.', [action]),
    };
  }
  return withClient(input.pulse, async (client) => {
    let listed: number;
    try {
      listed = (await client.listConnections()).length;
    } catch (err) {
      const seen: { answer: RoutesAbsentAnswer; status: number; text: string } | undefined =
        err instanceof PulseDisabledError
          ? { answer: 'disabled', status: 404, text: '404 truenas_disabled: the handlers remain but the feature is off' }
          : err instanceof PulseNotFoundError
            ? { answer: 'not-found', status: 404, text: `404${err.code ? ` ${err.code}` : ''}: the route is not registered` }
            : err instanceof PulseMethodNotAllowed
              ? { answer: 'method-not-allowed', status: 405, text: '405: GET is no longer served on this path' }
              : undefined;
      if (!seen) throw err;
      return {
        value: { answer: seen.answer, status: seen.status },
        evidence: evidence(step, 'ok', `The TrueNAS routes are absent: GET /api/truenas/connections answered ${seen.text}.`, [action], {
          status: seen.status,
          answer: seen.answer,
          ...(err instanceof PulseError && err.code ? { code: err.code } : {}),
        }),
      };
    }
    throw ApplicationFailure.create({
      message: `GET ${input.pulse.url}${PULSE_PATHS.connections} still answers 200 with a list of ${listed} connection(s): the TrueNAS routes are present. Make sure the restart runs the rebuilt binary (the build output, not an older installed copy)`,
      type: TRUENAS_ROUTES_PRESENT,
      nonRetryable: true,
      details: [{ status: 200, connections: listed }],
    });
  }, input.line);
}

/**
 * kill-switch.5 (`step`): refreshes the state as the web UI does, reads the TrueNAS resources (every page) and
 * judges them the way the Pulse line allows: Pulse's own source status on v6, lastSeen arithmetic only on the
 * Feb line, which never marks the source stale (activities/support/truenas-resources.ts).
 */
export async function checkTrueNASResources(
  input: PulseStepInput & { staleThresholdSeconds: number; step?: StepId },
): Promise<StepOutcome<{ total: number; online: number; stale: number; endpoint: string; line?: string }>> {
  const step = input.step ?? 'kill-switch.5';
  return withClient(input.pulse, async (client) => {
    const read = await readTrueNASResources(client, input.pulse.url, input.staleThresholdSeconds);
    const { summary } = read;
    const verdict = input.plan ? 'planned' : summary.online === 0 ? 'ok' : 'inconclusive';
    const text =
      summary.total === 0
        ? `No TrueNAS resources are listed on ${read.listing.endpoint}: ${vanishedText(read)}.`
        : `${summary.total} TrueNAS resource(s): ${summary.stale} stale, ${summary.offline} offline, ${summary.online} still online.`;
    return {
      value: { total: summary.total, online: summary.online, stale: summary.stale, endpoint: read.listing.endpoint, line: read.line.line },
      evidence: evidence(step, verdict, `${input.plan ? `Now: ${text} Would watch until none is online.` : text} ${read.how}`, read.actions, resourceDetails(read, input.staleThresholdSeconds)),
    };
  }, input.line);
}
