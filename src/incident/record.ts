/**
 * How the incident record changes, as pure functions over plain JSON: the workflow calls them from its update
 * handlers and timers, unit tests call them directly. Each change is stamped with the actor and the (workflow)
 * time it was given, appended to `updates`, and sanitized on entry so no pasted secret is ever stored.
 *
 * `checkUpdate` is what the workflow's update validators run: it parses the payload with the update's zod
 * schema and checks the incident's state, and refuses with an ApplicationFailure whose message names the field.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  UPDATE_SCHEMAS,
  type IncidentInput,
  type IncidentUpdateName,
  type Owner,
  type Severity,
  type IncidentUpdateInput,
} from '../config/incident.js';
import type { ActorSource } from '../identity/sources.js';
import type { LinkedProcedure, ProcedureOutcome } from '../config/incident.js';
import { INCIDENT_FAILURE_TYPES } from './failure-types.js';
import { roleRefusal } from './roles.js';
import { classifySeverity, defaultScope, escalationPlan, routeIncident, severityRule } from './rules.js';
import { sanitizeText, sanitizeValue } from './sanitize.js';
import { OWNERSHIP_TABLE } from './tables.js';
import type { EscalationTimer, IncidentAction, IncidentNotification, IncidentRecord } from './types.js';
import type { z } from 'zod';

export type UpdateInputs = { [N in IncidentUpdateName]: IncidentUpdateInput<N> };

const iso = (ms: number) => new Date(ms).toISOString();
/** `actorSource` for an update entry, only when the sender said how it determined the actor. */
const source = (actorSource: ActorSource | undefined) => (actorSource ? { actorSource } : {});

/** The record as it is when the incident opens: classified, routed, the first owner assigned. */
export function openRecord(id: string, input: IncidentInput, nowMs: number): IncidentRecord {
  const at = iso(nowMs);
  const byRules = input.impacts.length > 0 ? classifySeverity(input.impacts) : undefined;
  const severity = input.severity ?? byRules!.severity;
  const scope = input.scope ?? defaultScope(input.impacts);
  const routing = routeIncident(scope, severity);
  const by = sanitizeText(input.openedBy);
  const record: IncidentRecord = {
    id,
    title: sanitizeText(input.title),
    ...(input.summary && { summary: sanitizeText(input.summary) }),
    scope,
    status: 'open',
    plan: input.plan,
    severity,
    responseTarget: severityRule(severity).response,
    owner: routing.owner,
    escalationOwner: routing.escalationOwner,
    openedAt: at,
    openedBy: by,
    ...(input.source && { source: input.source }),
    severityHistory: [
      input.severity
        ? { at, by, severity, source: 'person', reason: sanitizeText(input.severityReason ?? ''), impacts: [...input.impacts] }
        : { at, by, severity, source: 'rules', reason: byRules!.reason, impacts: [...input.impacts] },
    ],
    handoffs: [
      {
        at,
        by,
        to: routing.owner,
        kind: 'initial',
        reason: `${severity}, ${OWNERSHIP_TABLE[scope].description}: primary owner ${routing.owner}`,
      },
    ],
    actions: [],
    notifications: routing.notifications.map((n) => ({ ...n, at, deliveries: [] })),
    timers: [],
    updates: [
      { at, by, ...source(input.openedBySource), update: 'open', summary: `opened as ${severity} (${scope}), owner ${routing.owner}` },
    ],
    calendar: input.calendar,
    ...(input.roles && { roles: input.roles }),
  };
  return record;
}

/** Starts the escalation timer of the current severity; a pending timer of an earlier severity is superseded. */
export function armTimer(record: IncidentRecord, input: Pick<IncidentInput, 'timers' | 'calendar'>, fromMs: number): EscalationTimer {
  for (const t of record.timers) {
    if (t.outcome === 'pending') {
      t.outcome = 'superseded';
      t.settledAt = iso(fromMs);
    }
  }
  const plan = escalationPlan(record.severity, fromMs, input.timers, input.calendar);
  const timer: EscalationTimer = {
    severity: record.severity,
    condition: plan.condition,
    startedAt: iso(fromMs),
    deadline: iso(plan.deadlineMs),
    rule: plan.rule,
    escalateTo: record.escalationOwner,
    outcome: record.plan ? 'planned' : 'pending',
  };
  record.timers.push(timer);
  return timer;
}

