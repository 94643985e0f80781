/**
 * The runbook's incident tables, quoted: "Incident Severity and Response" (which impacts make which severity, and
 * the response each asks for) and "Owner routing" (who owns a scope, and who it escalates to). The rules that read
 * them are in rules.ts; the words a person may use (severities, impacts, scopes, owners) are the input schemas'
 * (src/config/incident.ts).
 *
 * Imported by workflow code: pure data.
 */
import type { Impact, Owner, Scope, Severity } from '../config/incident.js';

export interface SeverityRule {
  severity: Severity;
  impacts: readonly Impact[];
  /** The runbook's definition, quoted. */
  definition: string;
  /** The runbook's response target, quoted. */
  response: string;
}

export const SEVERITY_RULES: readonly SeverityRule[] = [
  {
    severity: 'P1',
    impacts: ['data-loss', 'security-breach', 'broad-outage'],
    definition: 'Data loss, security breach, or broad outage',
    response: 'immediate acknowledgement and containment start in < 15 minutes',
  },
  {
    severity: 'P2',
    impacts: ['degraded-functionality', 'single-feature-outage'],
    definition: 'Degraded functionality or single-feature outage',
    response: 'acknowledge and begin mitigation in < 1 hour',
  },
  {
    severity: 'P3',
    impacts: ['non-blocking-degradation', 'monitoring-gap'],
    definition: 'Non-blocking degradation or monitoring gaps',
    response: 'triage and mitigation plan in < 4 hours',
  },
  {
    severity: 'P4',
    impacts: ['cosmetic', 'documentation'],
    definition: 'Cosmetic or documentation-only issue',
    response: 'address by next business day',
  },
];

export interface OwnershipRow {
  scope: Scope;
  /** The runbook's scope column, quoted. */
  description: string;
  primary: Owner;
  escalation: Owner;
}

export const OWNERSHIP_TABLE: Readonly<Record<Scope, OwnershipRow>> = {
  'poller-health': {
    scope: 'poller-health',
    description: 'TrueNAS poller health, staleness, and connectivity incidents',
    primary: 'Pulse Operations',
    escalation: 'Engineering',
  },
  'switch-operations': {
    scope: 'switch-operations',
    description: 'Kill-switch execution and disable/enable operations',
    primary: 'Pulse Operations',
    escalation: 'Engineering',
  },
  'code-rollback': {
    scope: 'code-rollback',
    description: 'Code rollback and release-level incident coordination',
    primary: 'Engineering',
    escalation: 'Pulse Operations',
  },
  security: {
    scope: 'security',
    description: 'Security-impacting TrueNAS incidents (P1)',
    primary: 'Security Response Owner',
    escalation: 'Engineering',
  },
};
