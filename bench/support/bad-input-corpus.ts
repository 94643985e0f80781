/**
 * The bad-input corpus (issue 13): what a new user gets wrong, across every command. Each case names the flag (or
 * env var, or file) its error must name, what the message must say to fix it, and any secret it must not repeat.
 * Used by test/unit/cli-bad-input-corpus.test.ts (through the real CLI entry point, all cases in one process) and by
 * `npm run bench` (corpus size, share of clear errors, files and Pulse state changed).
 *
 * Every case is refused before Temporal is contacted: the runner points TEMPORAL_ADDRESS at a port where nothing
 * listens, so a case that slipped through would fail with "Temporal … is not reachable" instead of its own message.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CliCase, CliResult } from './cli-in-process.js';

export interface CorpusCase extends CliCase {
  name: string;
  /** Text the error must contain: the flag, env var or file it is about. */
  names: string;
  /** What the message must say to fix it. */
  fix: RegExp;
  /** A value that must appear nowhere in the output. */
  secret?: string;
  /** Default 2 (bad input). */
  exitCode?: number;
  /**
   * The case is about an unreachable Temporal address (doctor's own check): "is not reachable" is its answer there,
   * not a sign that a refusal slipped through to Temporal.
   */
  reachesTemporal?: boolean;
}

/** A token stored by mistake in a named environment (sandbox file environments-token.json); never to be printed. */
const STORED_TOKEN = `f${randomBytes(31).toString('hex')}`;

/** The named environments file of the env and doctor cases: one environment, prod. */
export const ENVIRONMENTS = { environments: { prod: { 'pulse.url': 'http://127.0.0.1:9', 'pulse.tokenEnv': 'PULSE_TOKEN' } } };

export interface CorpusSandbox {
  dir: string;
  pulseUrl: string;
  temporal: string;
}

/** Files the cases read; the sandbox is hashed before and after the corpus. */
export function writeSandboxFiles(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const f = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  const key = randomBytes(32).toString('base64');
  return {
    envFile: f('pulse.env', 'PULSE_ENABLE_TRUENAS=true\n'),
    keys: f('keys.json', JSON.stringify({ current: 'k1', keys: { k1: key } })),
    keysShort: f('keys-short.json', JSON.stringify({ current: 'k1', keys: { k1: randomBytes(16).toString('base64') } })),
    keysNoCurrent: f('keys-no-current.json', JSON.stringify({ current: 'k2', keys: { k1: key } })),
    notJson: f('not-json.json', '{ this is not json'),
    configUnknownKey: f('config-unknown.json', JSON.stringify({ pulse: { url: 'http://127.0.0.1:9' }, extra: true })),
    configQuery: f('config-query.json', JSON.stringify({ pulse: { url: 'http://127.0.0.1:9/?apitoken=from-config-0123456789abcdef' } })),
    configTokenValue: f(
      'config-token.json',
      JSON.stringify({ pulse: { url: 'http://127.0.0.1:9', token: { env: 'c0ffee0123456789abcdef0123456789' } } }),
    ),
    rolesNotList: f('roles-not-list.json', JSON.stringify({ ops: 'olga' })),
    rolesUnknown: f('roles-unknown.json', JSON.stringify({ sales: ['sam'] })),
    connection: f('connection.json', JSON.stringify({ name: 'nas-1', host: 'https://nas.local', api_key: 'x' })),
    existingKeys: f('existing-keys.json', JSON.stringify({ current: 'k1', keys: { k1: key } })),
    environments: f('environments.json', `${JSON.stringify(ENVIRONMENTS, null, 2)}\n`),
    environmentsToken: f('environments-token.json', JSON.stringify({ environments: { prod: { 'temporal.namespace': STORED_TOKEN } } })),
    environmentsUnknownKey: f('environments-unknown-key.json', JSON.stringify({ environments: { prod: {} }, extra: true })),
    environmentsBadSetting: f('environments-bad-setting.json', JSON.stringify({ environments: { prod: { 'nosuch.field': 'x' } } })),
  };
}

