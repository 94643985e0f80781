/**
 * `pulse-runbook rehearse`: the runbook's procedures, end to end and headless, against a real Pulse on loopback
 * (built from a checkout, or a binary) or the emulator, with a report per runbook step (src/rehearse).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parseOrExplain } from '../config/load.js';
import { RehearseOptionsSchema } from '../config/rehearse.js';
import { addGlobalFlags, loadSettings, loadSettingsCodec, resolveActor } from './context.js';
import { followRun } from './follow.js';
import type { Evidence } from '../runbook/evidence.js';

export function rehearseCommand(): Command {
  const cmd = new Command('rehearse').description(
    'Rehearse Enable → Kill-Switch → Enable → Disable → Data Cleanup, headless, against a real Pulse on loopback (or the emulator), with a per-step report',
  );
  addGlobalFlags(cmd)
    .option('--pulse-source <dir>', 'a Pulse checkout (github.com/rcourtman/Pulse) to build with go build ./cmd/pulse')
    .option('--pulse-binary <path>', 'a Pulse binary to run as it is')
    .option('--emulator-profile <feb|v6>', 'without a real Pulse: the emulator line to rehearse against (default v6)')
    .option('--tick-seconds <n>', "the emulator's poller interval (default 2; a real Pulse polls every 60 s)", Number)
    .option('--work-dir <dir>', "where Pulse's data dir, env file, log and token go (default a new temporary directory)")
    .option('--report-dir <dir>', 'where rehearsal.md and rehearsal.json are written', 'rehearsal-report')
    .option('--json', 'print the report as JSON at the end')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      const options = parseOrExplain(
        RehearseOptionsSchema,
        {
          ...(flags.pulseSource !== undefined && { pulseSource: flags.pulseSource }),
          ...(flags.pulseBinary !== undefined && { pulseBinary: flags.pulseBinary }),
          ...(flags.emulatorProfile !== undefined && { emulatorProfile: flags.emulatorProfile }),
          ...(flags.tickSeconds !== undefined && { tickSeconds: flags.tickSeconds }),
          ...(flags.workDir !== undefined && { workDir: flags.workDir }),
          reportDir: flags.reportDir,
          json: Boolean(flags.json),
        },
        'rehearse',
        {
          pulseSource: '--pulse-source',
          pulseBinary: '--pulse-binary',
          emulatorProfile: '--emulator-profile',
          tickSeconds: '--tick-seconds',
          workDir: '--work-dir',
          reportDir: '--report-dir',
        },
      );
      const codec = settings.temporal.address ? loadSettingsCodec(settings)?.codec : undefined;
      const log = options.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
      // Imported here: it loads the worker and the dev server, which `rehearse --help` does not need.
      const { rehearse } = await import('../rehearse/rehearsal.js');
      const report = await rehearse({
        identity: await resolveActor(settings),
        ...(options.pulseSource && { pulseSource: options.pulseSource }),
        ...(options.pulseBinary && { pulseBinary: options.pulseBinary }),
        ...(options.emulatorProfile && { emulatorProfile: options.emulatorProfile }),
        ...(options.tickSeconds !== undefined && { emulatorTickSeconds: options.tickSeconds }),
        workDir: path.resolve(options.workDir ?? mkdtempSync(path.join(tmpdir(), 'pulse-rehearsal-'))),
        reportDir: path.resolve(options.reportDir),
        temporal: settings.temporal,
        ...(codec && { codec }),
        log,
        follow: (conn, target, opts) => followRun<{ evidence: Evidence[] }>(conn, target, opts),
      });
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else
        process.stdout.write(
          `\nRehearsal ${report.passed ? 'PASSED' : 'FAILED'}: ${report.procedures.map((p) => `${p.procedure} ${p.outcome}`).join(', ')} (${Math.round(report.seconds)} s)\n`,
        );
      process.exitCode = report.passed ? 0 : 1;
    });
  return cmd;
}
