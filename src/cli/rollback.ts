/**
 * `pulse-runbook rollback`: runbook §4 as a durable workflow, with progress. `--plan` runs only read-only git
 * commands and prints the revert, build, restart and HTTP check it would do.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CodeRollbackInputSchema } from '../config/code-rollback-input.js';
import { ConfigError, parseOrExplain } from '../config/load.js';
import { RUNBOOK_ROLLBACK_RANGE } from '../config/rollback.js';
import type { CodeRollbackResult } from '../../workflows/code-rollback.js';
import { CODE_ROLLBACK_WORKFLOW } from '../../workflows/code-rollback.messages.js';
import { addGlobalFlags, addPulseFlags } from './context.js';
import { addIncidentRolesFlag, incidentLinkFromFlags, INCIDENT_ROLES_FLAG } from './incident-roles-flag.js';
import { addRunFlags, procedureStart, runProcedure } from './run-procedure.js';
import { addPreflightFlag, preflightFrom } from './preflight.js';
import { HOST_FIELD_NAMES, hostInputFromFlags } from './enable.js';

/** Said before a rollback starts, in its help and after its plan: the build is a check, the restart deploys. */
export const BUILD_INSTALLS_NOTHING =
  'The build step (go build ./...) only checks that the reverted code compiles: it installs nothing. The restart must deploy the new binary ' +
  '(a --restart-cmd that builds or installs and starts it, or a systemd unit / container that runs the rebuilt code); otherwise the old code keeps running and rollback.4 fails.';

const FIELD_NAMES: Record<string, string> = {
  repoPath: '--repo',
  from: '--from',
  to: '--to',
  buildCommand: '--build-command',
  buildEnv: '--build-env',
  buildTimeoutMs: '--build-timeout-ms',
  gitTimeoutSeconds: '--git-timeout-seconds',
  buildHeartbeatTimeoutSeconds: '--build-heartbeat-seconds',
  restart: '--restart',
  'restart.kind': '--restart',
  'restart.unit': '--restart-unit',
  'restart.argv': '--restart-command',
  'restart.healthUrl': '--health-url',
  'restart.healthTimeoutMs': '--health-timeout-ms',
  prefix: '--prefix',
  'retry.maximumAttempts': '--max-attempts',
  'incident.roles': INCIDENT_ROLES_FLAG,
};

/**
 * An argv given on the command line as a JSON array, e.g. '["systemctl","restart","pulse"]'. JSON rather than
 * a string split on spaces: an argument with a space stays one argument, and nothing is read by a shell.
 */
export function parseArgvFlag(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`rollback ${flag}: must be a JSON array of strings, e.g. ${flag} '["go","build","./..."]'`);
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
    throw new ConfigError(`rollback ${flag}: must be a JSON array of strings, e.g. ${flag} '["go","build","./..."]'`);
  }
  return parsed;
}