/** Whether what the timer waits for has happened. Containment counts as mitigation (it is the stronger one). */
export function timerConditionMet(record: IncidentRecord, timer: EscalationTimer): boolean {
  if (record.resolution) return true;
  if (timer.condition === 'containment') return record.containmentStartedAt !== undefined;
  if (timer.condition === 'mitigation') return record.mitigationStartedAt !== undefined || record.containmentStartedAt !== undefined;
  return false;
}

export function settleTimer(timer: EscalationTimer, outcome: 'met' | 'escalated', nowMs: number): void {
  timer.outcome = outcome;
  timer.settledAt = iso(nowMs);
}

/**
 * The deadline passed: the escalation owner is notified and takes over ownership (a handoff of kind
 * 'escalation' by the escalation timer), unless they already own the incident.
 */
export function applyEscalation(record: IncidentRecord, timer: EscalationTimer, nowMs: number): IncidentNotification {
  const at = iso(nowMs);
  settleTimer(timer, 'escalated', nowMs);
  const what = timer.condition === 'resolution' ? 'unresolved' : `${timer.condition} not started`;
  const notification: IncidentNotification = {
    at,
    kind: 'escalation',
    to: timer.escalateTo,
    reason: `${timer.rule}: ${what} by ${timer.deadline}; escalated to ${timer.escalateTo}`,
    deliveries: [],
  };
  record.notifications.push(notification);
  if (record.owner !== timer.escalateTo) {
    record.handoffs.push({ at, by: 'escalation-timer', from: record.owner, to: timer.escalateTo, kind: 'escalation', reason: timer.rule });
    record.owner = timer.escalateTo;
  }
  record.updates.push({ at, by: 'escalation-timer', update: 'escalate', summary: notification.reason });
  return notification;
}

// ---------------------------------------------------------------------------------------------------------------
// Updates

function refuse(update: string, message: string, type: string, problems: string[] = [message]): ApplicationFailure {
  return ApplicationFailure.create({ message: `${update} refused: ${message}`, type, nonRetryable: true, details: [{ problems }] });
}

