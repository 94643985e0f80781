/**
 * The rehearsal's report: per procedure, per runbook step, what the workflow recorded and when, with the time
 * each step took (from the end of the step before it to its own last evidence). Markdown for people, JSON for
 * programs. Built from the procedures' own evidence, so it says nothing the runs did not record.
 */
import type { Evidence, Verdict } from '../runbook/evidence.js';
import { RUNBOOK_STEPS, type StepId } from '../runbook/steps.js';

export interface StepReport {
  step: StepId;
  title: string;
  /** Every verdict recorded for the step, in order. */
  verdicts: Verdict[];
  /** Seconds from the procedure's start to the step's last evidence. */
  atSeconds: number;
  /** Seconds the step took: from the previous step's last evidence (or the start) to its own last. */
  seconds: number;
  /** The step's last summary. */
  summary: string;
}

export interface ProcedureReport {
  procedure: string;
  workflowType: string;
  workflowId?: string;
  /** failed-as-expected: a negative case (a key the NAS refuses) that failed the way it must. */
  outcome: 'completed' | 'failed' | 'failed-as-expected' | 'not-run';
  startedAt?: string;
  seconds?: number;
  error?: string;
  steps: StepReport[];
}

export interface RehearsalReport {
  startedAt: string;
  finishedAt: string;
  seconds: number;
  passed: boolean;
  pulse: { origin: string; url: string; buildSeconds: number; line?: string; lineSeenFrom?: string };
  nas: { transports: string; url: string };
  temporal: { address: string; embedded: boolean };
  headless: string;
  procedures: ProcedureReport[];
  /** Against the emulator: every request it answered, per method and path (a real Pulse keeps no such log). */
  requests?: Record<string, number>;
}

const round = (s: number) => Math.round(s * 10) / 10;

/**
 * The steps in the order the run went through them, with their timing relative to `startedAt`: consecutive evidence
 * of one step is one entry, so a step the run comes back to (escalation.3 opens the record first and reports the
 * outcome last) appears twice, each time with its own duration.
 */
export function stepReports(evidence: readonly Evidence[], startedAt: string): StepReport[] {
  const start = Date.parse(startedAt);
  const runs: Evidence[][] = [];
  for (const e of evidence) {
    const last = runs.at(-1);
    if (last && last[0].step === e.step) last.push(e);
    else runs.push([e]);
  }
  let previous = start;
  return runs.map((entries) => {
    const step = entries[0].step;
    const last = Math.max(...entries.map((e) => Date.parse(e.at)));
    const report: StepReport = {
      step,
      title: RUNBOOK_STEPS[step].title,
      verdicts: entries.map((e) => e.verdict),
      atSeconds: round((last - start) / 1000),
      seconds: round(Math.max(0, last - previous) / 1000),
      summary: entries.at(-1)!.summary,
    };
    previous = Math.max(previous, last);
    return report;
  });
}

/** The Pulse line the evidence named (resource and poll evidence carry it in details). */
export function lineFromEvidence(evidence: readonly Evidence[]): { line: string; seenFrom?: string } | undefined {
  for (const e of evidence) {
    const line = e.details?.line;
    if (typeof line === 'string' && line) {
      const seenFrom = e.details?.lineSeenFrom;
      return { line, ...(typeof seenFrom === 'string' && { seenFrom }) };
    }
  }
  return undefined;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function renderReportMarkdown(r: RehearsalReport): string {
  const lines = [
    `# Rehearsal ${r.passed ? 'PASSED' : 'FAILED'}: ${r.pulse.origin}`,
    '',
    `- When: ${r.startedAt} → ${r.finishedAt} (${round(r.seconds)} s)`,
    `- Pulse: ${r.pulse.url}${r.pulse.line ? `, the ${r.pulse.line} line${r.pulse.lineSeenFrom ? ` (seen from ${r.pulse.lineSeenFrom})` : ''}` : ''}${r.pulse.buildSeconds ? `; built in ${round(r.pulse.buildSeconds)} s` : ''}`,
    `- Fake TrueNAS: ${r.nas.url} (${r.nas.transports})`,
    `- Temporal: ${r.temporal.address}${r.temporal.embedded ? ' (embedded dev server, in memory)' : ''}`,
    `- Headless: ${r.headless}`,
    '',
    '| Procedure | Outcome | Seconds | Workflow |',
    '|---|---|---|---|',
    ...r.procedures.map(
      (p) => `| ${p.procedure} | ${p.outcome} | ${p.seconds === undefined ? '' : round(p.seconds)} | ${p.workflowId ?? ''} |`,
    ),
    '',
  ];
  if (r.requests) {
    lines.push('Requests the emulator answered:', '', ...Object.entries(r.requests).map(([k, n]) => `- ${k}: ${n}`), '');
  }
  for (const p of r.procedures) {
    lines.push(`## ${p.procedure}: ${p.outcome}${p.seconds === undefined ? '' : ` in ${round(p.seconds)} s`}`, '');
    if (p.error) lines.push(`**Failure:** ${cell(p.error)}`, '');
    if (p.steps.length === 0) continue;
    lines.push('| Step | Title | Verdicts | At (s) | Took (s) | Last evidence |', '|---|---|---|---|---|---|');
    for (const s of p.steps) {
      lines.push(`| ${s.step} | ${cell(s.title)} | ${s.verdicts.join(', ')} | ${s.atSeconds} | ${s.seconds} | ${cell(s.summary)} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
