/**
 * The audit trail of one workflow run, read from its history: every human action the server recorded there.
 *
 * Why history and not the runs' results or queries: history is what the server wrote as requests arrived, for every
 * workflow type, including runs that failed or were terminated and never produced a result; each request carries
 * the client's identity (`pulse-runbook:<actor>@<host>`) and our actor header (src/identity/header.ts) next to the
 * decoded payload, and an update's outcome is the next event. Results and queries hold only what each workflow
 * chose to keep, and a query needs a worker. One limit: an update its validator refused is never written to
 * history (that is what validators are for), so refusals are not in the trail; the CLI reports them to the person.
 *
 * What counts as a human action: a workflow started by a client (not a child or a continue-as-new run), an update
 * (accepted, then completed or failed), a signal from a client, a cancel request and a termination. Facts shown
 * are an allow-list of the fields people write (summary, reason, evidence, ...), sanitized: never whole inputs,
 * which may hold webhook URLs or host paths.
 */
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { parseClientIdentity } from '../identity/resolve.js';
import { readActorHeader } from '../identity/header.js';
import type { ActorSource } from '../identity/sources.js';
import { sanitizeText, sanitizeValue } from '../incident/sanitize.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface AuditEvent {
  /** When the server recorded the request (ISO-8601). */
  at: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** start, update:<name>, signal:<name>, cancel-request, terminate. */
  action: string;
  /** Who acted: the name in the payload (what the workflow recorded), else the actor header's, else the identity's. */
  actor: string;
  /** How the CLI determined the actor; `unknown` when the request did not come from this CLI. */
  actorSource: ActorSource | 'unknown';
  /** The Temporal client identity the server recorded with the request. */
  identity: string;
  /** Set when the payload names a different person from the one the sending CLI resolved: worth a look. */
  actorMismatch?: { payload: string; sender: string };
  /**
   * A start: how the run ended (RunOutcome). An update: accepted (still running), completed or failed.
   * Everything else: recorded.
   */
  outcome: 'recorded' | 'accepted' | RunOutcome;
  /** When an update completed or failed. */
  completedAt?: string;
  /** One line: what the person wrote and what the workflow answered. */
  evidence: string;
  /** The same facts, structured (allow-listed and sanitized). */
  facts: Record<string, unknown>;
  eventId: number;
  updateId?: string;
  /** The id of the identity token the actor used, when there was one (never the token). */
  tokenId?: string;
}

/**
 * How a run ended, as an auditor reads it: a completed run whose result says `plan: true` is "planned", one whose
 * result says `outcome: "aborted"` (a canary) is "aborted".
 */
export type RunOutcome =
  'running' | 'completed' | 'failed' | 'aborted' | 'planned' | 'canceled' | 'terminated' | 'timed-out' | 'continued-as-new';

export interface RunRef {
  workflowId: string;
  runId: string;
  workflowType: string;
}

/** Payloads → values, through the client's codec (so encrypted history reads as plain values). */
export type PayloadDecoder = (payloads: Payload[]) => Promise<unknown[]>;

/** A decoder from a client's loaded data converter: codecs in reverse order, then the payload converter. */
export function decoderFor(converter: {
  payloadCodecs: Array<{ decode(p: Payload[]): Promise<Payload[]> }>;
  payloadConverter: { fromPayload<T>(p: Payload): T };
}): PayloadDecoder {
  return async (payloads) => {
    let decoded = payloads;
    for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return decoded.map((p) => converter.payloadConverter.fromPayload<unknown>(p));
  };
}

