/**
 * `pulse-runbook enable`: runbook §1 as a durable workflow, with progress; `--plan` changes nothing.
 * Also home of the host flags Enable and Disable share (where the flag is written, how Pulse restarts, where
 * its logs are read), so both commands spell them the same way.
 */
import { Command, Option } from 'commander';
import { EnableInputSchema } from '../config/enable.js';
import { ConfigError, parseOrExplain } from '../config/load.js';
import type { EnableResult } from '../../workflows/enable.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { addGlobalFlags, addPulseFlags } from './context.js';
import { addRunFlags, procedureStart, RUN_FIELD_NAMES, runProcedure } from './run-procedure.js';
import { addPreflightFlag, preflightFrom } from './preflight.js';

// --- host flags (shared with disable) ---------------------------------------------------------------------------

export interface HostFlags {
  flagEnvFile?: string;
  /** The old spelling, kept only to explain the rename (see ENV_FILE_RENAMED). */
  envFile?: string;
  dropin?: string;
  containerEnv?: string;
  systemdUnit?: string;
  restartCmd?: string;
  containerRecreate?: string | boolean;
  healthTimeoutMs?: number;
  prefix?: string;
  logUnit?: string;
  logFile?: string;
  logCmd?: string;
}

/**
 * Node (20.6+) reads `--env-file` itself, even after the script name: `node bin/pulse-runbook.js disable --env-file
 * /etc/pulse/.env` loads that file into the CLI's own environment, and exits 9 ("node: …: not found") before the
 * CLI runs when it does not exist. So the flag is `--flag-env-file`, a name no Node version takes. The old spelling
 * reaches the CLI only when Node let it through (the file existed): it is refused with the new name.
 */
export const ENV_FILE_RENAMED =
  '--env-file: renamed to --flag-env-file, because Node reads --env-file itself (it loads the file into this program\'s environment, or exits 9 "node: …: not found" when it is missing); give --flag-env-file <path> instead';

export function addHostFlags(cmd: Command): Command {
  return cmd
    .option(
      '--flag-env-file <path>',
      'env file the service reads (systemd EnvironmentFile=) to write the flag to; created (0600) when missing (default /etc/pulse/.env). Not --env-file: Node takes that one itself',
    )
    .addOption(new Option('--env-file <path>', 'renamed to --flag-env-file').hideHelp())
    .option('--dropin <path>', 'write the flag to this systemd drop-in (Environment=) instead; daemon-reload runs before the restart')
    .option('--container-env <path>', 'write the flag to this container env file instead (the restart must re-create the container)')
    .option('--systemd-unit <name>', 'restart with `systemctl restart <name>` (the default, unit pulse)')
    .option('--restart-cmd <json>', 'restart with this command instead, as a JSON argv, e.g. \'["/usr/local/bin/pulse-restart"]\'')
    .option(
      '--container-recreate [json]',
      'restart by re-creating the container (default ["docker","compose","up","-d","--force-recreate","pulse"])',
    )
    .option('--health-timeout-ms <n>', 'how long Pulse may take to answer /api/health after the restart', Number)
    .option('--prefix <json>', 'JSON argv put before every host command, e.g. \'["sudo","-n"]\'')
    .option('--log-unit <name>', "read Pulse's logs with journalctl -u <name> (the default, unit pulse)")
    .option('--log-file <path>', "read Pulse's logs from this file instead")
    .option('--log-cmd <json>', 'read Pulse\'s logs with this JSON argv instead; "{since}" is replaced by the start time')
    .addHelpText(
      'after',
      '\nThe env file flag is --flag-env-file. Do not type --env-file: Node reads that option itself, before this program\n' +
        'runs, and stops with exit code 9 and "node: <path>: not found" when the file does not exist.',
    );
}

export const HOST_FIELD_NAMES: Record<string, string> = {
  'flag.path': '--flag-env-file / --dropin / --container-env',
  'restart.unit': '--systemd-unit',
  'restart.argv': '--restart-cmd / --container-recreate',
  'restart.argv.0': '--restart-cmd / --container-recreate',
  'restart.healthTimeoutMs': '--health-timeout-ms',
  prefix: '--prefix',
  'prefix.0': '--prefix',
  'logs.unit': '--log-unit',
  'logs.path': '--log-file',
  'logs.argv': '--log-cmd',
  'logs.argv.0': '--log-cmd',
  ...RUN_FIELD_NAMES,
};

