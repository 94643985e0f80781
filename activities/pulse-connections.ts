/**
 * Pulse's TrueNAS connections (GET/POST/DELETE /api/truenas/connections, the tests, each connection's poll record),
 * for every procedure: Enable, Disable, Kill-Switch, Code Rollback, Data Cleanup and Enable's undo. Each activity
 * reads the Pulse token itself (by reference) and the TrueNAS API key from its reference on this host
 * (support/connection-body.ts), so no secret passes through workflow history; the key is sent to Pulse in the
 * request body only, and evidence shows Pulse's own mask "********". In plan mode only read-only GETs are made and
 * changes are described with the exact URL and (masked) body. The step of each evidence is the workflow's (`step`).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ConnectionSpec } from '../src/config/enable.js';
import { ENABLE_FAILURES } from '../src/config/enable.js';
import { TRUENAS_ROUTES_PRESENT } from '../src/config/code-rollback-input.js';
import { PulseDisabledError, PulseError, PulseMethodNotAllowed, PulseNotFoundError, PulseValidationError } from '../src/pulse/errors.js';
import { PULSE_PATHS } from '../src/pulse/paths.js';
import {
  describeAddConnection,
  describeDeleteConnection,
  describeListConnections,
  describeListTrueNASResources,
  describeRefreshState,
  describeTestConnection,
  describeTestConnectionById,
  planPulseRequest,
} from '../src/pulse/plan.js';
import { explainTrueNASFailure } from '../src/pulse/truenas-failure.js';
import { describeLine, lineFromConnections } from '../src/pulse/line.js';
import type { TrueNASConnection } from '../src/pulse/types.js';
import { evidence, type Action, type Evidence, type StepOutcome } from '../src/runbook/evidence.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';
import type { StepId } from '../src/runbook/steps.js';
import { MASK, redact, scrub } from '../src/runbook/redact.js';
import { resolveBody, sameEndpoint, type ResolvedBody } from './support/connection-body.js';
import { activityJournal } from './support/heartbeat.js';
import { stepOf, type PulseStepInput } from './support/step.js';
import { readTrueNASResources, resourceDetails } from './support/truenas-resources.js';
import { withClient } from './support/with-pulse-client.js';

export type { PulseStepInput } from './support/step.js';

/** A stored connection as evidence shows it: no secret fields at all. */
export interface ConnectionSummary {
  id: string;
  name?: string;
  host: string;
  port?: number;
  enabled?: boolean;
  /** v6 (2026-03-30+) poll state. */
  poll?: { lastAttemptAt?: string; lastSuccessAt?: string; consecutiveFailures?: number; lastError?: unknown };
}

function summarise(c: TrueNASConnection): ConnectionSummary {
  const out: ConnectionSummary = { id: c.id, host: c.host };
  if (c.name) out.name = c.name;
  if (c.port) out.port = c.port;
  if (c.enabled !== undefined) out.enabled = c.enabled;
  if (c.poll) {
    const { lastAttemptAt, lastSuccessAt, consecutiveFailures, lastError } = c.poll;
    out.poll = redact({ lastAttemptAt, lastSuccessAt, consecutiveFailures, lastError });
  }
  return out;
}