/** Parses and checks an update against the incident's state; throws an ApplicationFailure that names the field. */
export function checkUpdate<N extends IncidentUpdateName>(record: IncidentRecord, name: N, raw: unknown): UpdateInputs[N] {
  const schema = UPDATE_SCHEMAS[name] as unknown as z.ZodType<UpdateInputs[N]>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`);
    throw refuse(name, problems.join('; '), INCIDENT_FAILURE_TYPES.invalidUpdate, problems);
  }
  const input = parsed.data;
  // Who may act comes first: someone outside the incident's roles learns nothing about its state.
  const notAllowed = roleRefusal(record, name, input as { actor: string; finalOwner?: string });
  if (notAllowed) throw refuse(name, notAllowed, INCIDENT_FAILURE_TYPES.actorNotAllowed);
  if (record.plan)
    throw refuse(name, 'this incident is a plan (opened with plan: true) and takes no updates', INCIDENT_FAILURE_TYPES.refusedUpdate);
  if (record.resolution) {
    throw refuse(
      name,
      `the incident was resolved by ${record.resolution.by} at ${record.resolution.at}; open a new incident instead`,
      INCIDENT_FAILURE_TYPES.refusedUpdate,
    );
  }
  if (name === 'acknowledge' && record.acknowledged) {
    throw refuse(
      name,
      `already acknowledged by ${record.acknowledged.by} at ${record.acknowledged.at}`,
      INCIDENT_FAILURE_TYPES.refusedUpdate,
    );
  }
  if (name === 'handoff' && (input as IncidentUpdateInput<'handoff'>).to === record.owner) {
    throw refuse(name, `to: ${record.owner} already owns this incident; name another owner`, INCIDENT_FAILURE_TYPES.refusedUpdate);
  }
  return input;
}

function acknowledgeIfNeeded(record: IncidentRecord, by: string, at: string, how: string, actorSource: ActorSource | undefined): void {
  if (record.acknowledged) return;
  record.acknowledged = { at, by };
  if (record.status === 'open') record.status = 'acknowledged';
  record.updates.push({ at, by, ...source(actorSource), update: 'acknowledge', summary: how });
}

export function applyAcknowledge(record: IncidentRecord, input: IncidentUpdateInput<'acknowledge'>, nowMs: number): void {
  const by = sanitizeText(input.actor);
  acknowledgeIfNeeded(record, by, iso(nowMs), input.note ? `acknowledged: ${sanitizeText(input.note)}` : 'acknowledged', input.actorSource);
}

function pushAction(record: IncidentRecord, action: Omit<IncidentAction, 'index'>): IncidentAction {
  const entry: IncidentAction = { index: record.actions.length, ...action };
  record.actions.push(entry);
  return entry;
}

/** Containment or mitigation starts; the first one stops the P1/P2 timer. Implies acknowledgement. */
export function applyStartResponse(record: IncidentRecord, input: IncidentUpdateInput<'startResponse'>, nowMs: number): IncidentAction {
  const at = iso(nowMs);
  const by = sanitizeText(input.actor);
  acknowledgeIfNeeded(record, by, at, `acknowledged implicitly by starting ${input.phase}`, input.actorSource);
  if (input.phase === 'containment') {
    record.containmentStartedAt ??= at;
    record.status = 'containing';
  } else {
    record.mitigationStartedAt ??= at;
    if (record.status !== 'containing') record.status = 'mitigating';
  }
  const summary = sanitizeText(input.summary);
  record.updates.push({
    at,
    by,
    ...source(input.actorSource),
    update: 'startResponse',
    summary: `${input.phase} started: ${summary}${input.procedure ? ` (runs ${input.procedure.name})` : ''}`,
  });
  return pushAction(record, { at, by, kind: input.phase, summary, ...(input.evidence && { evidence: sanitizeValue(input.evidence) }) });
}

/** A person sets the severity. A change re-routes notifications and restarts the escalation timer. */
export function applyClassify(
  record: IncidentRecord,
  input: IncidentUpdateInput<'classify'>,
  nowMs: number,
): { changed: boolean; notifications: IncidentNotification[] } {
  const at = iso(nowMs);
  const by = sanitizeText(input.actor);
  const previous: Severity = record.severity;
  const severity = input.severity;
  record.severityHistory.push({
    at,
    by,
    severity,
    source: 'person',
    reason: sanitizeText(input.reason),
    impacts: input.impacts ?? record.severityHistory.at(-1)!.impacts,
  });
  record.updates.push({
    at,
    by,
    ...source(input.actorSource),
    update: 'classify',
    summary: `${previous} → ${severity}: ${sanitizeText(input.reason)}`,
  });
  if (severity === previous) return { changed: false, notifications: [] };
  record.severity = severity;
  record.responseTarget = severityRule(severity).response;
  const notifications = routeIncident(record.scope, severity).notifications.map((n) => ({ ...n, at, deliveries: [] }));
  record.notifications.push(...notifications);
  return { changed: true, notifications };
}

export function applyHandoff(record: IncidentRecord, input: IncidentUpdateInput<'handoff'>, nowMs: number): void {
  const at = iso(nowMs);
  const by = sanitizeText(input.actor);
  const reason = input.reason ? sanitizeText(input.reason) : `handed off by ${by}`;
  record.handoffs.push({ at, by, from: record.owner, to: input.to as Owner, kind: 'handoff', reason });
  record.updates.push({ at, by, ...source(input.actorSource), update: 'handoff', summary: `${record.owner} → ${input.to}: ${reason}` });
  record.owner = input.to as Owner;
}

export function applyRecordAction(record: IncidentRecord, input: IncidentUpdateInput<'recordAction'>, nowMs: number): IncidentAction {
  const at = iso(nowMs);
  const by = sanitizeText(input.actor);
  const summary = sanitizeText(input.summary);
  record.updates.push({ at, by, ...source(input.actorSource), update: 'recordAction', summary });
  return pushAction(record, { at, by, kind: 'action', summary, ...(input.evidence && { evidence: sanitizeValue(input.evidence) }) });
}

export function applyResolve(record: IncidentRecord, input: IncidentUpdateInput<'resolve'>, nowMs: number): void {
  const at = iso(nowMs);
  const by = sanitizeText(input.actor);
  const summary = sanitizeText(input.summary);
  record.resolution = { at, by, finalOwner: input.finalOwner as Owner, summary };
  record.status = 'resolved';
  record.updates.push({
    at,
    by,
    ...source(input.actorSource),
    update: 'resolve',
    summary: `resolved, final resolution owner ${input.finalOwner}: ${summary}`,
  });
}

/** The action a procedure-opened incident starts with: the procedure itself is the containment or mitigation. */
export function applySourceProcedure(record: IncidentRecord, nowMs: number): IncidentAction | undefined {
  const source = record.source;
  if (!source) return undefined;
  const at = iso(nowMs);
  const phase = source.procedure === 'kill-switch' ? 'containment' : 'mitigation';
  if (phase === 'containment') record.containmentStartedAt ??= at;
  else record.mitigationStartedAt ??= at;
  record.status = phase === 'containment' ? 'containing' : 'mitigating';
  return pushAction(record, {
    at,
    by: record.openedBy,
    kind: 'procedure',
    summary: `${source.procedure} run ${source.workflowId} was started on its own; this record was opened for it (runbook escalation step 3)`,
    evidence: { workflowId: source.workflowId },
  });
}

/**
 * The outcome a procedure that opened this record reports when it ends: recorded on the record's own procedure
 * action (as its child run) and in the update trail, so a failed procedure is never hidden behind "mitigating".
 * Returns undefined when the record was not opened for that run. `workflowTypes` names each procedure's workflow
 * type (workflows/incident.messages.ts: this folder knows no workflow).
 */
export function applyProcedureOutcome(
  record: IncidentRecord,
  outcome: ProcedureOutcome,
  nowMs: number,
  workflowTypes: Readonly<Record<LinkedProcedure, string>>,
): IncidentAction | undefined {
  const source = record.source;
  if (!source || source.workflowId !== outcome.workflowId) return undefined;
  const action = record.actions.find((a) => a.kind === 'procedure' && a.evidence?.workflowId === source.workflowId);
  if (!action) return undefined;
  const at = iso(nowMs);
  const leftToDo = outcome.leftToDo.map((t) => sanitizeText(t));
  action.child = {
    procedure: source.procedure,
    workflowType: workflowTypes[source.procedure],
    workflowId: source.workflowId,
    ...(source.runId && { runId: source.runId }),
    status: outcome.status,
    finishedAt: at,
    outcome: sanitizeText(outcome.message),
    ...(outcome.failedStep && { failedStep: outcome.failedStep }),
    ...(leftToDo.length > 0 && { leftToDo }),
  };
  const left = leftToDo.length ? `; left to do: ${leftToDo.join('; ')}` : '';
  record.updates.push({
    at,
    by: `workflow:${action.child.workflowType}`,
    update: 'procedureOutcome',
    summary: `${source.procedure} ${outcome.status}${outcome.failedStep ? ` at ${outcome.failedStep}` : ''}: ${sanitizeText(outcome.message)}${left}`,
  });
  return action;
}

// ---------------------------------------------------------------------------------------------------------------
// Child procedure results

/** A small, redacted copy of a procedure's result: scalar fields and one line per evidence entry. */
export function compactResult(result: unknown): { outcome: string; result: Record<string, unknown> } {
  if (!result || typeof result !== 'object') return { outcome: 'completed', result: { value: sanitizeValue(result) as unknown } };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    if (k === 'evidence') continue;
    const small =
      v === null ||
      ['string', 'number', 'boolean'].includes(typeof v) ||
      (Array.isArray(v) && v.length <= 50 && v.every((x) => typeof x !== 'object'));
    if (small || (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length <= 10)) out[k] = v;
  }
  const evidence = (result as { evidence?: Array<{ step: string; verdict: string; summary: string; at: string }> }).evidence ?? [];
  out.steps = evidence.map((e) => ({ step: e.step, verdict: e.verdict, at: e.at, summary: e.summary }));
  const last = evidence.at(-1);
  const outcome = `completed${last ? `; last step [${last.step}] ${last.verdict}: ${last.summary}` : ''}`;
  return { outcome: sanitizeText(outcome), result: sanitizeValue(out) };
}
