/**
 * Runs `pulse-runbook alerts …` as a real process before the lead registers alertsCommand() in src/cli/main.ts:
 * the same program shape and error handling as main() (ConfigError → exit 2 with "pulse-runbook: …").
 * Usage: node --import tsx test/support/alerts-cli.ts alerts start --prometheus-url …
 */
import { Command } from 'commander';
import { alertsCommand } from '../../src/cli/alerts.js';

const program = new Command('pulse-runbook').addCommand(alertsCommand());
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`pulse-runbook: ${(err as Error).message}\n`);
  process.exitCode = 2;
}