/** Repeated `--build-env NAME=value` flags. */
function collectEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0)
    throw new ConfigError(`rollback --build-env: "${value.split('=')[0]}" must be NAME=value, e.g. --build-env GOFLAGS=-mod=mod`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** The restart flags Rollback spelled differently before issue 15; still read, with one warning. */
const OLD_RESTART_FLAGS = { restart: '--restart', restartUnit: '--restart-unit', restartCommand: '--restart-command' } as const;
export const OLD_RESTART_WARNING =
  'warning: --restart, --restart-unit and --restart-command are deprecated; give the restart as Enable and Disable do: --systemd-unit <name>, --restart-cmd <json> or --container-recreate [json]';

/**
 * The restart of a rollback, from the flags every procedure spells the same way (--systemd-unit, --restart-cmd,
 * --container-recreate, --health-timeout-ms, --prefix; src/cli/enable.ts) or, with a warning, the old ones.
 */
function restartAndPrefix(
  flags: Record<string, string | number | boolean | undefined>,
  warn: (line: string) => void,
): { restart?: Record<string, unknown>; prefix?: string[]; fieldNames: Record<string, string> } {
  const old = Object.keys(OLD_RESTART_FLAGS).filter((k) => flags[k] !== undefined);
  const current = ['systemdUnit', 'restartCmd', 'containerRecreate'].filter((k) => flags[k] !== undefined);
  if (old.length && current.length) {
    throw new ConfigError(
      `rollback ${old.map((k) => OLD_RESTART_FLAGS[k as keyof typeof OLD_RESTART_FLAGS]).join(', ')}: deprecated spelling; give the restart with --systemd-unit, --restart-cmd or --container-recreate only`,
    );
  }
  const prefix = parseArgvFlag(flags.prefix as string | undefined, '--prefix');
  if (old.length) {
    warn(OLD_RESTART_WARNING);
    return {
      restart: restartFrom(flags as Record<string, string | number | undefined>),
      ...(prefix && { prefix }),
      fieldNames: FIELD_NAMES,
    };
  }
  const host = hostInputFromFlags({
    systemdUnit: flags.systemdUnit as string | undefined,
    restartCmd: flags.restartCmd as string | undefined,
    containerRecreate: flags.containerRecreate as string | boolean | undefined,
    healthTimeoutMs: flags.healthTimeoutMs as number | undefined,
  });
  let restart = host.restart as Record<string, unknown> | undefined;
  if (flags.healthUrl !== undefined) restart = { ...(restart ?? { kind: 'systemd' }), healthUrl: flags.healthUrl };
  return {
    ...(restart && { restart }),
    ...(prefix && { prefix }),
    fieldNames: { ...FIELD_NAMES, ...HOST_FIELD_NAMES, 'restart.healthUrl': '--health-url' },
  };
}

function restartFrom(flags: Record<string, string | number | undefined>): Record<string, unknown> | undefined {
  const argv = parseArgvFlag(flags.restartCommand as string | undefined, '--restart-command');
  const kind = (flags.restart as string | undefined) ?? (argv ? 'command' : undefined);
  const common = {
    ...(flags.healthUrl !== undefined && { healthUrl: flags.healthUrl }),
    ...(flags.healthTimeoutMs !== undefined && { healthTimeoutMs: flags.healthTimeoutMs }),
  };
  if (!kind) return Object.keys(common).length ? { kind: 'systemd', ...common } : undefined;
  return {
    kind,
    ...(flags.restartUnit !== undefined && { unit: flags.restartUnit }),
    ...(argv && { argv }),
    ...common,
  };
}

export function rollbackCommand(): Command {
  const cmd = new Command('rollback')
    .description('Revert the TrueNAS commit range, build, restart Pulse and verify the TrueNAS routes are gone (runbook §4)')
    .addHelpText('after', `\n${BUILD_INSTALLS_NOTHING}`);
  addRunFlags(addPreflightFlag(addIncidentRolesFlag(addPulseFlags(addGlobalFlags(cmd)))), {
    maxAttempts: 'attempts per step while a host or Pulse is unavailable',
    plan: 'print every step and the exact commands and HTTP calls; only read-only git commands run',
  })
    .option('--repo <path>', "top-level folder of the Pulse checkout, on the worker's host (required)")
    .option('--from <sha>', `oldest commit of the TrueNAS range (default: the runbook's ${RUNBOOK_ROLLBACK_RANGE.from})`)
    .option('--to <sha>', `newest commit of the TrueNAS range (default: the runbook's ${RUNBOOK_ROLLBACK_RANGE.to})`)
    .option('--build-command <json>', 'build check as a JSON argv (default ["go","build","./..."])')
    .option('--build-env <NAME=value>', 'extra environment for the build (repeatable)', collectEnv)
    .option('--build-timeout-ms <n>', 'kill the build after this long (default 15 minutes)', Number)
    .option(
      '--build-heartbeat-seconds <n>',
      'a build whose worker stops heartbeating this long is taken as lost and retried elsewhere (default 10)',
      Number,
    )
    .option('--git-timeout-seconds <n>', 'upper bound of one git step (default 600)', Number)
    .option(
      '--systemd-unit <name>',
      'restart with `systemctl restart <name>` (the default, unit pulse); the unit must start the rebuilt binary',
    )
    .option(
      '--restart-cmd <json>',
      'restart with this command instead, as a JSON argv, e.g. \'["/usr/local/bin/pulse-deploy"]\': it must install the binary the build made and start it',
    )
    .option(
      '--container-recreate [json]',
      'restart by re-creating the container (default ["docker","compose","up","-d","--force-recreate","pulse"]); the image must hold the rebuilt code',
    )
    .addOption(new Option('--restart <kind>', 'deprecated: --systemd-unit, --restart-cmd or --container-recreate').hideHelp())
    .addOption(new Option('--restart-unit <name>', 'deprecated: --systemd-unit').hideHelp())
    .addOption(new Option('--restart-command <json>', 'deprecated: --restart-cmd').hideHelp())
    .option('--health-url <url>', 'health URL polled after the restart (default <pulse url>/api/health)')
    .option('--health-timeout-ms <n>', 'how long Pulse may take to answer after the restart', Number)
    .option('--prefix <json>', 'argv put in front of the restart command, e.g. \'["sudo","-n"]\'')
    .action(async (flags) => {
      const { settings, pulse, base } = procedureStart(flags);
      const { restart, prefix, fieldNames } = restartAndPrefix(flags, (line) => process.stderr.write(`${line}\n`));
      const buildCommand = parseArgvFlag(flags.buildCommand, '--build-command');
      const incident = incidentLinkFromFlags(flags);
      const input = parseOrExplain(
        CodeRollbackInputSchema,
        {
          ...base,
          // A relative path means "from where I am"; the worker gets the absolute one.
          repoPath: typeof flags.repo === 'string' && flags.repo && !flags.repo.startsWith('/') ? resolve(flags.repo) : flags.repo,
          ...(flags.from !== undefined && { from: flags.from }),
          ...(flags.to !== undefined && { to: flags.to }),
          ...(buildCommand && { buildCommand }),
          ...(flags.buildEnv !== undefined && { buildEnv: flags.buildEnv }),
          ...(flags.buildTimeoutMs !== undefined && { buildTimeoutMs: flags.buildTimeoutMs }),
          ...(flags.buildHeartbeatSeconds !== undefined && { buildHeartbeatTimeoutSeconds: flags.buildHeartbeatSeconds }),
          ...(flags.gitTimeoutSeconds !== undefined && { gitTimeoutSeconds: flags.gitTimeoutSeconds }),
          ...(restart && { restart }),
          ...(prefix && { prefix }),
          ...(incident && { incident }),
        },
        'rollback',
        fieldNames,
      );
      if (!flags.json) process.stdout.write(`Note: ${BUILD_INSTALLS_NOTHING}\n`);
      await runProcedure<CodeRollbackResult>({
        workflowType: CODE_ROLLBACK_WORKFLOW,
        procedure: 'code-rollback',
        input,
        settings,
        target: `${input.repoPath} (range ${input.from}^..${input.to}; Pulse ${pulse.url})`,
        json: Boolean(flags.json),
        summarize: summarizeRollback,
        preflight: preflightFrom(flags, { pulse: input.pulse, restart: input.restart, prefix: input.prefix }),
      });
    });
  return cmd;
}

export function summarizeRollback(r: CodeRollbackResult): string {
  const people = r.humanSteps.map((h) => `[${h.step}] ${h.instruction}`).join('\n  ');
  const todo = people ? `\nStill for a person:\n  ${people}` : '';
  if (r.plan) {
    return `${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed; the range has ${r.range.commits.length} commit(s).${todo}`;
  }
  const revert =
    r.revert.outcome === 'already-reverted'
      ? `the range (${r.range.commits.length} commit(s)) was already reverted, no new commit`
      : `reverted ${r.revert.revertCommits.length} commit(s), HEAD ${r.revert.headBefore.slice(0, 12)} → ${r.revert.headAfter.slice(0, 12)}`;
  const build = r.build ? `build exit ${r.build.exitCode} in ${Math.round(r.build.durationMs / 100) / 10} s` : 'no build';
  const routes = r.routes ? `GET /api/truenas/connections now answers ${r.routes.status} (${r.routes.answer})` : 'routes not checked';
  return `Code Rollback complete: ${revert}; ${build}; Pulse restarted; ${routes}.${todo}`;
}
