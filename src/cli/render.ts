/** Plain-text rendering of evidence, plans and results for people at a terminal. */
import type { Action, Evidence } from '../runbook/evidence.js';
import { RUNBOOK_STEPS, type StepId } from '../runbook/steps.js';

const MARK: Record<Evidence['verdict'], string> = {
  ok: '✔',
  failed: '✘',
  skipped: '–',
  planned: '•',
  human: '☐',
  inconclusive: '?',
};

export function renderAction(a: Action): string {
  switch (a.kind) {
    case 'http':
      return `${a.method} ${a.url}${a.body !== undefined ? ` ${JSON.stringify(a.body)}` : ''}${a.expect ? `   (expect ${a.expect})` : ''}`;
    case 'command':
      return `$ ${a.argv.map((x) => (/[\s"'$]/.test(x) ? JSON.stringify(x) : x)).join(' ')}${a.cwd ? `   (in ${a.cwd})` : ''}`;
    case 'file':
      return `${a.op} ${a.path}${a.change ? `: ${a.change}` : ''}`;
    case 'wait':
      return `wait ${a.seconds} s: ${a.reason}`;
    case 'human':
      return `person: ${a.instruction}`;
  }
}

export function renderEvidence(e: Evidence): string {
  const title = RUNBOOK_STEPS[e.step as StepId]?.title ?? e.step;
  const lines = [`${MARK[e.verdict]} [${e.step}] ${title}`, `    ${e.summary}`];
  for (const a of e.actions ?? []) lines.push(`    → ${renderAction(a)}`);
  if (e.deviation) lines.push(`    ⚠ follows Pulse, not the runbook text: ${e.deviation}`);
  return lines.join('\n');
}
