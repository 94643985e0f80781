/**
 * Pulse API side effects of the Enable and Disable procedures (runbook §1, §2).
 *
 * The TrueNAS API key never passes through workflow history: the input names it by reference (an env var or
 * a file on the worker's host) or names a JSON body file, and these activities read it when they need it.
 * It is sent to Pulse in the request body only; evidence shows Pulse's own mask "********".
 * In plan mode only read-only GETs are made; POSTs are described with the exact URL and (masked) body.
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ConnectionSpec, SecretRef } from '../src/config/enable.js';
import { connectionWarnings, ENABLE_FAILURES } from '../src/config/enable.js';
import type { PulseTarget } from '../src/config/pulse-target.js';
import { PulseDisabledError, PulseMethodNotAllowed, PulseNotFoundError, PulseValidationError } from '../src/pulse/errors.js';
import { PULSE_PATHS } from '../src/pulse/paths.js';
import {
  describeAddConnection,
  describeListConnections,
  describeListTrueNASResources,
  describeRefreshState,
  describeTestConnection,
  describeTestConnectionById,
} from '../src/pulse/plan.js';
import { explainTrueNASFailure } from '../src/pulse/truenas-failure.js';
import { describeLine, lineFromConnections, type LineEvidence } from '../src/pulse/line.js';
import { describeResources, readTrueNASResources, resourceDetails, vanishedText, type ResourceView } from './support/truenas-resources.js';
import type { TrueNASConnection } from '../src/pulse/types.js';
import type { Action, Evidence, StepOutcome } from '../src/runbook/evidence.js';
import { MASK, redact, scrub } from '../src/runbook/redact.js';
import type { StepId } from '../src/runbook/steps.js';
import { withClient } from './support/with-pulse-client.js';

export interface PulseTargetStep {
  pulse: PulseTarget;
  plan: boolean;
  /** The Pulse line an earlier step told (StepOutcome.line); without it the step tells it itself. */
  line?: LineEvidence;
}

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

function evidence(step: StepId, verdict: Evidence['verdict'], summary: string, actions: Action[], details?: Record<string, unknown>): Evidence {
  return { step, at: new Date().toISOString(), verdict, summary, actions, details };
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

// --- secrets and bodies ----------------------------------------------------------------------------------------

function secretUnavailable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ENABLE_FAILURES.secretUnavailable, message, nonRetryable: true });
}

