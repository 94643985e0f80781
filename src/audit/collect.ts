/**
 * Collects the audit trail across runs: finds the runbook's runs with a visibility query, reads each run's history
 * through the client (whose data converter decodes encrypted payloads), and keeps the events that pass the filters.
 */
import type { Client } from '@temporalio/client';
import { listRuns } from '../temporal/list-runs.js';
import { ALERT_MONITOR_WORKFLOW } from '../../workflows/alert-monitor.messages.js';
import { CANARY_ROLLOUT_WORKFLOW } from '../../workflows/canary-rollout.messages.js';
import { CODE_ROLLBACK_WORKFLOW } from '../../workflows/code-rollback.messages.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { INCIDENT_WORKFLOW } from '../../workflows/incident.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import type { WorkflowName } from '../../workflows/procedure.messages.js';
import { auditEventsFromHistory, decoderFor, resultOutcome, type AuditEvent, type RunOutcome } from './events.js';

/** Procedure names (as in RunbookProcedure and the CLI) → workflow types (workflows/index.ts). */
export const AUDITED_WORKFLOWS: Readonly<Record<string, WorkflowName>> = {
  'kill-switch': KILL_SWITCH_WORKFLOW,
  enable: ENABLE_WORKFLOW,
  disable: DISABLE_WORKFLOW,
  'code-rollback': CODE_ROLLBACK_WORKFLOW,
  'data-cleanup': DATA_CLEANUP_WORKFLOW,
  incident: INCIDENT_WORKFLOW,
  'alert-monitor': ALERT_MONITOR_WORKFLOW,
  'canary-rollout': CANARY_ROLLOUT_WORKFLOW,
};

export interface AuditFilters {
  /** Only events at or after this time. */
  since?: Date;
  workflowId?: string;
  /** A procedure name (kill-switch, canary-rollout, canary, ...) or a workflow type (killSwitch). */
  procedure?: string;
  /** Only this actor: matches the recorded actor or the sender's. */
  actor?: string;
  /** Stop after this many runs (newest first), so a long retention cannot make one call unbounded. */
  maxRuns?: number;
}

export class AuditFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditFilterError';
  }
}

/** The workflow type of a --procedure value, or an error listing the known ones. */
export function workflowTypeOf(procedure: string): string {
  const p = procedure.trim();
  if (p === 'canary') return AUDITED_WORKFLOWS['canary-rollout'];
  if (AUDITED_WORKFLOWS[p]) return AUDITED_WORKFLOWS[p];
  if ((Object.values(AUDITED_WORKFLOWS) as string[]).includes(p)) return p;
  throw new AuditFilterError(`audit --procedure ${procedure}: unknown; give one of ${Object.keys(AUDITED_WORKFLOWS).join(', ')}`);
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query for the filters: the runbook's workflow types, and runs that could hold events since `since`. */
export function visibilityQuery(filters: AuditFilters): string {
  const types = filters.procedure ? [workflowTypeOf(filters.procedure)] : Object.values(AUDITED_WORKFLOWS);
  const clauses = [types.length === 1 ? `WorkflowType = ${quote(types[0])}` : `WorkflowType IN (${types.map(quote).join(', ')})`];
  if (filters.workflowId) clauses.push(`WorkflowId = ${quote(filters.workflowId)}`);
  // A run that closed before `since` holds nothing newer; a running one may.
  if (filters.since) clauses.push(`(ExecutionStatus = 'Running' OR CloseTime >= ${quote(filters.since.toISOString())})`);
  return clauses.join(' AND ');
}

export function matchesFilters(event: AuditEvent, filters: AuditFilters): boolean {
  if (filters.since && Date.parse(event.at) < filters.since.getTime()) return false;
  if (filters.actor && event.actor !== filters.actor && event.actorMismatch?.sender !== filters.actor) return false;
  return true;
}

export interface AuditCollection {
  events: AuditEvent[];
  runs: number;
  /** True when maxRuns stopped the listing early. */
  truncated: boolean;
}

export async function collectAuditEvents(client: Client, filters: AuditFilters = {}, concurrency = 4): Promise<AuditCollection> {
  const maxRuns = filters.maxRuns ?? 500;
  const runs: Array<{ workflowId: string; runId: string; workflowType: string }> = [];
  let truncated = false;
  // listRuns: a run whose memo this key file cannot decode is still audited (its events say what is unreadable).
  for await (const w of listRuns(client, visibilityQuery(filters))) {
    if (runs.length >= maxRuns) {
      truncated = true;
      break;
    }
    runs.push({ workflowId: w.workflowId, runId: w.runId, workflowType: w.type });
  }
  const decode = decoderFor(client.options.loadedDataConverter);
  const events: AuditEvent[] = [];
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const run = runs[next++];
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const found = await auditEventsFromHistory(history.events ?? [], run, decode);
      for (const start of found.filter((e) => e.action === 'start' && e.outcome === 'continued-as-new')) {
        start.outcome = await chainOutcome(client, run.workflowId);
      }
      events.push(...found.filter((e) => matchesFilters(e, filters)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, worker));
  events.sort((a, b) => a.at.localeCompare(b.at) || a.workflowId.localeCompare(b.workflowId) || a.eventId - b.eventId);
  return { events, runs: runs.length, truncated };
}

/** A run that continued as new: the outcome of the newest run of its chain. */
async function chainOutcome(client: Client, workflowId: string): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId);
  const status = (await handle.describe()).status.name;
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return resultOutcome(await handle.result()).outcome;
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'canceled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed-out';
    default:
      return 'continued-as-new';
  }
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO date/time (2026-11-26, 2026-11-26T08:00:00Z) or a duration back from now (30m, 24h, 7d). */
export function parseSince(value: string, now: Date = new Date()): Date {
  const rel = /^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$/.exec(value);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNITS[rel[2]]);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new AuditFilterError(
    `audit --since ${value}: must be an ISO date or time (2026-11-26, 2026-11-26T08:00:00Z) or a duration back from now (30m, 24h, 7d)`,
  );
}