function timeOf(event: HistoryEvent): string {
  const t = event.eventTime;
  if (!t) return new Date(0).toISOString();
  const seconds =
    typeof t.seconds === 'object' && t.seconds !== null ? (t.seconds as { toNumber(): number }).toNumber() : Number(t.seconds ?? 0);
  return new Date(seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

const idOf = (event: HistoryEvent) =>
  Number(
    typeof event.eventId === 'object' && event.eventId !== null
      ? (event.eventId as { toNumber(): number }).toNumber()
      : (event.eventId ?? 0),
  );

async function decodeAll(decode: PayloadDecoder, payloads: Payload[] | null | undefined): Promise<unknown[]> {
  if (!payloads?.length) return [];
  try {
    return await decode(payloads);
  } catch (err) {
    // A payload this key file cannot read (a removed key): say so instead of dropping the event.
    return [{ undecodable: sanitizeText((err as Error).message) }];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Facts: what people write, picked by name

const TEXT_FIELDS = [
  'title',
  'summary',
  'reason',
  'severityReason',
  'comment',
  'note',
  'description',
  'evidence',
  'phase',
  'severity',
  'impacts',
  'scope',
  'to',
  'finalOwner',
  'issue',
  'source',
  'instance',
  'version',
  'commit',
  'workflowId',
  'rollout',
  'plan',
  'procedure',
  'roles',
  'pulse',
  // set by decodeAll when the key file cannot read a payload
  'undecodable',
] as const;
const MAX_TEXT = 300;
/** JWTs are not caught by the field-name and inline patterns of sanitize: mask them wherever they appear. */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;

function clip(value: string): string {
  const clean = sanitizeText(value).replace(JWT, '********');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

function scalar(v: unknown): unknown {
  if (typeof v === 'string') return clip(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  return undefined;
}

/** The allow-listed facts of a payload (an update's argument, a start's input); nested objects only where known. */
export function pickFacts(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const v = sanitizeValue(value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const key of TEXT_FIELDS) {
    const field = v[key];
    if (field === undefined) continue;
    const s = scalar(field);
    if (s !== undefined) {
      out[key] = s;
    } else if (Array.isArray(field)) {
      out[key] = field
        .slice(0, 20)
        .map(scalar)
        .filter((x) => x !== undefined);
    } else if (field && typeof field === 'object') {
      const o = field as Record<string, unknown>;
      if (key === 'evidence') {
        if (Array.isArray(o.links)) out.links = o.links.slice(0, 20).map(scalar);
        if (typeof o.workflowId === 'string') out.evidenceWorkflowId = clip(o.workflowId);
        if (o.details && typeof o.details === 'object') {
          out.details = Object.fromEntries(
            Object.entries(o.details as Record<string, unknown>)
              .slice(0, 20)
              .map(([k, d]) => [clip(k), scalar(d) ?? null]),
          );
        }
      } else if (key === 'procedure' || key === 'instance') {
        if (typeof o.name === 'string') out[key] = clip(o.name);
      } else if (key === 'pulse') {
        if (typeof o.url === 'string') out.pulseUrl = clip(o.url);
      } else if (key === 'source') {
        if (typeof o.workflowId === 'string')
          out.source = `${typeof o.procedure === 'string' ? `${o.procedure} ` : ''}${clip(o.workflowId)}`;
      } else if (key === 'roles') {
        out.roles = Object.fromEntries(
          Object.entries(o).map(([role, names]) => [clip(role), Array.isArray(names) ? names.slice(0, 200).map(scalar) : []]),
        );
      }
    }
  }
  return out;
}

/** Facts of an update's answer worth keeping: ids, the state it left, and checklist tallies. */
export function pickResultFacts(value: unknown): Record<string, unknown> {
  const checklist = (items: unknown) =>
    Array.isArray(items) && items.every((i) => i && typeof i === 'object' && 'ok' in i)
      ? `${items.filter((i) => (i as { ok: boolean }).ok).length}/${items.length} checklist items ok`
      : undefined;
  const direct = checklist(value);
  if (direct) return { checklist: direct };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of ['id', 'status', 'severity', 'owner', 'phase', 'actionIndex', 'childWorkflowId', 'version', 'commit']) {
    const s = scalar(v[key]);
    if (s !== undefined) out[key] = s;
  }
  const snap = checklist(v.snapshot);
  if (snap) out.checklist = snap;
  return out;
}

export function evidenceLine(facts: Record<string, unknown>, result: Record<string, unknown> = {}): string {
  const show = (v: unknown): string =>
    Array.isArray(v) ? v.map(show).join(', ') : v && typeof v === 'object' ? JSON.stringify(v) : String(v);
  const parts = Object.entries(facts).map(([k, v]) => `${k}: ${show(v)}`);
  const answer = Object.entries(result).map(([k, v]) => `${k} ${show(v)}`);
  return [...parts, ...(answer.length ? [`→ ${answer.join(', ')}`] : [])].join('; ');
}

// ---------------------------------------------------------------------------------------------------------------
// Who

function who(
  payloadActor: unknown,
  header: ReturnType<typeof readActorHeader>,
  identity: string,
  payloadSource?: unknown,
): Pick<AuditEvent, 'actor' | 'actorSource' | 'actorMismatch' | 'tokenId'> {
  const fromIdentity = parseClientIdentity(identity)?.actor;
  const sender = header?.actor ?? fromIdentity;
  const named = typeof payloadActor === 'string' && payloadActor ? clip(payloadActor) : undefined;
  const source =
    header?.actorSource ??
    (typeof payloadSource === 'string' && ['os-user', 'token', 'claimed'].includes(payloadSource)
      ? (payloadSource as ActorSource)
      : 'unknown');
  return {
    actor: named ?? sender ?? (identity ? clip(identity) : 'unknown'),
    actorSource: source,
    ...(named && sender && named !== sender && { actorMismatch: { payload: named, sender } }),
    ...(header?.tokenId && { tokenId: header.tokenId }),
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function auditEventsFromHistory(events: readonly HistoryEvent[], run: RunRef, decode: PayloadDecoder): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  const updates = new Map<string, AuditEvent>();
  const base = (event: HistoryEvent) => ({
    at: timeOf(event),
    eventId: idOf(event),
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
  });

  for (const event of events) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      // A child's or a continue-as-new run's start is the workflow's own doing; the human action is upstream.
      if (started.parentWorkflowExecution?.workflowId || started.continuedExecutionRunId) continue;
      const [input] = await decodeAll(decode, started.input?.payloads as Payload[]);
      const i = (input ?? {}) as Record<string, unknown>;
      const facts = pickFacts(input);
      const identity = started.identity ?? '';
      out.push({
        ...base(event),
        action: 'start',
        ...who(i.openedBy ?? i.startedBy, readActorHeader(started.header?.fields as Record<string, Payload>), identity, i.openedBySource),
        identity,
        outcome: 'recorded',
        evidence: evidenceLine(facts),
        facts,
      });
      continue;
    }

    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const request = accepted.acceptedRequest;
      const [arg] = await decodeAll(decode, request?.input?.args?.payloads as Payload[]);
      const a = (arg ?? {}) as Record<string, unknown>;
      const facts = pickFacts(arg);
      const identity = request?.meta?.identity ?? '';
      const updateId = request?.meta?.updateId ?? accepted.protocolInstanceId ?? '';
      const entry: AuditEvent = {
        ...base(event),
        action: `update:${request?.input?.name ?? '?'}`,
        ...who(a.actor, readActorHeader(request?.input?.header?.fields as Record<string, Payload>), identity, a.actorSource),
        identity,
        outcome: 'accepted',
        evidence: evidenceLine(facts),
        facts,
        updateId,
      };
      updates.set(updateId, entry);
      out.push(entry);
      continue;
    }

    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const entry = updates.get(completed.meta?.updateId ?? '');
      if (!entry) continue;
      entry.completedAt = timeOf(event);
      if (completed.outcome?.failure) {
        entry.outcome = 'failed';
        const message = await failureMessage(completed.outcome.failure, decode);
        entry.facts = { ...entry.facts, failure: message };
        entry.evidence = evidenceLine(entry.facts);
      } else {
        entry.outcome = 'completed';
        const [result] = await decodeAll(decode, completed.outcome?.success?.payloads as Payload[]);
        const answer = pickResultFacts(result);
        if (Object.keys(answer).length) entry.facts = { ...entry.facts, result: answer };
        entry.evidence = evidenceLine(Object.fromEntries(Object.entries(entry.facts).filter(([k]) => k !== 'result')), answer);
      }
      continue;
    }

    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled) {
      if (signaled.externalWorkflowExecution?.workflowId) continue; // sent by another workflow
      const [arg] = await decodeAll(decode, signaled.input?.payloads as Payload[]);
      const facts = pickFacts(arg);
      const identity = signaled.identity ?? '';
      out.push({
        ...base(event),
        action: `signal:${signaled.signalName ?? '?'}`,
        ...who(
          (arg as { actor?: unknown } | undefined)?.actor,
          readActorHeader(signaled.header?.fields as Record<string, Payload>),
          identity,
        ),
        identity,
        outcome: 'recorded',
        evidence: evidenceLine(facts),
        facts,
      });
      continue;
    }

    const cancel = event.workflowExecutionCancelRequestedEventAttributes;
    if (cancel) {
      if (cancel.externalWorkflowExecution?.workflowId) continue;
      const identity = cancel.identity ?? '';
      const facts = cancel.cause ? { reason: clip(cancel.cause) } : {};
      out.push({
        ...base(event),
        action: 'cancel-request',
        ...who(undefined, undefined, identity),
        identity,
        outcome: 'recorded',
        evidence: evidenceLine(facts),
        facts,
      });
      continue;
    }

    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated) {
      const identity = terminated.identity ?? '';
      const facts = terminated.reason ? { reason: clip(terminated.reason) } : {};
      out.push({
        ...base(event),
        action: 'terminate',
        ...who(undefined, undefined, identity),
        identity,
        outcome: 'recorded',
        evidence: evidenceLine(facts),
        facts,
      });
    }
  }
  const start = out.find((e) => e.action === 'start');
  if (start) {
    const ended = await runOutcomeFromHistory(events, decode);
    start.outcome = ended.outcome;
    if (ended.detail)
      start.evidence = start.evidence ? `${start.evidence} → ${ended.outcome}: ${ended.detail}` : `${ended.outcome}: ${ended.detail}`;
  }
  return out;
}