/** A JSON argv flag: an array of strings, never a command line to be split by a shell. */
function argvFlag(value: string, flag: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.some((a) => typeof a !== 'string')) {
    throw new ConfigError(
      `${flag}: must be a JSON array of strings such as '["systemctl","restart","pulse"]' (one element per argument, no shell)`,
    );
  }
  return parsed as string[];
}

function onlyOne(flags: Record<string, unknown>, names: Record<string, string>): string | undefined {
  const given = Object.keys(names).filter((k) => flags[k] !== undefined && flags[k] !== false);
  if (given.length > 1) throw new ConfigError(`${given.map((k) => names[k]).join(' and ')}: give only one of them`);
  return given[0];
}

/** The flag/restart/prefix/logs part of a procedure input, from CLI flags (defaults are the schema's). */
export function hostInputFromFlags(flags: HostFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flags.envFile !== undefined) throw new ConfigError(ENV_FILE_RENAMED);
  const target = onlyOne(flags as Record<string, unknown>, {
    flagEnvFile: '--flag-env-file',
    dropin: '--dropin',
    containerEnv: '--container-env',
  });
  if (target === 'flagEnvFile') out.flag = { kind: 'env-file', path: flags.flagEnvFile };
  if (target === 'dropin') out.flag = { kind: 'systemd-dropin', path: flags.dropin };
  if (target === 'containerEnv') out.flag = { kind: 'container-env', path: flags.containerEnv };

  const restartKind = onlyOne(flags as Record<string, unknown>, {
    systemdUnit: '--systemd-unit',
    restartCmd: '--restart-cmd',
    containerRecreate: '--container-recreate',
  });
  const health = flags.healthTimeoutMs !== undefined ? { healthTimeoutMs: flags.healthTimeoutMs } : {};
  if (restartKind === 'systemdUnit') out.restart = { kind: 'systemd', unit: flags.systemdUnit, ...health };
  else if (restartKind === 'restartCmd')
    out.restart = { kind: 'command', argv: argvFlag(flags.restartCmd as string, '--restart-cmd'), ...health };
  else if (restartKind === 'containerRecreate') {
    const argv = typeof flags.containerRecreate === 'string' ? { argv: argvFlag(flags.containerRecreate, '--container-recreate') } : {};
    out.restart = { kind: 'container', ...argv, ...health };
  } else if (flags.healthTimeoutMs !== undefined) out.restart = { kind: 'systemd', ...health };

  if (flags.prefix !== undefined) out.prefix = argvFlag(flags.prefix, '--prefix');

  const logKind = onlyOne(flags as Record<string, unknown>, { logUnit: '--log-unit', logFile: '--log-file', logCmd: '--log-cmd' });
  if (logKind === 'logUnit') out.logs = { kind: 'journald', unit: flags.logUnit };
  if (logKind === 'logFile') out.logs = { kind: 'file', path: flags.logFile };
  if (logKind === 'logCmd') out.logs = { kind: 'command', argv: argvFlag(flags.logCmd as string, '--log-cmd') };
  return out;
}

// --- enable ------------------------------------------------------------------------------------------------------

interface ConnectionFlags {
  connectionFile?: string;
  connectionName?: string;
  connectionHost?: string;
  connectionPort?: number;
  apiKeyEnv?: string;
  apiKeyFile?: string;
  insecureSkipVerify?: boolean;
  useHttps?: boolean;
}

function connectionFromFlags(f: ConnectionFlags): Record<string, unknown> | undefined {
  if (f.connectionFile !== undefined) {
    const extra = [f.connectionName, f.connectionHost, f.connectionPort, f.apiKeyEnv, f.apiKeyFile, f.useHttps].some(
      (v) => v !== undefined,
    );
    if (extra) throw new ConfigError('--connection-file: give either the body file or the --connection-*/--api-key-* flags, not both');
    return { bodyFile: f.connectionFile };
  }
  const given = [f.connectionName, f.connectionHost, f.connectionPort, f.apiKeyEnv, f.apiKeyFile, f.useHttps].some((v) => v !== undefined);
  if (!given) return undefined;
  const apiKey =
    f.apiKeyEnv !== undefined || f.apiKeyFile !== undefined
      ? { ...(f.apiKeyEnv !== undefined && { env: f.apiKeyEnv }), ...(f.apiKeyFile !== undefined && { file: f.apiKeyFile }) }
      : undefined;
  return {
    ...(f.connectionName !== undefined && { name: f.connectionName }),
    ...(f.connectionHost !== undefined && { host: f.connectionHost }),
    ...(f.connectionPort !== undefined && { port: f.connectionPort }),
    ...(apiKey && { apiKey }),
    ...(f.useHttps !== undefined && { useHttps: f.useHttps }),
    ...(f.insecureSkipVerify && { insecureSkipVerify: true }),
  };
}

