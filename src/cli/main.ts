/**
 * The `pulse-runbook` program: one sub-command per procedure or service. Commands are loaded lazily: only the
 * command named on the command line is imported, so `--help`, `--version` and a simple command do not pay for the
 * Temporal worker, the emulator or the client of another command (a start-up of ~0.1 s instead of ~2 s compiled).
 */
import { Command, CommanderError } from 'commander';
import { hideEchoedValues } from '../config/secret-shape.js';
import { ConfigError } from '../config/config-error.js';
import { CliExit, EXIT } from './exit-codes.js';
import { versionText } from './version.js';

/** A command as the program's help lists it before it is loaded; `load` imports its module and builds it. */
export interface LazyCommand {
  name: string;
  /** The line in `pulse-runbook --help`: the command's own description (a unit test keeps them equal). */
  summary: string;
  load: () => Promise<Command>;
}

// One line per command, in the order of `pulse-runbook --help`.
export const COMMANDS: LazyCommand[] = [
  {
    name: 'start',
    summary: 'Run the worker, with an embedded Temporal dev server unless TEMPORAL_ADDRESS is set; a demo when no Pulse is given',
    load: async () => (await import('./start.js')).startCommand(),
  },
  {
    name: 'worker',
    summary: 'Run the worker against an existing Temporal server (TEMPORAL_ADDRESS)',
    load: async () => (await import('./worker.js')).workerCommand(),
  },
  {
    name: 'emulator',
    summary: 'Start the Pulse emulator (TrueNAS endpoints, poller, metrics) to rehearse the runbook',
    load: async () => (await import('./emulator.js')).emulatorCommand(),
  },
  {
    name: 'kill-switch',
    summary: 'Immediately deactivate TrueNAS by deleting every connection (runbook §3; no restart)',
    load: async () => (await import('./kill-switch.js')).killSwitchCommand(),
  },
  {
    name: 'enable',
    summary: 'Enable TrueNAS: set the flag, restart Pulse, add and test a connection, verify the poller and resources (runbook §1)',
    load: async () => (await import('./enable.js')).enableCommand(),
  },
  {
    name: 'disable',
    summary: 'Disable TrueNAS: set the flag to false, restart Pulse, wait the staleness window, verify (runbook §2)',
    load: async () => (await import('./disable.js')).disableCommand(),
  },
  {
    name: 'rollback',
    summary: 'Revert the TrueNAS commit range, build, restart Pulse and verify the TrueNAS routes are gone (runbook §4)',
    load: async () => (await import('./rollback.js')).rollbackCommand(),
  },
  {
    name: 'cleanup',
    summary: 'Remove only truenas.enc from the Pulse data directory and verify .encryption.key is intact (runbook §5)',
    load: async () => (await import('./cleanup.js')).cleanupCommand(),
  },
  {
    name: 'incident',
    summary: 'Incidents per the runbook: severity P1–P4, owner routing, escalation timers, the incident record',
    load: async () => (await import('./incident.js')).incidentCommand(),
  },
  {
    name: 'alerts',
    summary: "Alert monitor for the runbook's Alert Thresholds (Prometheus → webhooks)",
    load: async () => (await import('./alerts.js')).alertsCommand(),
  },
  {
    name: 'canary',
    summary: 'Canary rollout of TrueNAS (phase 1 internal → 2 opt-in → 3 default-on): gates, checklist, sign-offs, aborts',
    load: async () => (await import('./canary.js')).canaryCommand(),
  },
  {
    name: 'rehearse',
    summary:
      'Rehearse Enable → Kill-Switch → Enable → Disable → Data Cleanup, headless, against a real Pulse on loopback (or the emulator), with a per-step report',
    load: async () => (await import('./rehearse.js')).rehearseCommand(),
  },
  { name: 'codec', summary: 'Payload encryption keys (docs/security.md)', load: async () => (await import('./codec.js')).codecCommand() },
  {
    name: 'codec-server',
    summary: 'Serve the Temporal codec-server protocol (POST /decode, /encode) so a Web UI can show decrypted payloads',
    load: async () => (await import('./codec.js')).codecServerCommand(),
  },
  {
    name: 'identity',
    summary: 'Who acts: the actor recorded with every change, from a signed token or the OS user (docs/identity.md)',
    load: async () => (await import('./identity.js')).identityCommand(),
  },
  {
    name: 'audit',
    summary: 'List recorded human actions across runs (who, what, when, evidence), from workflow history',
    load: async () => (await import('./audit.js')).auditCommand(),
  },
  {
    name: 'doctor',
    summary:
      "Check everything a procedure needs, in order, and say how to fix each: Temporal, namespace, worker, payload key, and on the worker's host the Pulse token, Pulse, the flag file, the restart method, the data dir and Prometheus",
    load: async () => (await import('./doctor.js')).doctorCommand(),
  },
  {
    name: 'env',
    summary:
      'Named environments (Temporal address, namespace, task queue, key file, Pulse URL and token reference, host settings, Prometheus URL), kept in $XDG_CONFIG_HOME/pulse-runbooks/config.json (or PULSE_RUNBOOK_CONFIG_FILE); use one with --env NAME or PULSE_RUNBOOK_ENV',
    load: async () => (await import('./env.js')).envCommand(),
  },
  {
    name: 'follow',
    summary: 'Follow a procedure run to its end (e.g. after the command that started it lost contact with Temporal)',
    load: async () => (await import('./follow-command.js')).followCommand(),
  },
];

/** The command the arguments name (`help <command>` names its second word), if any. */
function requestedCommand(args: string[]): LazyCommand | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The program with the requested command loaded and every other one as a placeholder that carries only its name
 * and summary (enough for the program's help and for commander to know the name). `load: 'all'` loads every command
 * (tests that check each command's own help and flags).
 */
export async function buildProgram(argv: string[] = [], load: 'requested' | 'all' = 'requested'): Promise<Command> {
  const wanted = requestedCommand(argv.slice(2));
  const program = new Command('pulse-runbook')
    .description('The Pulse TrueNAS runbook as durable Temporal workflows')
    .version(versionText(), '-V, --version', 'print the version of pulse-runbook and of the Temporal SDK it uses')
    // --env / PULSE_RUNBOOK_ENV: the named environment fills the flags not given (before any command's own hooks);
    // loaded here, not at start-up, so `--help` does not pay for the config schemas.
    .hook('preAction', async (_program, action) => (await import('./apply-environment.js')).applyEnvironment(action));
  for (const entry of COMMANDS) {
    if (load === 'all' || entry === wanted) program.addCommand(await entry.load());
    else program.addCommand(new Command(entry.name).description(entry.summary));
  }
  return program.addHelpText(
    'after',
    '\nEach command has its own flags: `pulse-runbook <command> --help`.\n' +
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
async function helpHint(argv: string[]): Promise<string> {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const program = await buildProgram(argv);
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
  const program = await buildProgram(argv);
  configure(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end well; every other commander error was already printed (values hidden).
      if (
        err.exitCode === 0 ||
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
      ) {
        process.exitCode = EXIT.ok;
        return;
      }
      process.stderr.write(`pulse-runbook: ${await helpHint(argv)}\n`);
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
