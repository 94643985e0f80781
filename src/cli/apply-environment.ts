/**
 * `--env NAME` / PULSE_RUNBOOK_ENV on every command: before a command's action runs, each of its flags that the
 * person did not type, and whose environment variable is not set either, takes the value of the named environment
 * (src/config/environments.ts). So the precedence is flags > environment variables > the config file > defaults,
 * the same for every command. Where each setting came from is kept in the `settingSources` option for `doctor`.
 */
import type { Command } from 'commander';
import { ENV_NAME_ENV, SETTING_KEYS } from '../config/environments.js';
import { configFilePath, environment } from './environments-file.js';

export type SettingSources = Record<string, string>;

export function applyEnvironment(action: Command, env: NodeJS.ProcessEnv = process.env): void {
  const has = (option: string) => action.options.some((o) => o.attributeName() === option);
  if (!has('env')) return;
  const name = (action.opts().env as string | undefined) ?? env[ENV_NAME_ENV];
  const file = configFilePath(env);
  const values = name ? environment(name, file) : {};
  const byOption = new Map(Object.values(SETTING_KEYS).map((s) => [s.option, s]));
  const typed = (option: string) => action.getOptionValueSource(option) === 'cli';
  const inEnv = (option: string) => {
    const v = byOption.get(option)?.envVar;
    return Boolean(v && env[v]);
  };
  const sources: SettingSources = {};
  for (const [key, spec] of Object.entries(SETTING_KEYS)) {
    if (!has(spec.option)) continue;
    if (typed(spec.option)) sources[key] = `flag ${spec.flag}`;
    else if (inEnv(spec.option)) sources[key] = `environment variable ${spec.envVar}`;
    else if (values[key] !== undefined && !(spec.group ?? []).some((o) => typed(o) || inEnv(o))) {
      action.setOptionValueWithSource(spec.option, values[key], 'config');
      sources[key] = `environment "${name}" in ${file}`;
    }
  }
  action.setOptionValue('settingSources', sources);
}