export function enableCommand(): Command {
  const cmd = new Command('enable').description(
    'Enable TrueNAS: set the flag, restart Pulse, add and test a connection, verify the poller and resources (runbook §1)',
  );
  addRunFlags(addPreflightFlag(addHostFlags(addPulseFlags(addGlobalFlags(cmd)))), {
    maxAttempts: 'attempts per step while Pulse or the host is unavailable',
    plan: 'print each step, the exact command or HTTP call and the file it would touch, without changing anything',
  })
    .option('--connection-name <name>', 'name of the TrueNAS connection to add, e.g. nas-1')
    .option(
      '--connection-host <host>',
      'TrueNAS address, e.g. https://truenas.local or http://10.0.0.5 (give --connection-port for plain HTTP)',
    )
    .option('--connection-port <n>', 'TrueNAS port; without it Pulse dials HTTPS even for an http:// host', Number)
    .option('--api-key-env <name>', 'env var (on the worker host) that holds the TrueNAS API key')
    .option('--api-key-file <path>', 'file (on the worker host) that holds the TrueNAS API key')
    .option(
      '--connection-file <path>',
      'JSON file (on the worker host) with the runbook\'s body, e.g. {"name":"nas-1","host":"…","api_key":"…"}',
    )
    .option('--use-https', 'Pulse dials the NAS over HTTPS (useHttps: true); with --connection-port, the pair says exactly how it connects')
    .option(
      '--no-use-https',
      'Pulse dials the NAS over plain HTTP (useHttps: false); give --connection-port too, since Pulse dials HTTPS when the port is 0',
    )
    .option('--insecure-skip-verify', "let Pulse skip the NAS's TLS certificate check")
    .option('--appear-within-seconds <n>', 'how long the poller and the resources may take to show up (default 120: two ticks)', Number)
    .option('--verify-every-seconds <n>', 'how often Pulse is read while waiting', Number)
    .option('--keep-on-failure', 'if a step fails, leave the connection and the flag this run set (and list them) instead of undoing them')
    .action(async (flags) => {
      const { settings, pulse, base } = procedureStart(flags);
      const connection = connectionFromFlags(flags);
      const input = parseOrExplain(
        EnableInputSchema,
        {
          ...base,
          ...hostInputFromFlags(flags),
          ...(connection && { connection }),
          ...(flags.appearWithinSeconds !== undefined && { appearWithinSeconds: flags.appearWithinSeconds }),
          ...(flags.verifyEverySeconds !== undefined && { verifyEverySeconds: flags.verifyEverySeconds }),
          ...(flags.keepOnFailure && { keepOnFailure: true }),
        },
        'enable',
        {
          ...HOST_FIELD_NAMES,
          'connection.bodyFile': '--connection-file',
          'connection.name': '--connection-name',
          'connection.host': '--connection-host',
          'connection.port': '--connection-port',
          'connection.useHttps': '--use-https / --no-use-https',
          'connection.apiKey': '--api-key-env / --api-key-file',
          'connection.apiKey.env': '--api-key-env',
          'connection.apiKey.file': '--api-key-file',
          appearWithinSeconds: '--appear-within-seconds',
          verifyEverySeconds: '--verify-every-seconds',
        },
      );
      await runProcedure<EnableResult>({
        workflowType: ENABLE_WORKFLOW,
        procedure: 'enable',
        input,
        settings,
        target: pulse.url,
        json: Boolean(flags.json),
        summarize: summarizeEnable,
        preflight: preflightFrom(flags, { pulse: input.pulse, flag: input.flag, restart: input.restart, prefix: input.prefix }),
      });
    });
  return cmd;
}

export function summarizeEnable(r: EnableResult): string {
  if (r.plan) return `${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed.`;
  const parts = [
    `PULSE_ENABLE_TRUENAS=true ${r.flag?.changed ? 'written to' : 'already in'} ${r.flag?.path}`,
    r.restarted ? 'Pulse restarted' : 'no restart was needed',
  ];
  if (r.connection) parts.push(`connection ${r.connection.id} ${r.connection.outcome}, tested with the ${r.connection.testedWith} test`);
  if (r.poller) parts.push(`poller seen through ${r.poller.signal}`);
  if (r.resources) parts.push(`${r.resources.total} TrueNAS resource(s) listed (${r.resources.online} online)`);
  const warnings = r.warnings.map((w) => `\n  warning: ${w}`).join('');
  return `Enable complete: ${parts.join('; ')}.${warnings}`;
}
