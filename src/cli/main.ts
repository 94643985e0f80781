/** The `pulse-runbook` program: one sub-command per procedure or service. */
import { Command, CommanderError } from 'commander';
import { hideEchoedValues } from '../config/env-name.js';
import { ConfigError } from '../config/load.js';
import { CliExit, EXIT } from './exit-codes.js';
import { followCommand } from './follow-command.js';
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
import { doctorCommand } from './doctor.js';
import { envCommand } from './env.js';
import { applyEnvironment } from './apply-environment.js';
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
    .addCommand(identityCommand()).addCommand(auditCommand())
    .addCommand(followCommand())
    .addCommand(doctorCommand())
    .addCommand(envCommand())
    // --env / PULSE_RUNBOOK_ENV: the named environment fills the flags not given (before any command's own hooks).
    .hook('preAction', (_program, action) => applyEnvironment(action))
    .addHelpText(
      'after',
      '\nExit codes: 0 ok; 1 the procedure (or update) failed; 2 bad input or setup, nothing started; 3 lost contact with\n' +
        'Temporal after starting, the run goes on (follow it with `pulse-runbook follow <workflow id>`); 4 refused, another\n' +
        'procedure is running on that Pulse.',
    );
}

/**
 * Commander's own refusals (unknown option, command or argument, a missing value) are bad input like any other:
 * every command throws instead of exiting 1, and what commander prints is passed through hideEchoedValues, so
 * `--token=<secret>` typed by mistake is not printed back.
 */
function configure(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (text, write) => write(hideEchoedValues(text)),
  });
  cmd.showSuggestionAfterError(true);
  for (const sub of cmd.commands) configure(sub);
}

/** "(see `pulse-runbook kill-switch --help`)": the fix for a flag or command commander did not know. */
function helpHint(argv: string[]): string {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const program = buildProgram();
  const path: string[] = [];
  let cmd: Command | undefined = program;
  for (const w of words) {
    const sub: Command | undefined = cmd?.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (!sub) break;
    path.push(w);
    cmd = sub;
  }
  return `see \`pulse-runbook ${[...path, '--help'].join(' ')}\` for the commands and flags`;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  configure(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end well; every other commander error was already printed (values hidden).
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') {
        process.exitCode = EXIT.ok;
        return;
      }
      process.stderr.write(`pulse-runbook: ${helpHint(argv)}\n`);
      process.exitCode = EXIT.badInput;
      return;
    }
    if (err instanceof CliExit) {
      process.stderr.write(`pulse-runbook: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    // Bad input is explained, not dumped as a stack trace. Our own messages (ConfigError) never hold a value that
    // could be secret; anything unforeseen might, so it goes through the same filter as commander's output.
    const message = err instanceof ConfigError ? err.message : hideEchoedValues((err as Error).message);
    process.stderr.write(`pulse-runbook: ${message}\n`);
    process.exitCode = EXIT.badInput;
  }
}
