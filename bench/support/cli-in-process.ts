/**
 * Runs a list of `pulse-runbook` invocations through the real CLI entry point (`main(argv)`) in ONE child
 * process (bench/support/cli-corpus-child.ts), for suites with many cases that end before Temporal is contacted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface CliCase {
  args: string[];
  env?: Record<string, string>;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const child = path.resolve('bench/support/cli-corpus-child.ts');

export async function runCliCases(cases: CliCase[], timeoutMs = 300_000): Promise<CliResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-cases-'));
  try {
    const file = path.join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const r = await execa(process.execPath, ['--import', 'tsx', child, file], {
      reject: false,
      timeout: timeoutMs,
      env: { ...process.env, TSX_DISABLE_CACHE: '0' },
    });
    const last = String(r.stdout).trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(last) as CliResult[];
    } catch {
      throw new Error(
        `the CLI case runner failed (exit ${r.exitCode}): ${String(r.stderr).slice(0, 2000)} ${String(r.stdout).slice(0, 2000)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
