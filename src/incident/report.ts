/**
 * The incident record as a document: Markdown for people (a post-incident review starts from it) and JSON for
 * tools. Both come from the same record and both are sanitized again on the way out, so an export never carries
 * a secret even if one slipped into an older record.
 */
import { sanitizeValue } from './sanitize.js';
import { OWNERSHIP_TABLE } from './tables.js';
import type { IncidentAction, IncidentRecord } from './types.js';

export const INCIDENT_EXPORT_FORMAT = 'pulse-runbooks/incident-record@1';

export interface IncidentExport {
  format: typeof INCIDENT_EXPORT_FORMAT;
  exportedAt: string;
  incident: IncidentRecord;
}

export function renderIncidentJson(record: IncidentRecord, exportedAt: Date = new Date()): string {
  const doc: IncidentExport = { format: INCIDENT_EXPORT_FORMAT, exportedAt: exportedAt.toISOString(), incident: sanitizeValue(record) };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A table cell: one line, pipes escaped. */
function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  return String(value).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: unknown[][]): string[] {
  if (rows.length === 0) return ['_None._'];
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function evidenceText(a: IncidentAction): string {
  const parts: string[] = [];
  if (a.evidence?.workflowId) parts.push(`workflow ${a.evidence.workflowId}`);
  for (const link of a.evidence?.links ?? []) parts.push(link);
  for (const [k, v] of Object.entries(a.evidence?.details ?? {})) parts.push(`${k}=${String(v)}`);
  if (a.child) {
    parts.push(
      `child ${a.child.workflowType} ${a.child.workflowId}: ${a.child.status}${a.child.finishedAt ? ` at ${a.child.finishedAt}` : ''}${a.child.failedStep ? ` at step ${a.child.failedStep}` : ''}${a.child.outcome ? ` (${a.child.outcome})` : ''}`,
    );
    if (a.child.leftToDo?.length) parts.push(`left to do: ${a.child.leftToDo.join('; ')}`);
  }
  return parts.join('; ');
}

export function renderIncidentMarkdown(raw: IncidentRecord, exportedAt: Date = new Date()): string {
  const r = sanitizeValue(raw);
  const lines: string[] = [];
  lines.push(`# Incident ${r.id}: ${r.title}`, '');
  if (r.plan) lines.push('> PLAN: this record was computed with plan mode; nobody was notified and no timer ran.', '');
  lines.push(
    ...table(
      ['Field', 'Value'],
      [
        ['Status', r.status],
        ['Severity', `${r.severity}: ${r.responseTarget}`],
        ['Scope', `${r.scope} (${OWNERSHIP_TABLE[r.scope].description})`],
        ['Current owner', r.owner],
        ['Escalation owner', r.escalationOwner],
        ['Opened', `${r.openedAt} by ${r.openedBy}`],
        ['Opened for', r.source ? `${r.source.procedure} run ${r.source.workflowId}` : undefined],
        ['Acknowledged', r.acknowledged ? `${r.acknowledged.at} by ${r.acknowledged.by}` : undefined],
        ['Containment started', r.containmentStartedAt],
        ['Mitigation started', r.mitigationStartedAt],
        ['Resolved', r.resolution ? `${r.resolution.at} by ${r.resolution.by}` : undefined],
        ['Final resolution owner', r.resolution?.finalOwner],
        [
          'Business calendar',
          `${r.calendar.days.join(',')} ${r.calendar.opensAt}–${r.calendar.closesAt} ${r.calendar.timeZone}${r.calendar.holidays.length ? `, ${r.calendar.holidays.length} holiday(s)` : ''}`,
        ],
      ],
    ),
    '',
  );
  if (r.summary) lines.push('## Summary', '', r.summary, '');

  lines.push(
    '## Severity',
    '',
    ...table(
      ['At', 'Severity', 'By', 'Source', 'Reason'],
      r.severityHistory.map((s) => [s.at, s.severity, s.by, s.source, s.reason]),
    ),
    '',
  );
  lines.push(
    '## Owner handoffs',
    '',
    ...table(
      ['#', 'At', 'From', 'To', 'By', 'Kind', 'Reason'],
      r.handoffs.map((h, i) => [i + 1, h.at, h.from, h.to, h.by, h.kind, h.reason]),
    ),
    '',
  );
  lines.push(
    '## Actions taken',
    '',
    ...table(
      ['#', 'At', 'By', 'Kind', 'Summary', 'Evidence'],
      r.actions.map((a) => [a.index + 1, a.at, a.by, a.kind, a.summary, evidenceText(a)]),
    ),
    '',
  );
  lines.push(
    '## Notifications and escalations',
    '',
    ...table(
      ['At', 'Kind', 'To', 'Reason', 'Delivery'],
      r.notifications.map((n) => [
        n.at,
        n.kind,
        n.to,
        n.reason,
        n.deliveries.length === 0
          ? 'recorded only (no webhook configured)'
          : n.deliveries
              .map((d) => `${d.target}: ${d.status}${d.httpStatus ? ` ${d.httpStatus}` : ''} at ${d.at}${d.error ? ` (${d.error})` : ''}`)
              .join('; '),
      ]),
    ),
    '',
  );
  lines.push(
    '## Escalation timers',
    '',
    ...table(
      ['Severity', 'Waits for', 'Started', 'Deadline', 'Outcome', 'Settled', 'Rule'],
      r.timers.map((t) => [t.severity, t.condition, t.startedAt, t.deadline, t.outcome, t.settledAt, t.rule]),
    ),
    '',
  );
  if (r.resolution) {
    lines.push(
      '## Resolution',
      '',
      `Resolved at ${r.resolution.at} by ${r.resolution.by}. Final resolution owner: **${r.resolution.finalOwner}**.`,
      '',
      r.resolution.summary,
      '',
    );
  }
  lines.push(
    '## Timeline (every update, who and when)',
    '',
    ...table(
      ['At', 'By', 'Update', 'Summary'],
      r.updates.map((u) => [u.at, u.by, u.update, u.summary]),
    ),
    '',
  );
  lines.push(`_Exported ${exportedAt.toISOString()} by pulse-runbook; times are UTC (workflow time)._`, '');
  return lines.join('\n');
}

/** A short Markdown summary for the Temporal UI (current details). */
export function renderIncidentDetails(r: IncidentRecord): string {
  const pending = r.timers.find((t) => t.outcome === 'pending');
  const lines = [
    `**${r.severity} ${r.status}**: ${r.title}`,
    '',
    `- Owner: ${r.owner} (escalation: ${r.escalationOwner}); handoffs: ${r.handoffs.length}`,
    `- Opened ${r.openedAt} by ${r.openedBy}${r.acknowledged ? `; acknowledged ${r.acknowledged.at} by ${r.acknowledged.by}` : ''}`,
    `- Actions: ${r.actions.length}; notifications: ${r.notifications.length}`,
  ];
  if (pending) lines.push(`- Next escalation: ${pending.deadline} to ${pending.escalateTo} (${pending.rule})`);
  const failed = r.actions.filter((a) => a.child?.status === 'failed');
  for (const a of failed) {
    const c = a.child!;
    lines.push(
      `- **${c.procedure} ${c.workflowId} failed**${c.failedStep ? ` at ${c.failedStep}` : ''}: ${c.outcome ?? ''}${c.leftToDo?.length ? `; left to do: ${c.leftToDo.join('; ')}` : ''}`,
    );
  }
  if (r.resolution) lines.push(`- Resolved ${r.resolution.at} by ${r.resolution.by}; final owner ${r.resolution.finalOwner}`);
  return lines.join('\n');
}
