/** What every CLI command shares: settings from flags + env + config file, and the Temporal client. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectClient } from '../client.js';
import { CODEC_KEYS_FILE_ENV, EMBEDDED_KEYS_FILE_NAME } from '../config/codec.js';
import { resolveCodecKeysFile } from '../temporal/codec-key-file.js';
import { loadCodec, type LoadedCodec } from '../temporal/data-converter.js';
import { DEFAULT_RECONNECT_SECONDS } from './follow.js';
import { loadConfigFile, resolvePulseTarget, resolveTemporalSettings, ConfigError, type ConfigFile } from '../config/load.js';
import type { PulseTarget } from '../config/pulse-target.js';
import type { TemporalSettings } from '../config/temporal.js';
import { IDENTITY_ENV, identitySettingsFrom, resolveIdentity, type Identity, type IdentitySettings } from '../identity/resolve.js';

/** The embedded dev server's address, used when TEMPORAL_ADDRESS is not set. */
export const EMBEDDED_ADDRESS = '127.0.0.1:7233';
export const EMBEDDED_UI = 'http://127.0.0.1:8233';
/** The key file `npm start` generates in its default data dir; commands against the embedded server reuse it. */
export const EMBEDDED_KEYS_FILE = path.join('.data', EMBEDDED_KEYS_FILE_NAME);

export interface GlobalFlags {
  env?: string;
  config?: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  codecKeysFile?: string;
  identityTokenFile?: string;
  reconnectFor?: string;
}

export function addGlobalFlags(cmd: Command): Command {
  return cmd
    .option('--env <name>', 'named environment of the per-user config file (or PULSE_RUNBOOK_ENV); see `pulse-runbook env list`')
    .option('--config <file>', 'JSON config file (or PULSE_RUNBOOKS_CONFIG)')
    .option('--temporal-address <host:port>', 'Temporal frontend (or TEMPORAL_ADDRESS); default: the embedded dev server')
    .option('--namespace <name>', 'Temporal namespace (or TEMPORAL_NAMESPACE)')
    .option('--task-queue <name>', 'task queue (or TEMPORAL_TASK_QUEUE)')
    .option(
      '--codec-keys-file <path>',
      `payload encryption key file (or ${CODEC_KEYS_FILE_ENV}); default against the embedded server: ${EMBEDDED_KEYS_FILE} when it exists`,
    )
    .option(
      '--identity-token-file <path>',
      `file with your signed identity token (or ${IDENTITY_ENV.token} / ${IDENTITY_ENV.tokenFile}); required when ${IDENTITY_ENV.keyFile} is set`,
    )
    .option(
      '--reconnect-for <seconds>',
      `while following a run: how long to keep reconnecting when Temporal cannot be reached before giving up with exit 3 (the run goes on); default ${DEFAULT_RECONNECT_SECONDS}`,
    );
}

/** --reconnect-for, checked: whole or fractional seconds, up to a day. */
export function reconnectSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new ConfigError('--reconnect-for: must be a number of seconds greater than 0 and at most 86400, e.g. --reconnect-for 600');
  return n;
}

export function addPulseFlags(cmd: Command): Command {
  return cmd
    .option('--pulse-url <url>', 'Pulse base URL, e.g. http://pulse:7655 (or PULSE_URL)')
    .option('--token-env <name>', 'name of the env var that holds the Pulse API token (default PULSE_TOKEN when set)')
    .option('--token-file <path>', 'file that holds the Pulse API token');
}

export interface Settings {
  file?: ConfigFile;
  temporal: TemporalSettings;
  /** The payload encryption key file; undefined means history is not encrypted. */
  codecKeysFile?: string;
  /** Where the actor comes from (src/identity/resolve.ts): the token policy's key and the token's file. */
  identity: IdentitySettings;
  /** --reconnect-for: how long a follower keeps reconnecting to Temporal. */
  reconnectForSeconds?: number;
}

export function loadSettings(flags: GlobalFlags, env = process.env): Settings {
  const file = loadConfigFile(flags.config, env);
  const temporal = resolveTemporalSettings(flags, env, file);
  // Only the embedded dev server falls back to `npm start`'s generated key: a real cluster's key is never guessed.
  const codecKeysFile = resolveCodecKeysFile(flags, env, temporal.address ? undefined : EMBEDDED_KEYS_FILE);
  const reconnectForSeconds = reconnectSeconds(flags.reconnectFor);
  return {
    file,
    temporal,
    ...(codecKeysFile ? { codecKeysFile } : {}),
    identity: identitySettingsFrom(flags, env),
    ...(reconnectForSeconds && { reconnectForSeconds }),
  };
}