/** kill-switch.1: the ids of the configured TrueNAS connections (read-only, also in plan mode). */
export async function listConnections(input: PulseStepInput): Promise<StepOutcome<{ ids: string[]; disabled: boolean }>> {
  const step = stepOf('listConnections', input);
  return withClient(
    input.pulse,
    async (client) => {
      const action = describeListConnections(input.pulse.url);
      try {
        const list = await client.listConnections();
        const ids = list.map((c) => c.id);
        return {
          value: { ids, disabled: false },
          evidence: evidence(
            step,
            'ok',
            `${ids.length} TrueNAS connection(s) configured${ids.length ? `: ${ids.join(', ')}` : ''}.`,
            [action],
            {
              status: 200,
              connections: list.map((c) => ({ id: c.id, name: c.name, host: c.host, enabled: c.enabled })),
            },
          ),
        };
      } catch (err) {
        if (err instanceof PulseDisabledError) {
          return {
            value: { ids: [], disabled: true },
            evidence: evidence(
              step,
              'ok',
              'The TrueNAS integration is disabled: GET answered 404 truenas_disabled (the runbook expects an array here, §8.2).',
              [action],
              {
                status: 404,
                code: 'truenas_disabled',
              },
            ),
          };
        }
        throw err;
      }
    },
    input.line,
  );
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
export async function deleteConnection(
  input: PulseStepInput & { id: string },
): Promise<StepOutcome<{ outcome: 'deleted' | 'already-gone' | 'planned' | 'integration-disabled' }>> {
  const step = stepOf('deleteConnection', input);
  const action = describeDeleteConnection(input.pulse.url, input.id);
  if (input.plan) {
    return { value: { outcome: 'planned' }, evidence: evidence(step, 'planned', `Would delete connection ${input.id}.`, [action]) };
  }
  const journal = activityJournal<DeleteJournal>();
  const earlier = journal.previous.filter((e) => e.id === input.id);
  if (earlier.some((e) => e.answered === 200)) {
    return {
      value: { outcome: 'deleted' },
      evidence: evidence(
        step,
        'ok',
        `Deleted connection ${input.id} (attempt ${journal.attempt - 1} got 200; its completion was lost with its worker, so it is not sent again).`,
        [action],
        { status: 200, outcome: 'deleted', confirmedBy: 'journal' },
      ),
    };
  }
  const sentBefore = earlier.some((e) => e.sent);
  return withClient(
    input.pulse,
    async (client) => {
      try {
        await journal.record({ id: input.id, sent: true }, { durable: true });
        const res = await client.deleteConnection(input.id);
        if (res.outcome === 'deleted') {
          await journal.record({ id: input.id, answered: res.status }, { durable: true });
          return {
            value: { outcome: 'deleted' },
            evidence: evidence(step, 'ok', `Deleted connection ${input.id}.`, [action], { status: res.status, outcome: 'deleted' }),
          };
        }
        if (sentBefore) {
          return {
            value: { outcome: 'deleted' },
            evidence: evidence(
              step,
              'ok',
              `Deleted connection ${input.id}: an earlier attempt of this run sent the DELETE and its answer was lost with its worker; this attempt found it gone (404 truenas_not_found).`,
              [action],
              {
                status: res.status,
                outcome: 'deleted',
                confirmedBy: 'retry-404',
              },
            ),
          };
        }
        return {
          value: { outcome: 'already-gone' },
          evidence: evidence(step, 'ok', `Connection ${input.id} was already gone (404 truenas_not_found).`, [action], {
            status: res.status,
            outcome: 'already-gone',
          }),
        };
      } catch (err) {
        if (err instanceof PulseDisabledError) {
          return {
            value: { outcome: 'integration-disabled' },
            evidence: evidence(
              step,
              'ok',
              `The integration was disabled before ${input.id} could be deleted (404 truenas_disabled).`,
              [action],
              { status: 404 },
            ),
          };
        }
        throw err;
      }
    },
    input.line,
  );
}

/** kill-switch.4 / cleanup.5 (`step`, default kill-switch.4): the list must be an empty array. */
export async function verifyNoConnections(input: PulseStepInput): Promise<StepOutcome<{ remaining: string[] }>> {
  const step = stepOf('verifyNoConnections', input);
  const action = describeListConnections(input.pulse.url);
  if (input.plan) {
    return {
      value: { remaining: [] },
      evidence: evidence(step, 'planned', 'Would verify that GET /api/truenas/connections answers [].', [action]),
    };
  }
  return withClient(
    input.pulse,
    async (client) => {
      const list = await client.listConnections();
      const remaining = list.map((c) => c.id);
      if (remaining.length > 0) {
        throw ApplicationFailure.create({
          message: `${remaining.length} TrueNAS connection(s) remain after the deletes: ${remaining.join(', ')} (was one added meanwhile?)`,
          type: FAILURE_TYPES.connectionsRemain,
          nonRetryable: true,
        });
      }
      return {
        value: { remaining },
        evidence: evidence(step, 'ok', 'GET /api/truenas/connections answered [].', [action], { status: 200, body: '[]' }),
      };
    },
    input.line,
  );
}

/** How Pulse answered once its TrueNAS routes were gone. */
export type RoutesAbsentAnswer = 'not-found' | 'disabled' | 'method-not-allowed';

/**
 * rollback.4 (`step`): after the reverted build was restarted, GET /api/truenas/connections must no longer list
 * connections. Accepted answers: 404 without a code (the route is not registered), 404 truenas_disabled (the
 * handler is there but the feature is off) and 405 (only other methods remain on the path). A 200 array means
 * the old code still runs: TrueNASRoutesPresent, non-retryable, since a retry would read the same process.
 */
export async function verifyTrueNASRoutesAbsent(
  input: PulseStepInput,
): Promise<StepOutcome<{ answer: RoutesAbsentAnswer; status: number }>> {
  const step = stepOf('verifyTrueNASRoutesAbsent', input);
  const action = planPulseRequest(
    input.pulse.url,
    'GET',
    PULSE_PATHS.connections,
    undefined,
    '404 (route gone, plain or truenas_disabled) or 405; 200 with a list means the TrueNAS routes are still served',
  );
  if (input.plan) {
    return {
      value: { answer: 'not-found', status: 404 },
      evidence: evidence(
        step,
        'planned',
        'Would verify that GET /api/truenas/connections answers 404 (plain or truenas_disabled) or 405 once the rebuilt Pulse runs.',
        [action],
      ),
    };
  }
  return withClient(
    input.pulse,
    async (client) => {
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
    },
    input.line,
  );
}

// --- enable.3 / disable.3 / prereq.1 ---------------------------------------------------------------------------

export type EndpointExpectation = 'array' | 'disabled' | 'report';

export interface EndpointState {
  state: 'enabled' | 'disabled';
  connections: ConnectionSummary[];
}

/**
 * GET /api/truenas/connections: an array means the feature flag is on; 404 truenas_disabled means it is off
 * (the handlers and the poller share the same gate). Read-only, so it runs in plan mode too. The verdict says
 * whether the answer is the expected one; the workflow decides what a mismatch means.
 */
export async function verifyConnectionsEndpoint(
  input: PulseStepInput & { step: StepId; expect: EndpointExpectation },
): Promise<StepOutcome<EndpointState>> {
  const action = describeListConnections(input.pulse.url);
  return withClient(
    input.pulse,
    async (client) => {
      let state: EndpointState;
      let answer: string;
      try {
        const list = await client.listConnections();
        state = { state: 'enabled', connections: list.map(summarise) };
        answer = `200 with an array of ${list.length} connection(s)`;
      } catch (err) {
        if (!(err instanceof PulseDisabledError)) throw err;
        state = { state: 'disabled', connections: [] };
        answer = '404 truenas_disabled';
      }
      const wanted = input.expect === 'array' ? 'enabled' : input.expect === 'disabled' ? 'disabled' : state.state;
      const matches = state.state === wanted;
      const verdict: Evidence['verdict'] = input.plan ? 'planned' : matches ? 'ok' : 'failed';
      const meaning =
        state.state === 'enabled'
          ? 'the TrueNAS integration is on'
          : 'the TrueNAS integration is off (the flag gates the handlers and the poller alike)';
      let summary = `GET /api/truenas/connections answered ${answer}: ${meaning}.`;
      if (input.plan && input.expect !== 'report') {
        summary = `Now it answers ${answer}; after the restart it must answer ${input.expect === 'array' ? 'an array' : '404 truenas_disabled'}.`;
      }
      return {
        value: state,
        evidence: evidence(input.step, verdict, summary, [action], {
          status: state.state === 'enabled' ? 200 : 404,
          ...(state.state === 'disabled' ? { code: 'truenas_disabled' } : { connections: state.connections }),
          expected: input.expect,
        }),
      };
    },
    input.line,
  );
}

// --- enable.5 --------------------------------------------------------------------------------------------------

export interface AddConnectionResult {
  id: string;
  /** 'already-added': a connection with this id is stored (a retried attempt got through before). 'exists': an
   *  enabled connection to the same host/port (and name) was there already, so none is added. */
  outcome: 'added' | 'already-added' | 'exists' | 'planned';
  name?: string;
  host: string;
  port?: number;
  warnings: string[];
}

/**
 * enable.5: POST /api/truenas/connections with `apiKey` (the runbook's api_key translated) and `enabled: true`
 * (§8.1). Pulse has no uniqueness check, so a retried attempt whose POST got through would add a duplicate:
 * the body carries the workflow's id and the list is read first, so a retry finds its own connection instead.
 */
export async function addConnection(
  input: PulseStepInput & { connection: ConnectionSpec; id: string },
): Promise<StepOutcome<AddConnectionResult>> {
  const step = stepOf('addConnection', input);
  const listAction = describeListConnections(input.pulse.url);
  let resolved: ResolvedBody;
  try {
    resolved = await resolveBody(input.connection, input.id);
  } catch (err) {
    if (!input.plan || !(err instanceof ApplicationFailure)) throw err;
    return {
      value: {
        id: input.id,
        outcome: 'planned',
        host: 'host' in input.connection ? input.connection.host : '(body file)',
        warnings: [err.message],
      },
      evidence: evidence(step, 'planned', `Would add a connection, but it would fail now: ${err.message}`, [listAction], {
        problem: err.type,
      }),
    };
  }
  const { body, secrets, warnings } = resolved;
  const id = String(body.id);
  const host = String(body.host ?? '');
  const port = typeof body.port === 'number' ? body.port : undefined;
  const name = typeof body.name === 'string' ? body.name : undefined;
  let postAction: Action;
  try {
    postAction = describeAddConnection(input.pulse.url, body);
  } catch (err) {
    const refused = invalidBody(err, secrets);
    if (!input.plan || !(refused instanceof ApplicationFailure)) throw refused;
    return {
      value: { id, outcome: 'planned', host, port, name, warnings: [...warnings, refused.message] },
      evidence: evidence(step, 'planned', `Would add a connection, but it would be refused: ${refused.message}`, [listAction], {
        problem: refused.type,
      }),
    };
  }

  return withClient(
    input.pulse,
    async (client) => {
      let existing: TrueNASConnection[] | undefined;
      try {
        existing = await client.listConnections();
      } catch (err) {
        // In plan mode the flag is usually still off: the list is read again, for real, after the restart.
        if (!(input.plan && err instanceof PulseDisabledError)) throw err;
      }
      const mine = existing?.find((c) => c.id === id);
      const same = mine ? undefined : existing?.find((c) => sameEndpoint(c, body));
      const base = { host, port, name, warnings };
      const detailsBase = { warnings, request: postAction.body };

      if (mine || same) {
        const found = (mine ?? same) as TrueNASConnection;
        const outcome = mine ? 'already-added' : 'exists';
        const why = mine
          ? `Connection ${id} is already stored (an earlier attempt of this run added it): not added again.`
          : `An enabled connection to ${host}${port ? ` port ${port}` : ''} already exists (${found.id}${found.name ? `, ${found.name}` : ''}): none is added, it is tested and verified instead.`;
        return {
          value: { ...base, id: found.id, outcome: input.plan ? 'planned' : outcome },
          evidence: evidence(step, input.plan ? 'planned' : 'ok', input.plan ? `Would not add: ${why}` : why, [listAction], {
            ...detailsBase,
            outcome,
            connection: summarise(found),
          }),
        };
      }
      if (input.plan) {
        const now = existing
          ? `${existing.length} connection(s) now, none for this host`
          : 'the list cannot be read now (404 truenas_disabled): it is read again after the restart';
        return {
          value: { ...base, id, outcome: 'planned' },
          evidence: evidence(
            step,
            'planned',
            `Would add connection ${id} (${name ?? host}) with apiKey and "enabled": true; ${now}.${warnings.length ? ` Warning: ${warnings.join(' ')}` : ''}`,
            [listAction, postAction],
            detailsBase,
          ),
        };
      }
      let added;
      try {
        added = await client.addConnection(body);
      } catch (err) {
        if (err instanceof PulseValidationError) throw invalidBody(err, secrets);
        throw err;
      }
      const stored = added.connection;
      const notes = [...added.notes];
      if (stored.id !== id) notes.push(`Pulse stored the connection as ${stored.id}, not the id sent (${id})`);
      return {
        value: { ...base, id: stored.id, outcome: 'added' },
        evidence: evidence(
          step,
          'ok',
          `Added connection ${stored.id} (${stored.name || host}): ${added.status}, enabled=${String(stored.enabled)}, apiKey ${stored.apiKey ?? '(not echoed)'}.${warnings.length ? ` Warning: ${warnings.join(' ')}` : ''}`,
          [listAction, postAction],
          { ...detailsBase, status: added.status, outcome: 'added', connection: summarise(stored), notes },
        ),
      };
    },
    input.line,
  );
}

function invalidBody(err: unknown, secrets: string[]): unknown {
  if (!(err instanceof PulseValidationError)) return err;
  return ApplicationFailure.create({
    type: ENABLE_FAILURES.connectionInvalid,
    message: scrub(`The connection was refused: ${err.message}`, secrets),
    nonRetryable: true,
    details: [{ status: err.status ?? null, code: err.code ?? null }],
  });
}

// --- enable.6 --------------------------------------------------------------------------------------------------

/**
 * enable.6: POST /api/truenas/connections/{id}/test (Pulse tests the stored connection; 2026-03-30+), and where
 * that route is absent (405 on Feb and v6-rel) the runbook's body test POST /api/truenas/connections/test with
 * the key read again from its reference. A failed test is ConnectionTestFailed with Pulse's reason.
 *
 * The per-id test gets the stored connection as listed (secrets masked "********") as its body, the way Pulse's
 * own UI sends it: Pulse replaces the stored fields with any non-empty body and keeps a masked secret, so `{}`
 * would test an empty host (HandleTestSavedConnection), while the masked copy tests exactly what is stored.
 */
export async function testConnection(
  input: PulseStepInput & { id: string; connection?: ConnectionSpec },
): Promise<StepOutcome<{ method: 'per-id' | 'body' | 'planned' }>> {
  const step = stepOf('testConnection', input);
  if (input.plan) {
    const actions: Action[] = [];
    let fallback = 'the body test (the connection fields with the key read from its reference)';
    if (input.connection) {
      try {
        const { body } = await resolveBody(input.connection, input.id);
        actions.push(
          describeTestConnectionById(input.pulse.url, input.id, storedFields(body)),
          describeTestConnection(input.pulse.url, body),
        );
        fallback = 'the body test';
      } catch (err) {
        fallback = `the body test, which would fail now: ${(err as Error).message}`;
      }
    }
    if (actions.length === 0) actions.push(describeTestConnectionById(input.pulse.url, input.id));
    return {
      value: { method: 'planned' },
      evidence: evidence(
        step,
        'planned',
        `Would test connection ${input.id} with the per-id test (the stored connection, secrets masked); where Pulse answers 405 (Feb, v6-rel), with ${fallback}.`,
        actions,
      ),
    };
  }
  return withClient(
    input.pulse,
    async (client) => {
      const stored = (await client.listConnections()).find((c) => c.id === input.id);
      if (!stored) throw testFailed(`Connection ${input.id} is not stored in Pulse: was it deleted while the procedure ran?`);
      const overrides = storedFields(stored);
      const perIdAction = describeTestConnectionById(input.pulse.url, input.id, overrides);
      try {
        const r = await client.testConnectionById(input.id, overrides);
        if (!r.success) throw testFailed(`POST ${PULSE_PATHS.connections}/${input.id}/test answered success=false`);
        return {
          value: { method: 'per-id' },
          evidence: evidence(
            step,
            'ok',
            `Pulse reached the NAS with the stored connection ${input.id}: POST …/${input.id}/test answered ${r.status} {"success":true}.`,
            [perIdAction],
            { status: r.status, method: 'per-id' },
          ),
        };
      } catch (err) {
        if (err instanceof PulseNotFoundError && err.code === 'truenas_not_found') {
          throw testFailed(
            `Connection ${input.id} is not stored in Pulse (404 truenas_not_found): was it deleted while the procedure ran?`,
          );
        }
        if (err instanceof PulseValidationError) throw connectionFailed(err, []);
        if (!(err instanceof PulseMethodNotAllowed || err instanceof PulseNotFoundError)) throw err;
      }
      // The per-id route is absent on this Pulse line: the runbook's body test, with the key read again here.
      if (!input.connection) {
        throw testFailed(
          `This Pulse has no per-id test (405) and connection ${input.id} was not given to this run, so the body test cannot be sent; test it in Pulse's UI`,
        );
      }
      const { body, secrets } = await resolveBody(input.connection, input.id);
      const bodyAction = describeTestConnection(input.pulse.url, body);
      try {
        const r = await client.testConnection(body);
        if (!r.success) throw testFailed(`POST ${PULSE_PATHS.testConnection} answered success=false`);
        return {
          value: { method: 'body' },
          evidence: evidence(
            step,
            'ok',
            `Pulse reached the NAS: POST ${PULSE_PATHS.testConnection} answered ${r.status} {"success":true} (the per-id test answered 405: this Pulse predates it, §8.6).`,
            [perIdAction, bodyAction],
            { status: r.status, method: 'body', perIdStatus: 405, notes: r.notes },
          ),
        };
      } catch (err) {
        if (err instanceof PulseValidationError) throw connectionFailed(err, secrets);
        throw err;
      }
    },
    input.line,
  );
}

/** The connection fields of a stored (or planned) connection, secrets masked: the per-id test's body. */
function storedFields(c: Record<string, unknown>): Record<string, unknown> {
  const keys = ['name', 'host', 'port', 'username', 'useHttps', 'insecureSkipVerify', 'fingerprint', 'enabled', 'pollIntervalSeconds'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (c[k] !== undefined && c[k] !== '') out[k] = c[k];
  if (c.apiKey !== undefined || c.api_key !== undefined) out.apiKey = MASK;
  if (c.password !== undefined) out.password = MASK;
  return out;
}

function testFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ENABLE_FAILURES.connectionTestFailed, message, nonRetryable: true });
}

