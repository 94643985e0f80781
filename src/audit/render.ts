/**
 * The audit trail for people (a table), for programs (JSON) and for log pipelines (JSONL: one event per line, each
 * a complete JSON object with its own time, so a shipper can tail it).
 */
import type { AuditEvent } from './events.js';

export type AuditFormat = 'table' | 'json' | 'jsonl';

export function renderAuditJson(events: readonly AuditEvent[]): string {
  return `${JSON.stringify(events, null, 2)}\n`;
}

export function renderAuditJsonl(events: readonly AuditEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function outcomeText(e: AuditEvent): string {
  return e.outcome === 'recorded' ? '' : e.outcome;
}

/** A fixed-column table; the evidence column is cut to `width` characters (the JSON forms keep it whole). */
export function renderAuditTable(events: readonly AuditEvent[], opts: { evidenceWidth?: number } = {}): string {
  if (events.length === 0) return 'No recorded actions match.\n';
  const width = opts.evidenceWidth ?? 100;
  const rows = events.map((e) => [
    e.at.replace(/\.\d{3}Z$/, 'Z'),
    `${e.actor} (${e.actorSource})${e.actorMismatch ? ` [sent by ${e.actorMismatch.sender}]` : ''}`,
    e.action,
    `${e.workflowId} (${e.workflowType})`,
    outcomeText(e),
    cut(oneLine(e.evidence), width),
  ]);
  const header = ['TIME', 'ACTOR (SOURCE)', 'ACTION', 'WORKFLOW', 'OUTCOME', 'EVIDENCE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function renderAudit(events: readonly AuditEvent[], format: AuditFormat): string {
  return format === 'json' ? renderAuditJson(events) : format === 'jsonl' ? renderAuditJsonl(events) : renderAuditTable(events);
}
