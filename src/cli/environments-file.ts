/**
 * The per-user environments file on disk (its schema and setting rules: src/config/environments.ts): where it is,
 * reading and checking it, writing it atomically (a 0600 temp file renamed over the old one), one environment.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  CONFIG_FILE_ENV,
  ENV_NAME,
  ENV_NAME_ENV,
  EnvironmentsFileSchema,
  settingProblem,
  type EnvironmentsFile,
} from '../config/environments.js';
import { ConfigError, describeZodError } from '../config/load.js';

export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CONFIG_FILE_ENV]) return env[CONFIG_FILE_ENV] as string;
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'pulse-runbooks', 'config.json');
}

export function readEnvironments(file: string = configFilePath()): EnvironmentsFile {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { environments: {} };
    throw new ConfigError(
      `config file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code}); fix its permissions or set ${CONFIG_FILE_ENV}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`config file ${file}: is not valid JSON (${(err as Error).message}); fix it or remove it`);
  }
  const parsed = EnvironmentsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(
      `${describeZodError(parsed.error, `config file ${file}:`)}\nThe file must be {"environments": {"<name>": {"<setting>": "<value>"}}}: fix it, or remove it and use \`pulse-runbook env set\``,
    );
  for (const [name, settings] of Object.entries(parsed.data.environments)) {
    for (const [key, value] of Object.entries(settings)) {
      const problem = settingProblem(key, value);
      if (problem) throw new ConfigError(`config file ${file}: ${name}.${key}: ${problem}`);
    }
  }
  return parsed.data;
}

/** Writes the whole file atomically: a 0600 temp file in the same directory, renamed over the old one. */
export function writeEnvironments(data: EnvironmentsFile, file: string = configFilePath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new ConfigError(
      `config file ${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was changed`,
    );
  }
}

/** The settings of one environment; a name that is not in the file is an error that lists the ones that are. */
export function environment(name: string, file: string = configFilePath()): Record<string, string> {
  const all = readEnvironments(file).environments;
  if (!ENV_NAME.test(name))
    throw new ConfigError(`--env / ${ENV_NAME_ENV}: "${name}" is not an environment name: give letters, digits, - and _, e.g. --env prod`);
  const found = all[name];
  if (!found) {
    const known = Object.keys(all);
    throw new ConfigError(
      `--env / ${ENV_NAME_ENV}: no environment "${name}" in ${file}; ${known.length ? `it has ${known.join(', ')}` : 'it has none'}. Create it with \`pulse-runbook env set ${name}.temporal.address host:7233\``,
    );
  }
  return found;
}