const HELP = /see `pulse-runbook [^`]*--help`/;
const SETTINGS = /e\.g\. prod\.temporal\.address; the settings are temporal\.address|the settings are temporal\.address/;
const BY_REFERENCE = /store its NAME as pulse\.tokenEnv or its path as pulse\.tokenFile/;
const TOKEN_NAME = /give the NAME of the environment variable that holds it/;
const FILE_SHAPE = /The file must be \{"environments": \{"<name>": \{"<setting>": "<value>"\}\}\}: fix it, or remove it/;
const CREATE_ENV = /it has prod\. Create it with `pulse-runbook env set staging\.temporal\.address host:7233`/;
const GIVE = /(e\.g\.|such as|give |must |instead|Did you mean|Allowed choices|not both|only one|required|renamed)/i;

export function corpusCases(s: CorpusSandbox, files: Record<string, string>): CorpusCase[] {
  const env = { TEMPORAL_ADDRESS: s.temporal };
  const U = s.pulseUrl;
  const token = `e${randomBytes(31).toString('hex')}`;
  const base62 = `sk_live_${randomBytes(18).toString('base64').replace(/[+/=]/g, 'x')}`;
  const rel = 'relative/path';
  const ks = (...args: string[]) => ['kill-switch', '--pulse-url', U, ...args];
  const en = (...args: string[]) => ['enable', '--pulse-url', U, ...args];
  const dis = (...args: string[]) => ['disable', '--pulse-url', U, ...args];
  const rb = (...args: string[]) => ['rollback', '--pulse-url', U, '--repo', s.dir, ...args];
  const cl = (...args: string[]) => ['cleanup', '--pulse-url', U, ...args];
  const io = (...args: string[]) => ['incident', 'open', '--title', 'x', '--impact', 'cosmetic', ...args];
  const al = (...args: string[]) => ['alerts', 'start', '--prometheus-url', 'http://127.0.0.1:9', ...args];
  const c = (name: string, args: string[], names: string, fix: RegExp = GIVE, extra: Partial<CorpusCase> = {}): CorpusCase => ({
    name,
    args,
    env: { ...env, ...extra.env },
    names,
    fix,
    ...extra,
  });

  // The env and doctor cases read the sandbox's environments file (prod), which must be unchanged afterwards.
  const envc = (name: string, args: string[], names: string, fix: RegExp, extra: Partial<CorpusCase> = {}): CorpusCase =>
    c(name, args, names, fix, { ...extra, env: { PULSE_RUNBOOK_CONFIG_FILE: files.environments, ...extra.env } });

  return [
    // --- the program and commander's own refusals ---------------------------------------------------------------
    c('unknown command', ['frobnicate'], "unknown command 'frobnicate'", HELP),
    c('misspelt command', ['kill-swtich'], "unknown command 'kill-swtich'", /Did you mean kill-switch\?/),
    c('unknown option', ks('--bogus'), "unknown option '--bogus'", HELP),
    c('misspelt option', ks('--tick-second', '5'), "unknown option '--tick-second'", /Did you mean --tick-seconds\?/),
    c('extra argument', ['kill-switch', 'now'], "too many arguments for 'kill-switch'", HELP),
    c('--token=VALUE is not echoed', ks(`--token=${token}`), "unknown option '--token=<hidden>'", HELP, { secret: token }),
    c('option without its value', ['kill-switch', '--pulse-url'], "option '--pulse-url <url>' argument missing", HELP),
    c('bad --severity', io('--severity', 'P9'), 'incident open --severity: must be P1, P2, P3 or P4', /must be P1/),
    c('bad choice: --scope', io('--scope', 'everything'), "argument 'everything' is invalid", /Allowed choices/),
    c('bad choice: --format', ['incident', 'report', 'x', '--format', 'pdf'], "argument 'pdf' is invalid", /Allowed choices/),
    c('bad choice: --escalate-at', io('--escalate-at', 'noon'), "argument 'noon' is invalid", /Allowed choices/),
    c('unknown subcommand', ['incident', 'reopen'], "unknown command 'reopen'", HELP),
    c('follow without a workflow id', ['follow'], "missing required argument 'workflow-id'", HELP),
    c('--reconnect-for 0', ks('--reconnect-for', '0'), '--reconnect-for', /greater than 0 and at most 86400, e\.g\. --reconnect-for 600/),
    c('--reconnect-for abc', ['follow', 'x', '--reconnect-for', 'abc'], '--reconnect-for', /e\.g\. --reconnect-for 600/),

    // --- the Pulse target ---------------------------------------------------------------------------------------
    c('no Pulse URL', ['kill-switch'], '--pulse-url / PULSE_URL: required', /give the Pulse base URL, e\.g\./),
    c('no Pulse URL (cleanup)', ['cleanup'], '--pulse-url / PULSE_URL: required', /e\.g\./),
    c('no Pulse URL (rollback)', ['rollback', '--repo', s.dir], '--pulse-url / PULSE_URL: required', /e\.g\./),
    c(
      'Pulse URL with a query',
      ['kill-switch', '--pulse-url', `http://127.0.0.1:9/?apitoken=${token}`],
      '--pulse-url / PULSE_URL: must not have a query',
      /base URL only/,
      { secret: token },
    ),
    c('PULSE_URL env with a query', ['kill-switch'], '--pulse-url / PULSE_URL: must not have a query', /base URL only/, {
      env: { PULSE_URL: `http://127.0.0.1:9?token=${token}` },
      secret: token,
    }),
    c(
      'Pulse URL with a path',
      ['kill-switch', '--pulse-url', 'http://127.0.0.1:9/api'],
      '--pulse-url / PULSE_URL: must be the base URL without a path',
      /give e\.g\. http:\/\/127\.0\.0\.1:9/,
    ),
    c(
      'Pulse URL with a fragment',
      ['kill-switch', '--pulse-url', 'http://127.0.0.1:9/#x'],
      '--pulse-url / PULSE_URL: must not have a fragment',
      /base URL only/,
    ),
    c(
      'Pulse URL with credentials',
      ['kill-switch', '--pulse-url', `http://admin:${token}@127.0.0.1:9`],
      '--pulse-url / PULSE_URL: must not contain a user or password',
      /by reference/,
      { secret: token },
    ),
    c(
      'Pulse URL not http',
      ['kill-switch', '--pulse-url', 'ftp://127.0.0.1:9'],
      '--pulse-url / PULSE_URL: must start with http:// or https://',
      /e\.g\./,
    ),
    c(
      'Pulse URL not a URL',
      ['kill-switch', '--pulse-url', 'pulse on port 7655'],
      '--pulse-url / PULSE_URL: must be a URL',
      /such as http/,
    ),
    c(
      'token (hex) given to --token-env',
      ks('--token-env', token),
      '--token-env / PULSE_TOKEN_ENV: looks like the token itself',
      /give the NAME of the environment variable/,
      { secret: token },
    ),
    c(
      'token (base62) given to --token-env',
      ks('--token-env', base62),
      '--token-env / PULSE_TOKEN_ENV: looks like the token itself',
      /export PULSE_TOKEN=/,
      { secret: base62 },
    ),
    c(
      'token given to PULSE_TOKEN_ENV',
      ['kill-switch', '--pulse-url', U],
      '--token-env / PULSE_TOKEN_ENV: looks like the token itself',
      /NAME/,
      { env: { PULSE_TOKEN_ENV: token }, secret: token },
    ),
    c(
      '--token-env with a dash',
      ks('--token-env', 'PULSE-TOKEN'),
      '--token-env / PULSE_TOKEN_ENV: must be an environment variable name',
      /such as PULSE_TOKEN/,
    ),
    c(
      '--token-env starting with a digit',
      ks('--token-env', '1TOKEN'),
      '--token-env / PULSE_TOKEN_ENV: must be an environment variable name',
      /such as PULSE_TOKEN/,
    ),
    c(
      '--token-env and --token-file',
      ks('--token-env', 'PULSE_TOKEN', '--token-file', files.envFile),
      'the Pulse token (--token-env or --token-file)',
      /not both/,
    ),

    // --- settings: config file, Temporal, keys -----------------------------------------------------------------
    c(
      'config file missing',
      ks('--config', path.join(s.dir, 'nope.json')),
      `config file ${path.join(s.dir, 'nope.json')}: cannot be read`,
      /fix the path given to --config or PULSE_RUNBOOKS_CONFIG/,
    ),
    c('config file not JSON', ks('--config', files.notJson), `config file ${files.notJson}: is not valid JSON`, /not valid JSON/),
    c(
      'config file with an unknown key',
      ['kill-switch', '--config', files.configUnknownKey],
      `config file ${files.configUnknownKey}:`,
      /Unrecognized key|unrecognized/i,
    ),
    c('config file URL with a query', ['kill-switch', '--config', files.configQuery], 'must not have a query', /base URL only/, {
      secret: 'from-config-0123456789abcdef',
    }),
    c('config file token value as env name', ['kill-switch', '--config', files.configTokenValue], 'looks like the token itself', /NAME/, {
      secret: 'c0ffee0123456789abcdef0123456789',
    }),
    c(
      'PULSE_RUNBOOKS_CONFIG missing',
      ['kill-switch'],
      `config file ${path.join(s.dir, 'gone.json')}: cannot be read`,
      /PULSE_RUNBOOKS_CONFIG/,
      { env: { PULSE_RUNBOOKS_CONFIG: path.join(s.dir, 'gone.json') } },
    ),
    c(
      'codec key file missing',
      ks('--codec-keys-file', path.join(s.dir, 'no-keys.json')),
      `codec key file ${path.join(s.dir, 'no-keys.json')} does not exist`,
      /pulse-runbook codec keygen --out/,
    ),
    c(
      'codec key file not JSON',
      ks('--codec-keys-file', files.notJson),
      `codec key file ${files.notJson}: is not valid JSON`,
      /must look like \{"current"/,
    ),
    c(
      'codec key too short',
      ks('--codec-keys-file', files.keysShort),
      `codec key file ${files.keysShort}:`,
      /AES-256 needs exactly 32.*codec keygen/,
    ),
    c(
      'codec key file: current not in keys',
      ks('--codec-keys-file', files.keysNoCurrent),
      `codec key file ${files.keysNoCurrent}:`,
      /add that key or set "current" to one of: k1/,
    ),
    c(
      'codec key file from env missing',
      ks(),
      `codec key file ${path.join(s.dir, 'env-keys.json')} does not exist`,
      /PULSE_RUNBOOKS_CODEC_KEYS_FILE/,
      { env: { PULSE_RUNBOOKS_CODEC_KEYS_FILE: path.join(s.dir, 'env-keys.json') } },
    ),

    // --- kill-switch ---------------------------------------------------------------------------------------------
    c('--tick-seconds negative', ks('--tick-seconds', '-5'), 'kill-switch --tick-seconds:', /Too small|>0|greater/i),
    c('--tick-seconds not a number', ks('--tick-seconds', 'abc'), 'kill-switch --tick-seconds:', /number/i),
    c('--tick-seconds too large', ks('--tick-seconds', '7200'), 'kill-switch --tick-seconds:', /Too big|<=|at most/i),
    c('--stale-seconds 0', ks('--stale-seconds', '0'), 'kill-switch --stale-seconds:', /Too small|>0/i),
    c('--stale-seconds too large', ks('--stale-seconds', '100000'), 'kill-switch --stale-seconds:', /Too big|<=/i),
    c('--verify-every-seconds too large', ks('--verify-every-seconds', '601'), 'kill-switch --verify-every-seconds:', /Too big|<=/i),
    c('--max-attempts 0', ks('--max-attempts', '0'), 'kill-switch --max-attempts:', /Too small|>=/i),
    c('--max-attempts fractional', ks('--max-attempts', '1.5'), 'kill-switch --max-attempts:', /integer|int/i),
    c('--incident-roles-file missing', ks('--incident-roles-file', path.join(s.dir, 'nope-roles.json')), '--incident-roles-file', /ENOENT/),
    c(
      '--incident-roles-file not a list',
      ks('--incident-roles-file', files.rolesNotList),
      'kill-switch --incident-roles-file (at Pulse Operations): must be a list of names',
      /list of names/,
    ),
    c(
      '--incident-roles-file unknown role',
      ks('--incident-roles-file', files.rolesUnknown),
      'kill-switch --incident-roles-file: unknown role "sales"',
      /unknown role/,
    ),
    c('PULSE_RUNBOOKS_INCIDENT_ROLES_FILE not JSON', ks(), '--incident-roles-file', /JSON|json/, {
      env: { PULSE_RUNBOOKS_INCIDENT_ROLES_FILE: files.notJson },
    }),

    // --- enable / disable: where the flag is written, how Pulse restarts, where its logs are -------------------
    c(
      '--env-file (the old spelling)',
      dis('--env-file', files.envFile),
      '--env-file: renamed to --flag-env-file',
      /give --flag-env-file <path> instead/,
    ),
    c('--env-file on enable', en('--env-file', files.envFile), '--env-file: renamed to --flag-env-file', /--flag-env-file/),
    c('--flag-env-file relative', dis('--flag-env-file', rel), 'disable --flag-env-file / --dropin / --container-env', /absolute/),
    c(
      '--flag-env-file and --dropin',
      dis('--flag-env-file', files.envFile, '--dropin', '/etc/systemd/system/pulse.service.d/truenas.conf'),
      '--flag-env-file and --dropin: give only one of them',
      /only one/,
    ),
    c('--dropin relative', dis('--dropin', rel), 'disable --flag-env-file / --dropin / --container-env', /absolute/),
    c(
      '--container-env relative',
      dis('--container-env', rel, '--container-recreate'),
      'disable --flag-env-file / --dropin / --container-env',
      /absolute/,
    ),
    c(
      '--restart-cmd not JSON',
      dis('--restart-cmd', 'systemctl restart pulse'),
      '--restart-cmd: must be a JSON array of strings',
      /such as '\["systemctl","restart","pulse"\]'/,
    ),
    c('--restart-cmd numbers', dis('--restart-cmd', '[1,2]'), '--restart-cmd: must be a JSON array of strings', /one element per argument/),
    c('--restart-cmd empty', dis('--restart-cmd', '[]'), '--restart-cmd', /at least|empty|must/i),
    c(
      '--systemd-unit and --restart-cmd',
      dis('--systemd-unit', 'pulse', '--restart-cmd', '["x"]'),
      '--systemd-unit and --restart-cmd: give only one of them',
      /only one/,
    ),
    c(
      '--container-recreate not JSON',
      dis('--container-recreate', 'docker restart pulse'),
      '--container-recreate: must be a JSON array of strings',
      /no shell/,
    ),
    c('--prefix not JSON', dis('--prefix', 'sudo -n'), '--prefix: must be a JSON array of strings', /such as/),
    c('--log-cmd not JSON', dis('--log-cmd', 'journalctl -u pulse'), '--log-cmd: must be a JSON array of strings', /such as/),
    c('--log-file relative', dis('--log-file', rel), 'disable --log-file', /absolute/),
    c(
      '--log-unit and --log-file',
      dis('--log-unit', 'pulse', '--log-file', '/var/log/pulse.log'),
      '--log-unit and --log-file: give only one of them',
      /only one/,
    ),
    c('--health-timeout-ms negative', dis('--health-timeout-ms', '-1'), 'disable --health-timeout-ms:', /Too small|>/i),
    c('--health-timeout-ms not a number', dis('--health-timeout-ms', 'soon'), 'disable --health-timeout-ms:', /number/i),
    c('--flag-value off', dis('--flag-value', 'off'), 'disable --flag-value:', /false|unset/),
    c('disable --stale-seconds negative', dis('--stale-seconds', '-3'), 'disable --stale-seconds:', /Too small|>/i),
    c('disable --grace-seconds not a number', dis('--grace-seconds', 'abc'), 'disable --grace-seconds:', /number/i),
    c('disable --max-attempts 0', dis('--max-attempts', '0'), 'disable --max-attempts:', /Too small|>=/i),
    c(
      '--connection-host with a path',
      en('--connection-host', 'https://nas/ui', '--api-key-env', 'K'),
      'enable --connection-host: must be an address without a path or query',
      /e\.g\. https:\/\/truenas\.local/,
    ),
    c(
      '--connection-host with credentials',
      en('--connection-host', `https://root:${token}@nas`, '--api-key-env', 'K'),
      'enable --connection-host: must not contain user:password@',
      /by reference/,
      { secret: token },
    ),
    c(
      '--connection-host ftp',
      en('--connection-host', 'ftp://nas', '--api-key-env', 'K'),
      'enable --connection-host: must use http:// or https://',
      /http/,
    ),
    c(
      '--connection-host without a key',
      en('--connection-host', 'nas.local'),
      'enable --api-key-env / --api-key-file: is required',
      /must be a reference/,
    ),
    c(
      'API key given to --api-key-env',
      en('--connection-host', 'nas.local', '--api-key-env', token),
      'enable --api-key-env: looks like the TrueNAS API key itself',
      /NAME/,
      { secret: token },
    ),
    c(
      '--api-key-env with a dash',
      en('--connection-host', 'nas.local', '--api-key-env', 'NAS-KEY'),
      'enable --api-key-env: must be an environment variable name',
      /such as TRUENAS_API_KEY/,
    ),
    c(
      '--api-key-env and --api-key-file',
      en('--connection-host', 'nas.local', '--api-key-env', 'K', '--api-key-file', '/etc/k'),
      'enable --api-key-env / --api-key-file: give exactly one of env or file',
      /exactly one/,
    ),
    c('--api-key-file relative', en('--connection-host', 'nas.local', '--api-key-file', rel), 'enable --api-key-file', /absolute/),
    c(
      '--connection-port too large',
      en('--connection-host', 'nas.local', '--api-key-env', 'K', '--connection-port', '70000'),
      'enable --connection-port:',
      /Too big|65535|<=/i,
    ),
    c(
      '--connection-port not a number',
      en('--connection-host', 'nas.local', '--api-key-env', 'K', '--connection-port', 'https'),
      'enable --connection-port:',
      /number/i,
    ),
    c(
      '--connection-file with --connection-host',
      en('--connection-file', files.connection, '--connection-host', 'nas.local'),
      '--connection-file: give either the body file or the --connection-*/--api-key-* flags, not both',
      /not both/,
    ),
    c('--appear-within-seconds negative', en('--appear-within-seconds', '-1'), 'enable --appear-within-seconds:', /Too small|>/i),
    c('enable --verify-every-seconds 0', en('--verify-every-seconds', '0'), 'enable --verify-every-seconds:', /Too small|>/i),

    // --- code rollback -------------------------------------------------------------------------------------------
    c('rollback without --repo', ['rollback', '--pulse-url', U], 'rollback --repo', /required|absolute/i),
    c('rollback --repo empty', ['rollback', '--pulse-url', U, '--repo', ''], 'rollback --repo', /absolute/),
    c('rollback --from not a sha', rb('--from', 'HEAD~3'), 'rollback --from', /hex|SHA/i),
    c('rollback --to not a sha', rb('--to', 'main'), 'rollback --to', /hex|SHA/i),
    c('rollback --build-command not JSON', rb('--build-command', 'go build ./...'), '--build-command', /JSON/),
    c('rollback --build-env without =', rb('--build-env', 'GOFLAGS'), '--build-env', /NAME=value/),
    c('rollback --build-env bad name', rb('--build-env', '1GO=x'), '--build-env', /environment variable names|NAME/),
    c('rollback --build-timeout-ms 0', rb('--build-timeout-ms', '0'), 'rollback --build-timeout-ms', /Too small|>|positive|at least/i),
    c('rollback --build-heartbeat-seconds 0', rb('--build-heartbeat-seconds', '0'), 'rollback --build-heartbeat-seconds', /at least 1/),
    c('rollback --git-timeout-seconds negative', rb('--git-timeout-seconds', '-1'), 'rollback --git-timeout-seconds', /positive/),
    c('rollback --restart bogus', rb('--restart', 'reboot'), 'rollback --restart', /Expected 'systemd' \| 'container' \| 'command'/),
    c('rollback --restart-command not JSON', rb('--restart', 'command', '--restart-command', 'restart-pulse'), '--restart-command', /JSON/),
    c('rollback --health-url not http', rb('--health-url', 'ftp://x/health'), 'rollback --health-url', /http/),
    c('rollback --max-attempts 0', rb('--max-attempts', '0'), 'rollback --max-attempts', /Too small|>=/i),

    // --- data cleanup --------------------------------------------------------------------------------------------
    c('cleanup --data-dir relative', cl('--data-dir', rel), 'cleanup --data-dir', /absolute/),
    c('cleanup --file-timeout-seconds 0', cl('--file-timeout-seconds', '0'), 'cleanup --file-timeout-seconds', /Too small|>|positive/i),
    c('cleanup --max-attempts 0', cl('--max-attempts', '0'), 'cleanup --max-attempts', /Too small|>=/i),

    // --- incidents -----------------------------------------------------------------------------------------------
    c(
      'incident open without --impact',
      ['incident', 'open', '--title', 'x'],
      'incident open --impact: give at least one impact',
      /at least one/,
    ),
    c('incident open without --title', ['incident', 'open', '--impact', 'cosmetic'], 'incident open --title', /required|must|string/i),
    c('incident open --time-zone', io('--time-zone', 'Mars/Base'), 'incident open --time-zone: must be an IANA time zone', /IANA/),
    c('incident open --business-hours', io('--business-hours', '9-5'), 'incident open --business-hours', /HH:MM/),
    c('incident open --holiday', io('--holiday', '2026-13-45'), 'incident open --holiday', /YYYY-MM-DD|date/i),
    c('incident open --business-days', io('--business-days', 'Mon,Funday'), 'incident open --business-days', /Mon|weekday|Expected/i),
    c('incident open --p1-minutes 0', io('--p1-minutes', '0'), 'incident open --p1-minutes', /Too small|>|positive/i),
    c(
      'incident open --webhook with credentials',
      io('--webhook', `ops=https://bot:${token}@hooks.example/x`),
      'incident open --webhook / --webhook-env',
      /--webhook-env name=ENV_VAR/,
      { secret: token },
    ),
    c(
      'incident open --webhook without name=',
      io('--webhook', `https://hooks.example/${token}`),
      'incident --webhook: must be name=value',
      /e\.g\. --webhook ops-chat=/,
      { secret: token },
    ),
    c(
      'incident open --webhook not a URL',
      io('--webhook', 'ops=not a url'),
      'incident open --webhook / --webhook-env',
      /must be a URL such as/,
    ),
    c('incident open --webhook-env secret', io('--webhook-env', `ops=${token}`), 'incident open --webhook / --webhook-env', /NAME/, {
      secret: token,
    }),
    c(
      'incident open --webhook-env bad name',
      io('--webhook-env', 'ops=hook-url'),
      'incident open --webhook / --webhook-env',
      /such as INCIDENT_WEBHOOK_URL/,
    ),
    c('incident open --role without =', io('--role', 'ops'), 'incident --role: must be name=value', /e\.g\. --role ops-chat=olga,omar/),
    c(
      'incident open --roles-file missing',
      io('--roles-file', path.join(s.dir, 'nope-roles.json')),
      '--roles-file',
      /ENOENT|cannot be read|not found/i,
    ),
    c('incident open --roles-file unknown role', io('--roles-file', files.rolesUnknown), 'unknown role "sales"', /unknown role/),

    // --- alerts, canary --------------------------------------------------------------------------------------------
    c('alerts start without Prometheus', ['alerts', 'start'], '--prometheus-url', /required|e\.g\./i),
    c('alerts start --prometheus-url ftp', ['alerts', 'start', '--prometheus-url', 'ftp://x'], '--prometheus-url', /http/),
    c('alerts start --checks unknown', al('--checks', 'nope'), '--checks', /nope|Invalid|one of|expected/i),
    c('alerts start --interval-seconds 0', al('--interval-seconds', '0'), '--interval-seconds', /Too small|>|positive/i),
    c('alerts start --webhook not a URL', al('--webhook', 'hooks'), '--webhook', /must be a URL such as/),
    c(
      'alerts start --webhook with credentials',
      al('--webhook', `https://bot:${token}@hooks.example/alerts`),
      '--webhook',
      /--slack-webhook-env/,
      { secret: token },
    ),
    c('alerts start --slack-webhook-env secret', al('--slack-webhook-env', token), '--slack-webhook-env', /NAME/, { secret: token }),
    c(
      'alerts start --prometheus-token-env bad name',
      al('--prometheus-token-env', 'prom-token'),
      '--prometheus-token-env',
      /environment variable name/,
    ),
    c('alerts start --window unknown check', al('--window', 'nope=60'), '--window', /nope|unknown|check/i),
    c('canary start without a rollout file', ['canary', 'start'], '--rollout-file', /required|give/i),
    c(
      'canary start --rollout-file missing',
      ['canary', 'start', '--rollout-file', path.join(s.dir, 'nope-rollout.json')],
      '--rollout-file',
      /ENOENT|cannot be read|not found/i,
    ),
    c('canary start --rollout-file not JSON', ['canary', 'start', '--rollout-file', files.notJson], '--rollout-file', /JSON/),

    // --- named environments: env set|get|list|delete, and --env on a command (the file must stay as it was) ---------
    envc(
      'env set a malformed key',
      ['env', 'set', 'prod.nosuch.field', 'x'],
      '"prod.nosuch.field" must be <environment>.<setting>',
      SETTINGS,
    ),
    envc('env set without a setting', ['env', 'set', 'prod', 'x'], '"prod" must be <environment>.<setting>', SETTINGS),
    envc(
      'env set a bad environment name',
      ['env', 'set', 'pro d.temporal.address', 't:7233'],
      '"pro d.temporal.address" must be',
      SETTINGS,
    ),
    envc(
      'env set a token as a setting',
      ['env', 'set', 'prod.temporal.namespace', token],
      'env set prod.temporal.namespace',
      BY_REFERENCE,
      {
        secret: token,
      },
    ),
    envc('env set the token as pulse.tokenEnv', ['env', 'set', 'prod.pulse.tokenEnv', token], 'env set prod.pulse.tokenEnv', TOKEN_NAME, {
      secret: token,
    }),
    envc(
      'env set the token as pulse.tokenFile',
      ['env', 'set', 'prod.pulse.tokenFile', token],
      'env set prod.pulse.tokenFile',
      BY_REFERENCE,
      {
        secret: token,
      },
    ),
    envc(
      'env set a URL as temporal.address',
      ['env', 'set', 'prod.temporal.address', 'http://t:7233'],
      'env set prod.temporal.address: must be host:port',
      /such as temporal\.example:7233/,
    ),
    envc(
      'env set pulse.url with a token in the query',
      ['env', 'set', 'prod.pulse.url', `http://p:7655/?token=${token}`],
      'env set prod.pulse.url: must not have a query',
      /give the base URL only, e\.g\. http:\/\/pulse\.example:7655, and the token by reference/,
      { secret: token },
    ),
    envc(
      'env set prometheus.url with a password',
      ['env', 'set', 'prod.prometheus.url', `http://admin:${token}@prom:9090`],
      'env set prod.prometheus.url',
      /e\.g\. http:\/\/prometheus:9090\): give credentials by reference/,
      { secret: token },
    ),
    envc(
      'env set a relative flag file',
      ['env', 'set', 'prod.host.flagEnvFile', 'pulse/.env'],
      'env set prod.host.flagEnvFile: must be an absolute path',
      /e\.g\. \/etc\/pulse\/\.env/,
    ),
    envc(
      'env set a restart command that is not JSON',
      ['env', 'set', 'prod.host.restartCmd', 'systemctl restart pulse'],
      'env set prod.host.restartCmd: must be a JSON array of strings',
      /such as '\["systemctl","restart","pulse"\]'/,
    ),
    envc('env set without a value', ['env', 'set', 'prod.pulse.url'], "missing required argument 'value'", HELP),
    envc(
      'env set a bad value with no config file yet: none is created',
      ['env', 'set', 'prod.temporal.address', 'temporal'],
      'env set prod.temporal.address: must be host:port',
      /such as temporal\.example:7233/,
      { env: { PULSE_RUNBOOK_CONFIG_FILE: path.join(s.dir, 'new-config', 'config.json') } },
    ),
    envc(
      'env get an unknown environment',
      ['env', 'get', 'staging'],
      'env get: no environment "staging"',
      /it has prod\. Give one of them/,
    ),
    envc('env get a malformed key', ['env', 'get', 'prod.nosuch'], '"prod.nosuch" must be <environment>.<setting>', SETTINGS),
    envc(
      'env get a setting that is not set',
      ['env', 'get', 'prod.temporal.namespace'],
      'env get: prod.temporal.namespace is not set',
      /set it with `pulse-runbook env set prod\.temporal\.namespace <value>`/,
    ),
    envc('env delete an unknown environment', ['env', 'delete', 'staging'], 'env delete: no environment "staging"', /Give one of them/),
    envc(
      'env delete a setting that is not set',
      ['env', 'delete', 'prod.temporal.namespace'],
      'env delete: prod.temporal.namespace is not set (prod has pulse.url, pulse.tokenEnv)',
      /Give a setting it has, see `pulse-runbook env get prod`/,
    ),
    envc(
      'env delete a malformed key',
      ['env', 'delete', 'prod.nosuch.field'],
      '"prod.nosuch.field" must be <environment>.<setting>',
      SETTINGS,
    ),
    envc('env unknown subcommand', ['env', 'show'], "unknown command 'show'", HELP),
    envc('env list unknown option', ['env', 'list', '--bogus'], "unknown option '--bogus'", HELP),
    envc(
      'env list: the config file is not JSON',
      ['env', 'list'],
      `config file ${files.notJson}: is not valid JSON`,
      /fix it or remove it/,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: files.notJson },
      },
    ),
    envc(
      'env set: the config file is not JSON (it is not overwritten)',
      ['env', 'set', 'prod.temporal.namespace', 'default'],
      `config file ${files.notJson}: is not valid JSON`,
      /fix it or remove it/,
      { env: { PULSE_RUNBOOK_CONFIG_FILE: files.notJson } },
    ),
    envc(
      'env list: a token stored in the config file',
      ['env', 'list'],
      `config file ${files.environmentsToken}: prod.temporal.namespace`,
      BY_REFERENCE,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: files.environmentsToken },
        secret: STORED_TOKEN,
      },
    ),
    envc('env list: an unknown key in the config file', ['env', 'list'], 'Unrecognized key: "extra"', FILE_SHAPE, {
      env: { PULSE_RUNBOOK_CONFIG_FILE: files.environmentsUnknownKey },
    }),
    envc(
      'env get: an unknown setting in the config file',
      ['env', 'get', 'prod'],
      'prod.nosuch.field: unknown setting "nosuch.field"',
      SETTINGS,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: files.environmentsBadSetting },
      },
    ),
    envc(
      'env list: the config file is a directory',
      ['env', 'list'],
      `config file ${s.dir}: cannot be read (EISDIR)`,
      /set PULSE_RUNBOOK_CONFIG_FILE/,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: s.dir },
      },
    ),
    envc('--env names no environment', ks('--env', 'staging'), '--env / PULSE_RUNBOOK_ENV: no environment "staging"', CREATE_ENV),
    envc('PULSE_RUNBOOK_ENV names no environment', ['kill-switch'], '--env / PULSE_RUNBOOK_ENV: no environment "staging"', CREATE_ENV, {
      env: { PULSE_RUNBOOK_ENV: 'staging' },
    }),
    envc(
      '--env is not an environment name',
      ks('--env', 'bad name!'),
      '--env / PULSE_RUNBOOK_ENV: "bad name!" is not an environment name',
      /e\.g\. --env prod/,
    ),
    envc(
      '--env with a config file that is not JSON',
      ks('--env', 'prod'),
      `config file ${files.notJson}: is not valid JSON`,
      /fix it or remove it/,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: files.notJson },
      },
    ),
    envc(
      '--env with a token in the config file',
      en('--env', 'prod'),
      `config file ${files.environmentsToken}: prod.temporal.namespace`,
      BY_REFERENCE,
      {
        env: { PULSE_RUNBOOK_CONFIG_FILE: files.environmentsToken },
        secret: STORED_TOKEN,
      },
    ),

    // --- doctor: its settings, and an address it cannot reach (its own check, exit 2 with the fix) ------------------
    envc(
      'doctor --env names no environment',
      ['doctor', '--env', 'staging'],
      '--env / PULSE_RUNBOOK_ENV: no environment "staging"',
      CREATE_ENV,
    ),
    envc(
      'doctor PULSE_RUNBOOK_ENV names no environment',
      ['doctor', '--json'],
      '--env / PULSE_RUNBOOK_ENV: no environment "staging"',
      CREATE_ENV,
      {
        env: { PULSE_RUNBOOK_ENV: 'staging' },
      },
    ),
    envc('doctor --env with a bad config file', ['doctor', '--env', 'prod'], 'Unrecognized key: "extra"', FILE_SHAPE, {
      env: { PULSE_RUNBOOK_CONFIG_FILE: files.environmentsUnknownKey },
    }),
    envc(
      'doctor --temporal-address a URL',
      ['doctor', '--temporal-address', 'http://t:7233'],
      '--temporal-address / TEMPORAL_ADDRESS: must be host:port',
      /such as 127\.0\.0\.1:7233/,
    ),
    envc(
      'doctor --pulse-url not http',
      ['doctor', '--pulse-url', 'ftp://x'],
      '--pulse-url / PULSE_URL: must start with http:// or https://',
      /e\.g\. http:\/\/pulse\.example:7655/,
    ),
    envc(
      'doctor --pulse-url with a path',
      ['doctor', '--pulse-url', `${U}/api`],
      '--pulse-url / PULSE_URL: must be the base URL without a path',
      /so give e\.g\./,
    ),
    envc(
      'doctor --prometheus-url with a password',
      ['doctor', '--prometheus-url', `http://admin:${token}@prom:9090`],
      'doctor --prometheus-url / PROMETHEUS_URL',
      /give credentials by reference/,
      { secret: token },
    ),
    envc(
      'doctor --prometheus-url not a URL',
      ['doctor', '--prometheus-url', 'prometheus'],
      '--prometheus-url / PROMETHEUS_URL: must',
      /e\.g\. http:\/\/prometheus:9090/,
    ),
    envc('doctor --token-env the token itself', ['doctor', '--token-env', token], 'doctor --token-env / PULSE_TOKEN_ENV', TOKEN_NAME, {
      secret: token,
    }),
    envc(
      'doctor --token-env the token, with a Pulse URL',
      ['doctor', '--json', '--pulse-url', U, '--token-env', token],
      '--token-env',
      TOKEN_NAME,
      {
        secret: token,
      },
    ),
    envc('doctor unknown option', ['doctor', '--bogus'], "unknown option '--bogus'", HELP),
    envc(
      'doctor: Temporal not reachable at --temporal-address',
      ['doctor', '--temporal-address', s.temporal],
      'fix: check --temporal-address / TEMPORAL_ADDRESS',
      /and that the Temporal frontend runs/,
      { reachesTemporal: true },
    ),

    // --- codec, identity, audit, emulator, follow -----------------------------------------------------------------
    c(
      'codec keygen --out existing file',
      ['codec', 'keygen', '--out', files.existingKeys],
      files.existingKeys,
      /exists|overwrite|--rotate/i,
    ),
    c(
      'codec keygen --key-id bad',
      ['codec', 'keygen', '--out', path.join(s.dir, 'new-keys.json'), '--key-id', 'bad id!'],
      '--key-id',
      /key id of 1-64 letters/,
    ),
    c(
      'codec keygen --rotate missing',
      ['codec', 'keygen', '--rotate', path.join(s.dir, 'nope-keys.json')],
      path.join(s.dir, 'nope-keys.json'),
      /does not exist|codec keygen --out/,
    ),
    c(
      'codec-server --token-env secret',
      ['codec-server', '--token-env', token, '--codec-keys-file', files.keys],
      '--token-env',
      /NAME|environment variable/i,
      { secret: token },
    ),
    c('identity issue-token without --sub', ['identity', 'issue-token'], '--sub', /required|give/i),
    c(
      'identity issue-token --ttl too long',
      ['identity', 'issue-token', '--sub', 'alice', '--ttl', '99y', '--key-file', files.keys],
      '--ttl',
      /30m|8h|7d|at most/i,
    ),
    c(
      'identity issue-token --key-file missing',
      ['identity', 'issue-token', '--sub', 'alice', '--key-file', path.join(s.dir, 'nope-id.key')],
      path.join(s.dir, 'nope-id.key'),
      /keygen|does not exist|cannot be read/i,
    ),
    c('audit --procedure unknown', ['audit', '--procedure', 'reboot'], '--procedure', /kill-switch|one of|Allowed/i),
    c('audit --since not a time', ['audit', '--since', 'the other day'], '--since', /ISO|e\.g\.|7d/i),
    c('audit --max-runs 0', ['audit', '--max-runs', '0'], '--max-runs', /positive|at least|Too small|>/i),
    c('emulator --profile unknown', ['emulator', '--profile', 'v9'], 'emulator --profile: must be feb or v6', /feb or v6/),
    c('emulator --port not a number', ['emulator', '--port', 'http'], 'emulator --port: must be a TCP port number', /e\.g\. --port 7655/),
    c(
      'emulator --tick-seconds 0',
      ['emulator', '--tick-seconds', '0'],
      'emulator --tick-seconds: must be a number of seconds greater than 0',
      /e\.g\./,
    ),
    c('follow --reconnect-for negative', ['follow', 'kill-switch@x:1', '--reconnect-for', '-1'], '--reconnect-for', /greater than 0/),
  ];
}

export interface CaseVerdict {
  name: string;
  clear: boolean;
  problems: string[];
}

/** Whether one result is a clear refusal: the exit code, the flag named, the fix said, no stack, no secret. */
export function judge(k: CorpusCase, r: CliResult): CaseVerdict {
  const problems: string[] = [];
  const text = r.stderr + r.stdout;
  if (r.exitCode !== (k.exitCode ?? 2)) problems.push(`exit ${r.exitCode}, expected ${k.exitCode ?? 2}`);
  if (!text.includes(k.names)) problems.push(`does not name ${JSON.stringify(k.names)}`);
  if (!k.fix.test(text)) problems.push(`does not say the fix (${k.fix})`);
  if (/\n\s+at .+:\d+:\d+/.test(text) || text.includes('UNCAUGHT')) problems.push('prints a stack trace');
  if (!k.reachesTemporal && /is not reachable/.test(text)) problems.push('reached for Temporal before refusing');
  if (k.secret && text.includes(k.secret)) problems.push('repeats the secret');
  return { name: k.name, clear: problems.length === 0, problems };
}