/** How the run whose history this is ended, with the failure's message or the abort's reason. */
export async function runOutcomeFromHistory(
  events: readonly HistoryEvent[],
  decode: PayloadDecoder,
): Promise<{ outcome: RunOutcome; detail?: string }> {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    const completed = e.workflowExecutionCompletedEventAttributes;
    if (completed) {
      const [result] = await decodeAll(decode, completed.result?.payloads as Payload[]);
      return resultOutcome(result);
    }
    const failed = e.workflowExecutionFailedEventAttributes;
    if (failed) return { outcome: 'failed', ...(failed.failure && { detail: await failureMessage(failed.failure, decode) }) };
    if (e.workflowExecutionCanceledEventAttributes) return { outcome: 'canceled' };
    if (e.workflowExecutionTerminatedEventAttributes)
      return {
        outcome: 'terminated',
        ...(e.workflowExecutionTerminatedEventAttributes.reason && { detail: clip(e.workflowExecutionTerminatedEventAttributes.reason) }),
      };
    if (e.workflowExecutionTimedOutEventAttributes) return { outcome: 'timed-out' };
    if (e.workflowExecutionContinuedAsNewEventAttributes) return { outcome: 'continued-as-new' };
  }
  return { outcome: 'running' };
}

/** A completed run's result: planned, aborted (with its reason) or completed. */
export function resultOutcome(result: unknown): { outcome: RunOutcome; detail?: string } {
  const r = (result ?? {}) as { plan?: unknown; outcome?: unknown; abort?: { reason?: unknown; criterion?: unknown } };
  if (r.plan === true) return { outcome: 'planned' };
  if (r.outcome === 'aborted') {
    const reason = typeof r.abort?.reason === 'string' ? r.abort.reason : undefined;
    return { outcome: 'aborted', ...(reason && { detail: clip(sanitizeText(reason)) }) };
  }
  return { outcome: 'completed' };
}

/** A failure's message: from its encoded attributes when the failure converter encrypted it. */
async function failureMessage(failure: temporal.api.failure.v1.IFailure, decode: PayloadDecoder): Promise<string> {
  let message = failure.message ?? '';
  if (failure.encodedAttributes) {
    const [attrs] = await decodeAll(decode, [failure.encodedAttributes as Payload]);
    if (attrs && typeof attrs === 'object' && typeof (attrs as { message?: unknown }).message === 'string')
      message = (attrs as { message: string }).message;
  }
  const type = failure.applicationFailureInfo?.type;
  return clip(`${type ? `${type}: ` : ''}${message}`);
}