/** Reads the TrueNAS API key from where the reference points. Messages say where, never what. */
async function readSecret(ref: SecretRef, what: string): Promise<string> {
  let raw: string | undefined;
  let where: string;
  if (ref.env) {
    where = `the environment variable ${ref.env}`;
    raw = process.env[ref.env];
    if (raw === undefined) {
      throw secretUnavailable(`${what}: ${where} is not set on the worker's host; export it in the worker's environment or use {"file": "/path/to/key"}`);
    }
  } else {
    where = `the file ${ref.file}`;
    try {
      raw = await readFile(ref.file as string, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw secretUnavailable(`${what}: ${where} cannot be read (${code ?? 'error'}); write the key to it (one line, mode 0600) on the worker's host`);
    }
  }
  const value = raw.trim();
  if (!value) throw secretUnavailable(`${what}: ${where} is empty; put the TrueNAS API key there`);
  if (/\s/.test(value)) throw secretUnavailable(`${what}: ${where} holds whitespace or several lines; it must hold the key alone`);
  return value;
}

interface ResolvedBody {
  /** The request body, secret included. Never put it in evidence: plan/describe functions mask it. */
  body: Record<string, unknown>;
  secrets: string[];
  warnings: string[];
}

/** The body Pulse gets, read from the references on this host; `id` makes a retried add recognisable. */
async function resolveBody(spec: ConnectionSpec, id: string): Promise<ResolvedBody> {
  let body: Record<string, unknown>;
  if ('bodyFile' in spec) {
    let text: string;
    try {
      text = await readFile(spec.bodyFile, 'utf8');
    } catch (err) {
      throw secretUnavailable(`connection.bodyFile ${spec.bodyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}) on the worker's host`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text around the error, which may be the key: never pass it on.
      throw ApplicationFailure.create({ type: ENABLE_FAILURES.connectionInvalid, message: `connection.bodyFile ${spec.bodyFile} is not valid JSON`, nonRetryable: true });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw ApplicationFailure.create({ type: ENABLE_FAILURES.connectionInvalid, message: `connection.bodyFile ${spec.bodyFile} must hold one JSON object such as {"name":"nas-1","host":"https://truenas.local","api_key":"…"}`, nonRetryable: true });
    }
    body = { ...(parsed as Record<string, unknown>) };
    if (body.enabled === false) {
      throw ApplicationFailure.create({ type: ENABLE_FAILURES.connectionInvalid, message: `connection.bodyFile ${spec.bodyFile} sets "enabled": false: Pulse's poller skips disabled connections, so the Enable procedure cannot verify it; remove the field or set it to true`, nonRetryable: true });
    }
    if (typeof body.id !== 'string' || !body.id.trim()) body.id = id;
  } else {
    const { apiKey, ...fields } = spec;
    body = { id, ...fields, apiKey: await readSecret(apiKey, 'connection.apiKey') };
  }
  const secrets = [body.apiKey, body.api_key, body.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const host = typeof body.host === 'string' ? body.host : '';
  const port = typeof body.port === 'number' ? body.port : undefined;
  return { body, secrets, warnings: connectionWarnings({ host, port }) };
}

function sameEndpoint(c: TrueNASConnection, body: Record<string, unknown>): boolean {
  const norm = (h: unknown) => (typeof h === 'string' ? h.trim().toLowerCase().replace(/\/+$/, '') : '');
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  return (
    c.enabled !== false &&
    norm(c.host) === norm(body.host) &&
    (c.port ?? 0) === (typeof body.port === 'number' ? body.port : 0) &&
    (name === '' || (c.name ?? '') === name)
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
  input: PulseTargetStep & { step: StepId; expect: EndpointExpectation },
): Promise<StepOutcome<EndpointState>> {
  const action = describeListConnections(input.pulse.url);
  return withClient(input.pulse, async (client) => {
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
    const meaning = state.state === 'enabled' ? 'the TrueNAS integration is on' : 'the TrueNAS integration is off (the flag gates the handlers and the poller alike)';
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
  }, input.line);
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
export async function addConnection(input: PulseTargetStep & { connection: ConnectionSpec; id: string }): Promise<StepOutcome<AddConnectionResult>> {
  const step: StepId = 'enable.5';
  const listAction = describeListConnections(input.pulse.url);
  let resolved: ResolvedBody;
  try {
    resolved = await resolveBody(input.connection, input.id);
  } catch (err) {
    if (!input.plan || !(err instanceof ApplicationFailure)) throw err;
    return {
      value: { id: input.id, outcome: 'planned', host: 'host' in input.connection ? input.connection.host : '(body file)', warnings: [err.message] },
      evidence: evidence(step, 'planned', `Would add a connection, but it would fail now: ${err.message}`, [listAction], { problem: err.type }),
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
      evidence: evidence(step, 'planned', `Would add a connection, but it would be refused: ${refused.message}`, [listAction], { problem: refused.type }),
    };
  }

  return withClient(input.pulse, async (client) => {
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
        evidence: evidence(step, input.plan ? 'planned' : 'ok', input.plan ? `Would not add: ${why}` : why, [listAction], { ...detailsBase, outcome, connection: summarise(found) }),
      };
    }
    if (input.plan) {
      const now = existing ? `${existing.length} connection(s) now, none for this host` : 'the list cannot be read now (404 truenas_disabled): it is read again after the restart';
      return {
        value: { ...base, id, outcome: 'planned' },
        evidence: evidence(step, 'planned', `Would add connection ${id} (${name ?? host}) with apiKey and "enabled": true; ${now}.${warnings.length ? ` Warning: ${warnings.join(' ')}` : ''}`, [listAction, postAction], detailsBase),
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
  }, input.line);
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
export async function testConnection(input: PulseTargetStep & { id: string; connection?: ConnectionSpec }): Promise<StepOutcome<{ method: 'per-id' | 'body' | 'planned' }>> {
  const step: StepId = 'enable.6';
  if (input.plan) {
    const actions: Action[] = [];
    let fallback = 'the body test (the connection fields with the key read from its reference)';
    if (input.connection) {
      try {
        const { body } = await resolveBody(input.connection, input.id);
        actions.push(describeTestConnectionById(input.pulse.url, input.id, storedFields(body)), describeTestConnection(input.pulse.url, body));
        fallback = 'the body test';
      } catch (err) {
        fallback = `the body test, which would fail now: ${(err as Error).message}`;
      }
    }
    if (actions.length === 0) actions.push(describeTestConnectionById(input.pulse.url, input.id));
    return {
      value: { method: 'planned' },
      evidence: evidence(step, 'planned', `Would test connection ${input.id} with the per-id test (the stored connection, secrets masked); where Pulse answers 405 (Feb, v6-rel), with ${fallback}.`, actions),
    };
  }
  return withClient(input.pulse, async (client) => {
    const stored = (await client.listConnections()).find((c) => c.id === input.id);
    if (!stored) throw testFailed(`Connection ${input.id} is not stored in Pulse: was it deleted while the procedure ran?`);
    const overrides = storedFields(stored);
    const perIdAction = describeTestConnectionById(input.pulse.url, input.id, overrides);
    try {
      const r = await client.testConnectionById(input.id, overrides);
      if (!r.success) throw testFailed(`POST ${PULSE_PATHS.connections}/${input.id}/test answered success=false`);
      return {
        value: { method: 'per-id' },
        evidence: evidence(step, 'ok', `Pulse reached the NAS with the stored connection ${input.id}: POST …/${input.id}/test answered ${r.status} {"success":true}.`, [perIdAction], { status: r.status, method: 'per-id' }),
      };
    } catch (err) {
      if (err instanceof PulseNotFoundError && err.code === 'truenas_not_found') {
        throw testFailed(`Connection ${input.id} is not stored in Pulse (404 truenas_not_found): was it deleted while the procedure ran?`);
      }
      if (err instanceof PulseValidationError) throw connectionFailed(err, []);
      if (!(err instanceof PulseMethodNotAllowed || err instanceof PulseNotFoundError)) throw err;
    }
    // The per-id route is absent on this Pulse line: the runbook's body test, with the key read again here.
    if (!input.connection) {
      throw testFailed(`This Pulse has no per-id test (405) and connection ${input.id} was not given to this run, so the body test cannot be sent; test it in Pulse's UI`);
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
  }, input.line);
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
    message: scrub(`The connection test failed: ${err.message}${reason && !err.message.includes(reason) ? ` (Pulse: "${reason}")` : ''}. This means ${why.meaning}; ${why.fix}`, secrets),
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
export async function verifyPollerRuns(input: PulseTargetStep & { id: string }): Promise<StepOutcome<PollerCheck>> {
  const step: StepId = 'enable.4';
  const actions: Action[] = [describeListConnections(input.pulse.url), describeRefreshState(input.pulse.url), describeListTrueNASResources(input.pulse.url)];
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
  return withClient(input.pulse, async (client) => {
    const list = await client.listConnections();
    const mine = list.find((c) => c.id === input.id);
    const poll = mine?.poll;
    const line = lineFromConnections(list);
    if (poll?.lastAttemptAt) {
      const failure = failedAttempt(poll, []);
      const base = { observed: true, signal: 'poll-state' as const, lastAttemptAt: poll.lastAttemptAt, lastSuccessAt: poll.lastSuccessAt, consecutiveFailures: poll.consecutiveFailures ?? 0, resources: 0, ...(line && { line: line.line }) };
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
          { signal: 'poll-state', poll: summarise(mine as TrueNASConnection).poll, line: line?.line, ...(mine?.observed && { observed: mine.observed }) },
        ),
      };
    }
    if (poll) {
      // v6 lists the record before the first attempt ({intervalSeconds} only): the poller has not reached it yet.
      return {
        value: { observed: false, signal: 'none', resources: 0, ...(line && { line: line.line }) },
        evidence: evidence(step, 'inconclusive', `Connection ${input.id} has not been polled yet (its poll record has no lastAttemptAt; Pulse polls every ${String(poll.intervalSeconds ?? 60)} s).`, [actions[0]], {
          signal: 'none',
          poll: summarise(mine as TrueNASConnection).poll,
        }),
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
  }, input.line);
}

// --- enable.7 / disable.5 / prereq.1 ---------------------------------------------------------------------------

export type ResourceExpectation = 'present' | 'stale-or-gone' | 'report';

export type { ResourceView } from './support/truenas-resources.js';

export interface ResourceInspection {
  total: number;
  online: number;
  stale: number;
  offline: number;
  missing: number;
  endpoint: string;
  /** The Pulse line the resources route told (feb | v6). */
  line?: string;
  /** Up to 25 resources, for evidence (the counts cover all of them). */
  resources: ResourceView[];
}

/**
 * Every TrueNAS resource, all pages, read after a state refresh (activities/support/truenas-resources.ts), with
 * the resource status and the TrueNAS source status the runbook's jq prints, judged as the Pulse line allows.
 * Read-only; runs in plan mode too.
 */
export async function inspectTrueNASResources(
  input: PulseTargetStep & { step: StepId; staleThresholdSeconds: number; expect: ResourceExpectation },
): Promise<StepOutcome<ResourceInspection>> {
  return withClient(input.pulse, async (client) => {
    const read = await readTrueNASResources(client, input.pulse.url, input.staleThresholdSeconds);
    const { summary } = read;
    const value: ResourceInspection = {
      total: summary.total,
      online: summary.online,
      stale: summary.stale,
      offline: summary.offline,
      missing: summary.missing,
      endpoint: read.listing.endpoint,
      line: read.line.line,
      resources: read.views,
    };
    const seen = describeResources(read);
    let verdict: Evidence['verdict'] = 'ok';
    let meaning = '';
    if (input.expect === 'present') {
      verdict = summary.total > 0 ? 'ok' : 'inconclusive';
      meaning = summary.total > 0 ? ': TrueNAS resources appear' : ': none yet';
    } else if (input.expect === 'stale-or-gone') {
      verdict = summary.online === 0 ? 'ok' : 'inconclusive';
      meaning =
        summary.total === 0
          ? `: ${vanishedText(read)}`
          : summary.online === 0
            ? ': none reports fresh TrueNAS data any more'
            : `: ${summary.online} still report fresh TrueNAS data`;
    }
    const text = `${seen.charAt(0).toUpperCase()}${seen.slice(1)}${meaning}. ${read.how}`;
    return {
      value,
      evidence: evidence(input.step, input.plan ? 'planned' : verdict, input.plan ? `Now: ${text}` : text, read.actions, resourceDetails(read, input.staleThresholdSeconds)),
    };
  }, input.line);
}
