/**
 * Test-only entry for the incident CLI while src/cli/main.ts (the lead's) does not register it yet: the same
 * `incidentCommand()` under a `pulse-runbook` program, with main()'s error handling (bad input → exit 2).
 * Run as a real process: `node --import tsx test/support/incident-cli.ts incident open ...`.
 */
import { Command } from 'commander';
import { incidentCommand } from '../../src/cli/incident.js';

try {
  await new Command('pulse-runbook').addCommand(incidentCommand()).parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`pulse-runbook: ${(err as Error).message}\n`);
  process.exitCode = 2;
}
