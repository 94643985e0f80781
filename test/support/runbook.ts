/**
 * The runbook is the specification: tests that compare the code with it read it from shared/ beside the clone (as CI
 * lays it out), or from PULSE_RUNBOOK_PATH. A missing runbook fails those tests with the fix; a silent skip would
 * let the code drift from the spec unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function runbookPath(): string {
  return process.env.PULSE_RUNBOOK_PATH ?? path.resolve(process.cwd(), '..', 'shared', 'runbook', 'truenas-runbook.md');
}

export function readRunbook(): string {
  const file = runbookPath();
  if (!existsSync(file)) {
    throw new Error(`runbook not found at ${file}: clone beside shared/ (as CI does) or set PULSE_RUNBOOK_PATH to truenas-runbook.md`);
  }
  return readFileSync(file, 'utf8');
}
