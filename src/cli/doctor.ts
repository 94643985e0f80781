/**
 * `pulse-runbook doctor`: every check a procedure depends on, in order, as one table (or `--json`), each with how
 * to fix it. Temporal, the namespace, the worker and the payload key are checked from here; the token, Pulse, the
 * flag location, the restart method, the data dir and Prometheus on a worker's host (workflows/doctor.ts), because
 * that is where the procedures read, call, write and run them. Exit 0 when nothing failed, else 2 (exit-codes.ts).
 */
import { Command } from 'commander';
import { DoctorHostInputSchema, type DoctorHostInputRaw } from '../config/doctor.js';
import { parseOrExplain, resolvePulseTarget } from '../config/load.js';
import { addGlobalFlags, addPulseFlags, EMBEDDED_ADDRESS, loadSettings, resolveActor } from './context.js';
import { addHostFlags, HOST_FIELD_NAMES, hostInputFromFlags } from './enable.js';
import { EXIT } from './exit-codes.js';
import { settingProblem, SETTING_KEYS } from '../config/environments.js';
import { ConfigError } from '../config/load.js';
import type { SettingSources } from './apply-environment.js';

const FIELD_NAMES = { ...HOST_FIELD_NAMES, 'dataDir.path': '--data-dir', 'prometheus.url': '--prometheus-url / PROMETHEUS_URL' };

export function doctorCommand(): Command {
  const cmd = new Command('doctor').description(
    "Check everything a procedure needs, in order, and say how to fix each: Temporal, namespace, worker, payload key, and on the worker's host the Pulse token, Pulse, the flag file, the restart method, the data dir and Prometheus",
  );
  addHostFlags(addPulseFlags(addGlobalFlags(cmd)))
    .option(
      '--data-dir <path>',
      "Pulse data directory on the worker's host, as Data Cleanup would use it (default: the worker's PULSE_DATA_DIR, else /etc/pulse)",
    )
    .option('--prometheus-url <url>', 'Prometheus base URL the canary and alerts use (or PROMETHEUS_URL); not checked when not given')
    .option('--json', 'print the checks as JSON')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      refuseBadSettings(flags);
      const pulse = resolvePulseTarget(flags, process.env, settings.file);
      const hostPart = hostInputFromFlags(flags) as Partial<DoctorHostInputRaw>;
      const prometheusUrl = flags.prometheusUrl ?? process.env.PROMETHEUS_URL;
      const host = parseOrExplain(
        DoctorHostInputSchema,
        {
          ...(pulse && { pulse }),
          // What Enable and Disable would use: the given settings, else their defaults.
          flag: hostPart.flag ?? { kind: 'env-file' },
          restart: hostPart.restart ?? { kind: 'systemd' },
          ...(hostPart.prefix && { prefix: hostPart.prefix }),
          dataDir: flags.dataDir !== undefined ? { path: flags.dataDir } : {},
          ...(prometheusUrl && { prometheus: { url: prometheusUrl } }),
        },
        'doctor',
        FIELD_NAMES,
      );
      const { runDoctor } = await import('./doctor-run.js');
      const { renderChecks, summaryLine } = await import('../doctor/render.js');
      // Who runs the doctor, as for any command that starts a run: its doctor run carries this actor.
      const checks = await runDoctor(settings, host, await resolveActor(settings));
      const failed = checks.some((c) => c.status === 'fail');
      const { address, namespace, taskQueue } = { ...settings.temporal, address: settings.temporal.address ?? EMBEDDED_ADDRESS };
      const settingRows = settingsWithSources(flags, flags.settingSources ?? {});
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ ok: !failed, temporal: { address, namespace, taskQueue }, settings: settingRows, checks }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(
          `pulse-runbook doctor: Temporal ${address}, namespace ${namespace}, task queue ${taskQueue}${pulse ? `, Pulse ${pulse.url}` : ''}\n\n`,
        );
        const given = settingRows.filter((r) => r.source !== 'default');
        if (given.length)
          process.stdout.write(`Settings:\n${given.map((r) => `  ${r.key.padEnd(22)} ${r.value}   (${r.source})`).join('\n')}\n\n`);
        process.stdout.write(`${renderChecks(checks)}\n\n${summaryLine(checks)}\n`);
      }
      process.exitCode = failed ? EXIT.badInput : EXIT.ok;
    });
  return cmd;
}

/** The settings that carry a secret when given wrongly: a token pasted instead of its reference, a URL with a password. */
const SECRET_PRONE = ['pulse.url', 'pulse.tokenEnv', 'pulse.tokenFile', 'prometheus.url'];

/**
 * Doctor prints every setting it used (the table and --json), so the ones that carry a secret when given wrongly
 * are held to what `env set` would store, before anything is printed or contacted: a token where its NAME or path
 * belongs, a URL with a user, password or query is refused, naming the flag and the fix, and never printed.
 */
function refuseBadSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): void {
  for (const key of SECRET_PRONE) {
    const spec = SETTING_KEYS[key];
    const value = flags[spec.option] ?? (spec.envVar ? env[spec.envVar] : undefined);
    if (typeof value !== 'string') continue;
    const problem = settingProblem(key, value);
    if (problem) throw new ConfigError(`doctor ${spec.flag}${spec.envVar ? ` / ${spec.envVar}` : ''}: ${problem}. Nothing was checked.`);
  }
}

/** Each setting the doctor used, its value and where it came from (flag, environment variable, named environment). */
export function settingsWithSources(
  flags: Record<string, unknown>,
  sources: SettingSources,
  env: NodeJS.ProcessEnv = process.env,
): Array<{ key: string; value: string; source: string }> {
  return Object.entries(SETTING_KEYS).map(([key, spec]) => {
    const value = flags[spec.option] ?? (spec.envVar ? env[spec.envVar] : undefined);
    return { key, value: value === undefined ? '(default)' : String(value), source: sources[key] ?? 'default' };
  });
}
