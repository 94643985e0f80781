/** The `pulse-runbook` program: one sub-command per procedure or service. */
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { alertsCommand } from './alerts.js';
import { canaryCommand } from './canary.js';
import { cleanupCommand } from './cleanup.js';
import { incidentCommand } from './incident.js';
import { disableCommand } from './disable.js';
import { emulatorCommand } from './emulator.js';
import { enableCommand } from './enable.js';
import { rehearseCommand } from './rehearse.js';
import { rollbackCommand } from './rollback.js';
import { killSwitchCommand } from './kill-switch.js';
import { startCommand } from './start.js';
import { workerCommand } from './worker.js';
import { codecCommand, codecServerCommand } from './codec.js';
import { auditCommand } from './audit.js';
import { identityCommand } from '../identity/command.js';

export function buildProgram(): Command {
  return new Command('pulse-runbook')
    .description('The Pulse TrueNAS runbook as durable Temporal workflows')
    .addCommand(startCommand())
    .addCommand(workerCommand())
    .addCommand(emulatorCommand())
    .addCommand(killSwitchCommand())
    .addCommand(enableCommand())
    .addCommand(disableCommand())
    .addCommand(rollbackCommand())
    .addCommand(cleanupCommand())
    .addCommand(incidentCommand())
    .addCommand(alertsCommand())
    .addCommand(canaryCommand())
    .addCommand(rehearseCommand())
    .addCommand(codecCommand()).addCommand(codecServerCommand())
    .addCommand(identityCommand()).addCommand(auditCommand());
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Bad input is explained, not dumped as a stack trace.
    const message = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`pulse-runbook: ${message}\n`);
    process.exitCode = 2;
  }
}
