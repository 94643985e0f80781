/**
 * The preflight of the destructive procedures (enable, disable, kill-switch, rollback, cleanup): before the run is
 * started, the doctor's worker-side checks (src/cli/doctor-run.ts workerChecks) for the settings this procedure will
 * use. One that fails stops the command before anything is changed, naming the check and the fix. `--no-preflight`
 * skips them for an emergency (a check that is wrong, a worker that cannot answer in time); the skip is printed and
 * written into the run's details in Temporal, so it is on record. Plans change nothing and are not preflighted.
 */
import type { Command } from 'commander';
import type { ConnectionLike } from '@temporalio/client';
import type { DoctorHostInputRaw } from '../config/doctor.js';
import type { Identity } from '../identity/resolve.js';
import { ConfigError } from '../config/load.js';
import type { Settings } from './context.js';

export interface PreflightRequest {
  /** false with --no-preflight. */
  run: boolean;
  /** What the worker's host is asked to check: only the settings this procedure uses. */
  host: DoctorHostInputRaw;
}

export function addPreflightFlag(cmd: Command): Command {
  return cmd.option(
    '--no-preflight',
    "emergencies only: start without the preflight checks (`pulse-runbook doctor`'s worker, key, token, Pulse, flag file and restart checks); the skip is recorded in the output and the run",
  );
}

/** The preflight of a command's flags: `--no-preflight` sets `preflight: false`. */
export function preflightFrom(flags: { preflight?: boolean }, host: DoctorHostInputRaw): PreflightRequest {
  return { run: flags.preflight !== false, host };
}

/**
 * Runs the checks (the doctor run started as `opts.identity`, like the procedure's own run), or records that they were skipped. Returns the line for the run's details. Throws a
 * ConfigError (exit 2: nothing was started or changed) naming every failed check and its fix.
 */
export async function runPreflight(
  connection: ConnectionLike,
  settings: Settings,
  req: PreflightRequest,
  opts: { procedure: string; json: boolean; identity: Identity; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream },
): Promise<string> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  if (!req.run) {
    const line = `Preflight checks skipped with --no-preflight by the person who started ${opts.procedure}.`;
    err.write(
      `warning: preflight checks skipped (--no-preflight): nothing was checked before ${opts.procedure} starts; this is recorded in the run's details\n`,
    );
    return line;
  }
  const { workerChecks } = await import('./doctor-run.js');
  const checks = await workerChecks(connection, settings, req.host, opts.identity);
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length > 0) {
    const lines = failed.map((c) => `preflight check "${c.title}" failed: ${c.detail}${c.fix ? `\n  fix: ${c.fix}` : ''}`);
    throw new ConfigError(
      `${lines.join('\n')}\n${opts.procedure} was not started and nothing was changed. ` +
        '`pulse-runbook doctor` shows every check; in an emergency --no-preflight starts without them.',
    );
  }
  const ran = checks.filter((c) => c.status === 'ok' || c.status === 'warn');
  const line = `Preflight passed: ${ran.map((c) => `${c.id} ${c.status}`).join(', ')}.`;
  if (!opts.json) out.write(`${line}\n`);
  return line;
}
