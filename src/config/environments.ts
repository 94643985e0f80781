/**
 * Named environments, like the Temporal CLI's: one per-user JSON file (`$XDG_CONFIG_HOME/pulse-runbooks/config.json`,
 * default ~/.config; PULSE_RUNBOOK_CONFIG_FILE names another, for tests) holding, per environment, the settings that
 * otherwise must be repeated on every call. `--env NAME` (or PULSE_RUNBOOK_ENV) applies one; flags win over
 * environment variables, which win over the file.
 *
 * Secrets stay references: the file holds the NAME of the env var with the Pulse token or a file path, never a
 * token, and a value that looks like one is refused. The schema and the rules only: the file on disk (read, written
 * atomically, 0600) is src/cli/environments-file.ts.
 */
import { z } from 'zod';
import { envNameProblem } from './env-name.js';
import { looksLikeSecret } from '../runbook/redact.js';
import { pulseUrlProblem } from './pulse-target.js';
import { ConfigError } from './load.js';

export const CONFIG_FILE_ENV = 'PULSE_RUNBOOK_CONFIG_FILE';
export const ENV_NAME_ENV = 'PULSE_RUNBOOK_ENV';

/** One setting an environment may hold: the flag it stands for, and the environment variable that beats it. */
export interface SettingKey {
  /** The commander attribute of the flag it fills (`temporalAddress` for --temporal-address). */
  option: string;
  flag: string;
  /** The environment variable that overrides the file (flags override both). */
  envVar?: string;
  /** Flags of which only one may be given; a value from the file is not applied when another of them is. */
  group?: string[];
  describe: string;
}

/** A setting filling `flag` (its commander attribute is the flag in camelCase: --temporal-address → temporalAddress). */
function setting(flag: string, describe: string, more: Pick<SettingKey, 'envVar' | 'group'> = {}): SettingKey {
  const option = flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { option, flag, ...more, describe };
}

/** Flags of which only one may be given: the token's source, the flag's file, the restart, the log source. */
const TOKEN = ['tokenEnv', 'tokenFile'];
const FLAG_FILE = ['flagEnvFile', 'dropin', 'containerEnv'];
const RESTART = ['systemdUnit', 'restartCmd', 'containerRecreate'];
const LOGS = ['logUnit', 'logFile', 'logCmd'];

/** Every key of an environment, `section.name` → the flag it fills. */
export const SETTING_KEYS: Record<string, SettingKey> = {
  'temporal.address': setting('--temporal-address', 'Temporal frontend host:port', { envVar: 'TEMPORAL_ADDRESS' }),
  'temporal.namespace': setting('--namespace', 'Temporal namespace', { envVar: 'TEMPORAL_NAMESPACE' }),
  'temporal.taskQueue': setting('--task-queue', 'task queue of the workers', { envVar: 'TEMPORAL_TASK_QUEUE' }),
  'temporal.codecKeysFile': setting('--codec-keys-file', 'payload key file', { envVar: 'PULSE_RUNBOOKS_CODEC_KEYS_FILE' }),
  'pulse.url': setting('--pulse-url', 'Pulse base URL', { envVar: 'PULSE_URL' }),
  'pulse.tokenEnv': setting('--token-env', "NAME of the env var holding the Pulse token on the worker's host", {
    envVar: 'PULSE_TOKEN_ENV',
    group: TOKEN,
  }),
  'pulse.tokenFile': setting('--token-file', "file holding the Pulse token on the worker's host", {
    envVar: 'PULSE_TOKEN_FILE',
    group: TOKEN,
  }),
  'host.flagEnvFile': setting('--flag-env-file', 'env file the Pulse service reads the flag from', { group: FLAG_FILE }),
  'host.restartCmd': setting('--restart-cmd', 'restart command, a JSON argv', { group: RESTART }),
  'host.systemdUnit': setting('--systemd-unit', 'systemd unit restarted', { group: RESTART }),
  'host.logFile': setting('--log-file', "file Pulse's logs are read from", { group: LOGS }),
  'host.logUnit': setting('--log-unit', 'journald unit of the logs', { group: LOGS }),
  'host.dataDir': setting('--data-dir', "Pulse data dir on the worker's host (Data Cleanup)"),
  'prometheus.url': setting('--prometheus-url', 'Prometheus base URL (canary, alerts)', { envVar: 'PROMETHEUS_URL' }),
};

/** An environment's name: letters, digits, - and _. */
export const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const EnvironmentSchema = z.record(z.string(), z.string());
export const EnvironmentsFileSchema = z
  .object({
    environments: z
      .record(z.string().regex(ENV_NAME, 'an environment name is letters, digits, - and _ (e.g. prod)'), EnvironmentSchema)
      .default({}),
  })
  .strict();
export type EnvironmentsFile = z.infer<typeof EnvironmentsFileSchema>;

/** Paths the worker opens: they must not depend on the directory a CLI was started in. */
const WORKER_PATHS = new Set(['pulse.tokenFile', 'host.flagEnvFile', 'host.logFile', 'host.dataDir']);

/** Why `value` may not be stored under `key`, or undefined. Never repeats the value. */
export function settingProblem(key: string, value: string): string | undefined {
  const spec = SETTING_KEYS[key];
  if (!spec) return `unknown setting "${key}"; the settings are ${Object.keys(SETTING_KEYS).join(', ')}`;
  if (key === 'pulse.tokenEnv') return envNameProblem(value, 'PULSE_TOKEN', 'the Pulse API token');
  if (looksLikeSecret(value) && !value.startsWith('/') && !/^https?:\/\//.test(value) && key !== 'host.restartCmd') {
    return (
      'looks like a token or key, and environments hold references only (the value is not repeated here): ' +
      "put the token in an env var or a file on the worker's host and store its NAME as pulse.tokenEnv or its path as pulse.tokenFile"
    );
  }
  if (key === 'pulse.url') return pulseUrlProblem(value);
  if (key === 'prometheus.url' && (/^https?:\/\/[^/\s]*@/.test(value) || value.includes('?'))) {
    return 'must be the base URL, without a user, password or query (e.g. http://prometheus:9090): give credentials by reference';
  }
  if (key === 'temporal.address' && !/^[^\s:/]+:\d{1,5}$/.test(value)) return 'must be host:port such as temporal.example:7233';
  if (WORKER_PATHS.has(key) && !value.startsWith('/'))
    return `must be an absolute path on the worker's host, e.g. ${key === 'host.dataDir' ? '/etc/pulse' : '/etc/pulse/.env'}`;
  if (key === 'host.restartCmd') {
    let argv: unknown;
    try {
      argv = JSON.parse(value);
    } catch {
      argv = undefined;
    }
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string'))
      return 'must be a JSON array of strings such as \'["systemctl","restart","pulse"]\'';
  }
  return undefined;
}

/** The key `prod.temporal.address` split into environment and setting, checked. */
export function splitKey(dotted: string): { env: string; key: string } {
  const i = dotted.indexOf('.');
  const env = i > 0 ? dotted.slice(0, i) : '';
  const key = i > 0 ? dotted.slice(i + 1) : '';
  if (!ENV_NAME.test(env) || !SETTING_KEYS[key]) {
    throw new ConfigError(
      `env: "${dotted}" must be <environment>.<setting>, e.g. prod.temporal.address; the settings are ${Object.keys(SETTING_KEYS).join(', ')}`,
    );
  }
  return { env, key };
}
