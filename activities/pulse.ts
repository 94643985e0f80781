/**
 * Pulse API side effects of the procedures. Each activity reads the token itself (by reference), so no secret
 * passes through workflow history; in plan mode only read-only GETs are made and changes are described.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PulseTarget } from '../src/config/pulse-target.js';
import type { Action, Evidence, StepOutcome } from '../src/runbook/evidence.js';
import type { StepId } from '../src/runbook/steps.js';
import { withClient } from './support/with-pulse-client.js';
import { PulseDisabledError, PulseError, PulseMethodNotAllowed, PulseNotFoundError } from '../src/pulse/errors.js';
import { summariseTrueNASResources } from '../src/pulse/staleness.js';
import { describeDeleteConnection, describeListConnections, describeListTrueNASResources, planPulseRequest } from '../src/pulse/plan.js';
import { PULSE_PATHS } from '../src/pulse/paths.js';
import { TRUENAS_ROUTES_PRESENT } from '../src/config/code-rollback-input.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';

export interface PulseStepInput {
  pulse: PulseTarget;
  plan: boolean;
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
  });
}

/** kill-switch.2: deletes one connection; 404 truenas_not_found means it is already gone (a retry never fails). */
export async function deleteConnection(input: PulseStepInput & { id: string }): Promise<StepOutcome<{ outcome: 'deleted' | 'already-gone' | 'planned' | 'integration-disabled' }>> {
  const action = describeDeleteConnection(input.pulse.url, input.id);
  if (input.plan) {
    return { value: { outcome: 'planned' }, evidence: evidence('kill-switch.2', 'planned', `Would delete connection ${input.id}.`, [action]) };
  }
  return withClient(input.pulse, async (client) => {
    try {
      const res = await client.deleteConnection(input.id);
      const summary = res.outcome === 'deleted' ? `Deleted connection ${input.id}.` : `Connection ${input.id} was already gone (404 truenas_not_found).`;
      return { value: { outcome: res.outcome }, evidence: evidence('kill-switch.2', 'ok', summary, [action], { status: res.status, outcome: res.outcome }) };
    } catch (err) {
      if (err instanceof PulseDisabledError) {
        return {
          value: { outcome: 'integration-disabled' },
          evidence: evidence('kill-switch.2', 'ok', `The integration was disabled before ${input.id} could be deleted (404 truenas_disabled).`, [action], { status: 404 }),
        };
      }
      throw err;
    }
  });
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
  });
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
  });
}

/**
 * kill-switch.5 / disable.5: reads the TrueNAS resources (following pagination) and computes staleness
 * client-side from lastSeen, since Feb Pulse never marks the source stale (§3.1).
 */
export async function checkTrueNASResources(
  input: PulseStepInput & { staleThresholdSeconds: number; step?: StepId },
): Promise<StepOutcome<{ total: number; online: number; stale: number; endpoint: string }>> {
  const step = input.step ?? 'kill-switch.5';
  return withClient(input.pulse, async (client) => {
    const listed = await client.listTrueNASResources();
    const summary = summariseTrueNASResources(listed.resources, new Date(), input.staleThresholdSeconds);
    const actions: Action[] = [describeListTrueNASResources(input.pulse.url, listed.endpoint)];
    const verdict = input.plan ? 'planned' : summary.online === 0 ? 'ok' : 'inconclusive';
    const text =
      summary.total === 0
        ? 'No TrueNAS resources are listed (they vanished: the expected end state in Feb Pulse, §8.4).'
        : `${summary.total} TrueNAS resource(s): ${summary.stale} stale, ${summary.online} still online.`;
    return {
      value: { total: summary.total, online: summary.online, stale: summary.stale, endpoint: listed.endpoint },
      evidence: evidence(step, verdict, input.plan ? `Now: ${text} Would watch until none is online.` : text, actions, {
        endpoint: listed.endpoint,
        shape: listed.shape,
        pages: listed.pages,
        notes: listed.notes,
        staleIds: summary.staleIds,
        onlineIds: summary.onlineIds,
        maxAgeSeconds: summary.maxAgeSeconds,
      }),
    };
  });
}
