/** The doctor's table for people: one row per check, in order, with the fix under a failed or warned one. */
import type { CheckResult, CheckStatus } from './check.js';

const MARK: Record<CheckStatus, string> = { ok: '✔ ok  ', warn: '! warn', fail: '✘ FAIL', skip: '- skip' };

export function renderChecks(checks: readonly CheckResult[]): string {
  const width = Math.max(...checks.map((c) => c.title.length));
  const lines: string[] = [];
  checks.forEach((c, i) => {
    lines.push(`${String(i + 1).padStart(2)}  ${MARK[c.status]}  ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(12 + width)}  fix: ${c.fix}`);
  });
  return lines.join('\n');
}

export function countChecks(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const n: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) n[c.status] += 1;
  return n;
}

export function summaryLine(checks: readonly CheckResult[]): string {
  const n = countChecks(checks);
  return `${checks.length} checks: ${n.ok} ok, ${n.fail} failed, ${n.warn} warning(s), ${n.skip} skipped`;
}