function connectionFailed(err: PulseValidationError, secrets: string[]): ApplicationFailure {
  const reason = typeof err.details?.error === 'string' ? err.details.error : '';
  const why = explainTrueNASFailure(reason || err.message);
  return ApplicationFailure.create({
    type: ENABLE_FAILURES.connectionTestFailed,
    message: scrub(
      `The connection test failed: ${err.message}${reason && !err.message.includes(reason) ? ` (Pulse: "${reason}")` : ''}. This means ${why.meaning}; ${why.fix}`,
      secrets,
    ),
    nonRetryable: true,
    details: [{ status: err.status ?? null, code: err.code ?? null, reason: scrub(reason, secrets), cause: why.cause }],
  });
}

// --- enable.4 --------------------------------------------------------------------------------------------------

export interface PollerCheck {
  /** The poller has been seen at work on the connection (an attempt, or resources it put there). */
  observed: boolean;
  /** What showed it: the connection's poll record (v6), or TrueNAS resources (both lines). */
  signal: 'poll-state' | 'resources' | 'none' | 'planned';
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  consecutiveFailures?: number;
  /** The newest attempt failed: Pulse's own category and message, and what they mean. */
  failure?: { category: string; message: string; at?: string; cause: string; meaning: string; fix: string };
  /** The Pulse line the answer told, when it did. */
  line?: string;
  resources: number;
}

