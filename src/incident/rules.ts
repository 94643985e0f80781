/**
 * The runbook's incident rules as pure functions: classify a severity from impacts, route ownership from the
 * ownership table, list who is paged or notified, and compute the escalation deadline for a severity.
 *
 * Where the two tables of the runbook meet, the ownership table (the more specific one) decides the owner and
 * the escalation owner of a scope; the severity routing decides who is paged/notified and when to escalate.
 * For every scope but code rollback both tables agree (Pulse Operations first, Engineering next); for a code
 * rollback Engineering owns and Pulse Operations is the escalation owner, as the ownership table says.
 */
import { type BusinessCalendar, type EscalationTimers, type Impact, type Owner, type Scope, type Severity } from '../config/incident.js';
import { OWNERSHIP_TABLE, SEVERITY_RULES, type SeverityRule } from './tables.js';
import { nextBusinessDay } from './business-calendar.js';
import type { EscalationTimer, IncidentNotification } from './types.js';

export interface Classification {
  severity: Severity;
  /** The rule in words: the impacts that decided it and the runbook's definition. */
  reason: string;
}

export function severityRule(severity: Severity): SeverityRule {
  return SEVERITY_RULES.find((r) => r.severity === severity)!;
}

/** The highest severity any impact maps to (P1 is highest). */
export function classifySeverity(impacts: readonly Impact[]): Classification {
  for (const rule of SEVERITY_RULES) {
    const matched = impacts.filter((i) => rule.impacts.includes(i));
    if (matched.length > 0) {
      return { severity: rule.severity, reason: `${matched.join(', ')} → ${rule.severity} (${rule.definition})` };
    }
  }
  throw new Error(`no impact given: name at least one of ${SEVERITY_RULES.flatMap((r) => r.impacts).join(', ')}`);
}

/** The ownership table row for an incident: a security breach is the security scope unless a scope is given. */
export function defaultScope(impacts: readonly Impact[]): Scope {
  return impacts.includes('security-breach') ? 'security' : 'poller-health';
}

export interface Routing {
  owner: Owner;
  escalationOwner: Owner;
  /** Who hears about the incident as soon as it has this severity. */
  notifications: Array<Pick<IncidentNotification, 'kind' | 'to' | 'reason'>>;
}

export function routeIncident(scope: Scope, severity: Severity): Routing {
  const row = OWNERSHIP_TABLE[scope];
  const owner = row.primary;
  if (severity === 'P1') {
    // "P1: Page Pulse Operations immediately and notify Security Response Owner + Engineering immediately."
    return {
      owner,
      escalationOwner: row.escalation,
      notifications: [
        { kind: 'page', to: 'Pulse Operations', reason: 'P1: page Pulse Operations immediately; start containment within 15 minutes' },
        { kind: 'notify', to: 'Security Response Owner', reason: 'P1: notify Security Response Owner immediately' },
        { kind: 'notify', to: 'Engineering', reason: 'P1: notify Engineering immediately' },
      ],
    };
  }
  return {
    owner,
    escalationOwner: row.escalation,
    notifications: [{ kind: 'assign', to: owner, reason: `${severity}: assigned to ${owner} (${row.description})` }],
  };
}

export interface EscalationPlan {
  condition: EscalationTimer['condition'];
  deadlineMs: number;
  rule: string;
}

/** When an incident of this severity escalates if its condition is not met, counted from `fromMs`. */
export function escalationPlan(severity: Severity, fromMs: number, timers: EscalationTimers, calendar: BusinessCalendar): EscalationPlan {
  switch (severity) {
    case 'P1':
      return {
        condition: 'containment',
        deadlineMs: fromMs + timers.p1ContainmentMinutes * 60_000,
        rule: `P1: escalate if containment has not started within ${timers.p1ContainmentMinutes} min`,
      };
    case 'P2':
      return {
        condition: 'mitigation',
        deadlineMs: fromMs + timers.p2MitigationMinutes * 60_000,
        rule: `P2: escalate if mitigation is not active within ${timers.p2MitigationMinutes} min`,
      };
    case 'P3':
    case 'P4': {
      const next = nextBusinessDay(fromMs, calendar);
      return {
        condition: 'resolution',
        deadlineMs: next.at,
        rule: `${severity}: escalate if unresolved by the next business day (${next.weekday} ${next.localDate} ${next.localTime} ${calendar.timeZone})`,
      };
    }
  }
}