/**
 * Who acts: the verified token's subject, else the OS user, or `--actor` (refused under a token policy when it
 * names someone else; recorded as claimed without one). Local only: nothing is sent, so bad flags still fail fast.
 */
export async function resolveActor(
  settings: Settings,
  claimedActor?: string,
  warn = (line: string) => process.stderr.write(`${line}\n`),
): Promise<Identity> {
  const identity = await resolveIdentity(settings.identity, { claimedActor });
  for (const w of identity.warnings) warn(`warning: ${w}`);
  return identity;
}

/**
 * `--actor` and the resolution of who acts, before the command's action runs: the action then finds the resolved
 * actor in `flags.actor` and the whole identity in `flags.identity`, so every payload it builds names the same
 * person the Temporal client identity and the actor header name.
 */
export function addActorFlag(cmd: Command): Command {
  return cmd
    .option(
      '--actor <name>',
      `who acts (default: the OS user, or the subject of your identity token); without a token policy it is recorded as claimed, with one (${IDENTITY_ENV.keyFile}) it must match the token`,
    )
    .hook('preAction', async (_self, action) => {
      const flags = action.opts() as GlobalFlags & { actor?: string };
      const identity = await resolveActor(loadSettings(flags), flags.actor);
      action.setOptionValue('actor', identity.actor);
      action.setOptionValue('identity', identity);
    });
}

/** The codec of the configured key file, or undefined; warnings (a loose file mode) go to stderr. */
export function loadSettingsCodec(settings: Settings, warn = (line: string) => process.stderr.write(`${line}\n`)): LoadedCodec | undefined {
  if (!settings.codecKeysFile) return undefined;
  const loaded = loadCodec(settings.codecKeysFile);
  for (const w of loaded.warnings) warn(`warning: ${w}`);
  return loaded;
}

export function requirePulseTarget(
  flags: { pulseUrl?: string; tokenEnv?: string; tokenFile?: string },
  settings: Settings,
  env = process.env,
): PulseTarget {
  const target = resolvePulseTarget(flags, env, settings.file);
  if (!target)
    throw new ConfigError('Pulse target --pulse-url / PULSE_URL: required; give the Pulse base URL, e.g. --pulse-url http://pulse:7655');
  return target;
}

/**
 * The Temporal client, acting as `identity` (resolved here when not given): its Temporal identity is
 * `pulse-runbook:<actor>@<host>`, which the server writes into every history event the client causes, and every
 * start, update and signal carries the actor header (src/identity/header.ts) that `pulse-runbook audit` reads.
 * `reconnect` makes the same client over a new connection without the SDK's call retries: followRun follows with
 * such clients and makes a new one through a Temporal outage.
 */
export async function connect(
  settings: Settings,
  opts: { identity?: Identity } = {},
): Promise<{ client: Client; address: string; uiUrl?: string; identity: Identity; codec?: LoadedCodec; reconnect: () => Promise<Client> }> {
  const address = settings.temporal.address ?? EMBEDDED_ADDRESS;
  const codec = loadSettingsCodec(settings);
  const identity = opts.identity ?? (await resolveActor(settings));
  // A follower's connection has no retry interceptor: followRun is its retry loop (src/client.ts).
  const makeClient = (retries: boolean) =>
    connectClient({
      address,
      namespace: settings.temporal.namespace,
      identity,
      retries,
      ...(codec ? { dataConverter: codec.dataConverter } : {}),
    });
  const reconnect = () => makeClient(false);
  try {
    const client = await makeClient(true);
    await client.connection.workflowService.getSystemInfo({});
    return {
      client,
      address,
      uiUrl: settings.temporal.address ? process.env.TEMPORAL_UI_URL : EMBEDDED_UI,
      identity,
      ...(codec && { codec }),
      reconnect,
    };
  } catch (err) {
    throw new ConfigError(
      `Temporal at ${address} is not reachable (${(err as Error).message.split('\n')[0]}). ` +
        (settings.temporal.address
          ? 'Check TEMPORAL_ADDRESS / --temporal-address.'
          : 'Start the main job first (`npm start`), or set TEMPORAL_ADDRESS.'),
    );
  }
}
