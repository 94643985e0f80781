/**
 * `pulse-runbook env set|get|list|delete`: the named environments of the per-user config file
 * (src/config/environments.ts), e.g. `env set prod.temporal.address temporal.prod:7233`, then `--env prod` on any
 * command. A value that looks like a token is refused: environments hold references to secrets, never secrets.
 */
import { Command } from 'commander';
import { settingProblem, SETTING_KEYS, splitKey } from '../config/environments.js';
import { configFilePath, readEnvironments, writeEnvironments } from './environments-file.js';
import { ConfigError } from '../config/load.js';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** "no environment "x" in FILE; it has a, b. Give one of them …" */
function noEnvironment(env: string, known: string[], file: string): string {
  return (
    `no environment "${env}" in ${file}; it has ${known.join(', ') || 'none'}. ` +
    `Give one of them (\`pulse-runbook env list\`), or create it with \`pulse-runbook env set ${env}.<setting> <value>\``
  );
}

export function envCommand(): Command {
  const cmd = new Command('env').description(
    'Named environments (Temporal address, namespace, task queue, key file, Pulse URL and token reference, host settings, Prometheus URL), kept in $XDG_CONFIG_HOME/pulse-runbooks/config.json (or PULSE_RUNBOOK_CONFIG_FILE); use one with --env NAME or PULSE_RUNBOOK_ENV',
  );
  cmd
    .command('set')
    .description('set one setting of an environment, creating it: env set prod.temporal.address temporal.prod:7233')
    .argument('<env.setting>', `e.g. prod.temporal.address; settings: ${Object.keys(SETTING_KEYS).join(', ')}`)
    .argument('<value>', 'the value (a reference for secrets: pulse.tokenEnv is an env var NAME, pulse.tokenFile a path)')
    .action((dotted: string, value: string) => {
      const { env, key } = splitKey(dotted);
      const problem = settingProblem(key, value);
      if (problem) throw new ConfigError(`env set ${dotted}: ${problem}. Nothing was written.`);
      const file = configFilePath();
      const data = readEnvironments(file);
      data.environments[env] = { ...(data.environments[env] ?? {}), [key]: value };
      writeEnvironments(data, file);
      out(`${env}.${key} = ${value}   (${file})`);
    });
  cmd
    .command('get')
    .description('print one setting (prod.temporal.address) or every setting of an environment (prod)')
    .argument('<env[.setting]>')
    .action((dotted: string) => {
      const file = configFilePath();
      const all = readEnvironments(file).environments;
      const [env] = dotted.split('.', 1);
      const settings = all[env];
      if (!settings) throw new ConfigError(`env get: ${noEnvironment(env, Object.keys(all), file)}`);
      if (dotted === env) {
        for (const [k, v] of Object.entries(settings)) out(`${env}.${k} = ${v}`);
        return;
      }
      const { key } = splitKey(dotted);
      if (settings[key] === undefined)
        throw new ConfigError(`env get: ${dotted} is not set; set it with \`pulse-runbook env set ${dotted} <value>\``);
      out(settings[key]);
    });
  cmd
    .command('list')
    .description('every environment and its settings')
    .option('--json', 'print them as JSON')
    .action((flags: { json?: boolean }) => {
      const file = configFilePath();
      const all = readEnvironments(file).environments;
      if (flags.json) return out(JSON.stringify({ file, environments: all }, null, 2));
      if (Object.keys(all).length === 0)
        return out(`no environments in ${file}; create one with \`pulse-runbook env set prod.temporal.address host:7233\``);
      out(`# ${file}`);
      for (const [name, settings] of Object.entries(all)) {
        out(name);
        for (const [k, v] of Object.entries(settings)) out(`  ${k} = ${v}`);
      }
    });
  cmd
    .command('delete')
    .description('delete one setting (prod.pulse.url) or a whole environment (prod)')
    .argument('<env[.setting]>')
    .action((dotted: string) => {
      const file = configFilePath();
      const data = readEnvironments(file);
      const [env] = dotted.split('.', 1);
      if (!data.environments[env])
        throw new ConfigError(`env delete: ${noEnvironment(env, Object.keys(data.environments), file)}; nothing was changed`);
      if (dotted === env) delete data.environments[env];
      else {
        const { key } = splitKey(dotted);
        if (data.environments[env][key] === undefined) {
          const set = Object.keys(data.environments[env]);
          throw new ConfigError(
            `env delete: ${dotted} is not set (${env} has ${set.join(', ') || 'no settings'}); nothing was changed. Give a setting it has, see \`pulse-runbook env get ${env}\``,
          );
        }
        delete data.environments[env][key];
      }
      writeEnvironments(data, file);
      out(`deleted ${dotted}   (${file})`);
    });
  return cmd;
}