interface PollErrorRecord {
  at?: unknown;
  message?: unknown;
  category?: unknown;
}

/** The newest attempt failed when there is no success at or after it (Pulse sets both times to the same instant). */
function failedAttempt(poll: NonNullable<TrueNASConnection['poll']>, secrets: string[]): PollerCheck['failure'] | undefined {
  const attempt = Date.parse(poll.lastAttemptAt ?? '');
  const success = Date.parse(poll.lastSuccessAt ?? '');
  if (!Number.isNaN(success) && success >= attempt) return undefined;
  if ((poll.consecutiveFailures ?? 0) === 0 && poll.lastError === undefined) return undefined;
  const e = (poll.lastError ?? {}) as PollErrorRecord;
  const message = scrub(typeof e.message === 'string' ? e.message : 'no message', secrets);
  const category = typeof e.category === 'string' ? e.category : 'unknown';
  const why = explainTrueNASFailure(message, category);
  return { category, message, ...(typeof e.at === 'string' && { at: e.at }), cause: why.cause, meaning: why.meaning, fix: why.fix };
}

/**
 * enable.4, one look. Pulse logs no "poller started" line and nothing on a successful poll (§8.3), so the poller
 * is verified by what its work changes, read through the API:
 *  - v6: the connection's own poll record in the GET list (`poll.lastAttemptAt`, `lastSuccessAt`,
 *    `consecutiveFailures`, `lastError {message, category}`). It lives in memory, so any attempt seen after the
 *    restart was made by the new process; a failed attempt is reported at once with Pulse's own words;
 *  - the Feb line (no poll record): TrueNAS resources listed at all, after a state refresh, since only a poll by
 *    this process can put them there (the cache starts empty at every restart).
 * Log lines are the workflow's last resort (checkPulseLogs): they show a poller that runs but fails.
 */
