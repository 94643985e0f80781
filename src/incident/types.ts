/**
 * The incident record: what the runbook asks to capture (owner handoff timestamps, actions taken with their
 * evidence, final resolution owner) plus the classification, the escalation timers and the notifications.
 * Plain JSON: it lives in workflow state, answers the `record` query, is the workflow's result and is exported
 * by `pulse-runbook incident report`. Every time is ISO-8601 workflow time; every `by` is the actor as given.
 */
import type {
  ActionEvidence,
  BusinessCalendar,
  Impact,
  IncidentRoles,
  IncidentSource,
  Owner,
  Scope,
  Severity,
} from '../config/incident.js';
import type { ActorSource } from '../identity/sources.js';

export type IncidentStatus = 'open' | 'acknowledged' | 'containing' | 'mitigating' | 'resolved';

export interface SeverityChange {
  at: string;
  by: string;
  severity: Severity;
  /** 'rules' when classified from impacts, 'person' when a person set it. */
  source: 'rules' | 'person';
  /** Why: the rule that matched, or the person's reason. */
  reason: string;
  impacts: Impact[];
}

export interface Handoff {
  at: string;
  by: string;
  /** Absent for the first assignment. */
  from?: Owner;
  to: Owner;
  kind: 'initial' | 'handoff' | 'escalation';
  reason: string;
}

/** A procedure run by the incident as a child workflow, and how it ended. */
export interface ChildRun {
  procedure: string;
  workflowType: string;
  workflowId: string;
  runId?: string;
  status: 'running' | 'completed' | 'failed';
  finishedAt?: string;
  /** One line: what the procedure reported, or why it failed. */
  outcome?: string;
  /** The step a failed procedure stopped at. */
  failedStep?: string;
  /** What a person still has to do after the procedure ended (from a failed procedure). */
  leftToDo?: string[];
  /** A compact, redacted copy of the procedure's result (step verdicts and summaries, counts). */
  result?: Record<string, unknown>;
}

export interface IncidentAction {
  /** Position in `actions`, so updates and reports can refer to it. */
  index: number;
  at: string;
  by: string;
  kind: 'acknowledgement' | 'containment' | 'mitigation' | 'action' | 'procedure';
  summary: string;
  evidence?: ActionEvidence;
  child?: ChildRun;
}

export interface Delivery {
  /** The webhook's name (never its URL, which may carry a secret). */
  target: string;
  status: 'sent' | 'failed' | 'planned';
  at: string;
  httpStatus?: number;
  error?: string;
}

export interface IncidentNotification {
  at: string;
  kind: 'page' | 'notify' | 'assign' | 'escalation';
  to: Owner;
  reason: string;
  /** Empty when no webhook is configured: the notification is recorded only. */
  deliveries: Delivery[];
}

export interface EscalationTimer {
  severity: Severity;
  /** What stops the timer: containment started, mitigation active, or the incident resolved. */
  condition: 'containment' | 'mitigation' | 'resolution';
  startedAt: string;
  deadline: string;
  /** The runbook rule in words, with the deadline in the business time zone where it matters. */
  rule: string;
  escalateTo: Owner;
  outcome: 'pending' | 'met' | 'escalated' | 'superseded' | 'planned';
  settledAt?: string;
}

/** Every accepted update, in order: who and when. */
export interface UpdateEntry {
  at: string;
  by: string;
  /** How the CLI determined `by` (token, os-user, claimed); absent when the sender did not say (docs/identity.md). */
  actorSource?: ActorSource;
  update: string;
  summary: string;
}

export interface Resolution {
  at: string;
  by: string;
  finalOwner: Owner;
  summary: string;
}

export interface IncidentRecord {
  id: string;
  title: string;
  summary?: string;
  scope: Scope;
  status: IncidentStatus;
  plan: boolean;
  severity: Severity;
  /** The runbook's response target for the current severity, quoted. */
  responseTarget: string;
  owner: Owner;
  escalationOwner: Owner;
  openedAt: string;
  openedBy: string;
  source?: IncidentSource;
  acknowledged?: { at: string; by: string };
  containmentStartedAt?: string;
  mitigationStartedAt?: string;
  severityHistory: SeverityChange[];
  handoffs: Handoff[];
  actions: IncidentAction[];
  notifications: IncidentNotification[];
  timers: EscalationTimer[];
  updates: UpdateEntry[];
  resolution?: Resolution;
  calendar: BusinessCalendar;
  /** Who may act (src/incident/roles.ts); absent: anyone may. */
  roles?: IncidentRoles;
}
