/**
 * Every numbered step of the runbook has a step id, and every id names a real step: a reader goes from the
 * runbook to the code in one hop. The runbook is read by test/support/runbook.ts.
 */
import { RUNBOOK_STEPS } from '../../src/runbook/steps.js';
import { readRunbook } from '../support/runbook.js';

/** Section heading → step id prefix. */
const SECTIONS: Record<string, string> = {
  Prerequisites: 'prereq',
  '1) Enable Path': 'enable',
  '2) Disable Path': 'disable',
  '3) Kill-Switch (Immediate Deactivation Without Restart)': 'kill-switch',
  '4) Code Rollback': 'rollback',
  '5) Data Cleanup': 'cleanup',
  'Escalation routing': 'escalation',
  'Phase 1: Internal / Dev': 'canary.phase1',
  'Phase 2: Opt-in Early Adopters': 'canary.phase2',
  'Phase 3: Default-On': 'canary.phase3',
  'Abort Criteria (All Phases)': 'canary.abort',
  'Phase Transition Checklist': 'canary.checklist',
};

function numberedSteps(markdown: string): Map<string, number> {
  const counts = new Map<string, number>();
  let section: string | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^#{2,3} (.+)$/.exec(line);
    if (heading) {
      section = SECTIONS[heading[1].trim()];
      continue;
    }
    const step = /^(\d+)\. /.exec(line);
    if (section && step) counts.set(section, Math.max(counts.get(section) ?? 0, Number(step[1])));
  }
  return counts;
}

describe('runbook step ids', () => {
  const counts = numberedSteps(readRunbook());

  it('finds every section of the runbook', () => {
    expect([...counts.keys()].sort()).toEqual(Object.values(SECTIONS).sort());
  });

  it.each(Object.values(SECTIONS))('%s: every numbered step has an id, and no id is extra', (prefix) => {
    const n = counts.get(prefix) ?? 0;
    const expected = Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);
    const ids = Object.keys(RUNBOOK_STEPS).filter((id) => id.slice(0, id.lastIndexOf('.')) === prefix);
    expect(ids.sort()).toEqual(expected.sort());
  });
});