export async function verifyPollerRuns(input: PulseStepInput & { id: string }): Promise<StepOutcome<PollerCheck>> {
  const step = stepOf('verifyPollerRuns', input);
  const actions: Action[] = [
    describeListConnections(input.pulse.url),
    describeRefreshState(input.pulse.url),
    describeListTrueNASResources(input.pulse.url),
  ];
  if (input.plan) {
    return {
      value: { observed: false, signal: 'planned', resources: 0 },
      evidence: evidence(
        step,
        'planned',
        `Would watch connection ${input.id}'s poll record in the list (v6: lastAttemptAt, lastSuccessAt, lastError), failing at once with Pulse's own words if a poll fails; on a line without poll records, TrueNAS resources appearing after a state refresh (Pulse logs no "poller started" line and nothing on success).`,
        actions,
      ),
    };
  }
  return withClient(
    input.pulse,
    async (client) => {
      const list = await client.listConnections();
      const mine = list.find((c) => c.id === input.id);
      const poll = mine?.poll;
      const line = lineFromConnections(list);
      if (poll?.lastAttemptAt) {
        const failure = failedAttempt(poll, []);
        const base = {
          observed: true,
          signal: 'poll-state' as const,
          lastAttemptAt: poll.lastAttemptAt,
          lastSuccessAt: poll.lastSuccessAt,
          consecutiveFailures: poll.consecutiveFailures ?? 0,
          resources: 0,
          ...(line && { line: line.line }),
        };
        const where = line ? ` Pulse is ${describeLine(line)}.` : '';
        if (failure) {
          return {
            value: { ...base, failure },
            evidence: evidence(
              step,
              'failed',
              `The poller runs but its poll of connection ${input.id} failed at ${failure.at ?? poll.lastAttemptAt} (${poll.consecutiveFailures ?? 1} in a row): Pulse says category "${failure.category}": ${failure.message}. This means ${failure.meaning}; ${failure.fix}.${where}`,
              [actions[0]],
              { signal: 'poll-state', poll: summarise(mine as TrueNASConnection).poll, cause: failure.cause, line: line?.line },
            ),
          };
        }
        return {
          value: base,
          evidence: evidence(
            step,
            'ok',
            `The poller runs and succeeds: connection ${input.id} shows poll.lastAttemptAt ${poll.lastAttemptAt}, lastSuccessAt ${poll.lastSuccessAt}. (Pulse logs no "poller started" line; its poll record is the direct sign.)${where}`,
            [actions[0]],
            {
              signal: 'poll-state',
              poll: summarise(mine as TrueNASConnection).poll,
              line: line?.line,
              ...(mine?.observed && { observed: mine.observed }),
            },
          ),
        };
      }
      if (poll) {
        // v6 lists the record before the first attempt ({intervalSeconds} only): the poller has not reached it yet.
        return {
          value: { observed: false, signal: 'none', resources: 0, ...(line && { line: line.line }) },
          evidence: evidence(
            step,
            'inconclusive',
            `Connection ${input.id} has not been polled yet (its poll record has no lastAttemptAt; Pulse polls every ${String(poll.intervalSeconds ?? 60)} s).`,
            [actions[0]],
            {
              signal: 'none',
              poll: summarise(mine as TrueNASConnection).poll,
            },
          ),
        };
      }
      const read = await readTrueNASResources(client, input.pulse.url, 120);
      const total = read.summary.total;
      const observed = total > 0;
      const noPollState = mine ? 'the list has no poll record for it' : `connection ${input.id} is not in the list`;
      return {
        value: { observed, signal: observed ? 'resources' : 'none', resources: total, line: read.line.line },
        evidence: evidence(
          step,
          observed ? 'ok' : 'inconclusive',
          (observed
            ? `The poller runs: ${total} TrueNAS resource(s) are listed, and only a poll by this process can put them there (the cache starts empty at every restart); ${noPollState}.`
            : `No sign of the poller yet: ${noPollState}, and no TrueNAS resource is listed.`) + ` ${read.how}`,
          [actions[0], ...read.actions],
          { signal: observed ? 'resources' : 'none', ...resourceDetails(read, 120) },
        ),
      };
    },
    input.line,
  );
}
