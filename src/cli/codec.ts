/**
 * Payload encryption commands (issue 6):
 *   pulse-runbook codec keygen [--out FILE | --rotate FILE] [--key-id ID]   create or rotate a key file
 *   pulse-runbook codec-server --codec-keys-file FILE --allow-origin URL ... the codec server for a Web UI
 * Keys are never printed; only the file, its key ids and which one is current.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { CODEC_KEYS_FILE_ENV } from '../config/codec.js';
import { createKeyFile, rotateKeyFile } from '../temporal/codec-key-file.js';
import { ConfigError, parseOrExplain } from '../config/load.js';
import { readSecretRef, SecretRefError } from '../prometheus/secret-ref.js';
import { envNameProblem } from '../config/env-name.js';
import { loadCodec } from '../temporal/data-converter.js';
import { EMBEDDED_KEYS_FILE } from './context.js';
import { localUiOrigins, startCodecServer } from '../temporal/codec-server.js';

export const DEFAULT_CODEC_PORT = 8888;
/** `npm start`'s own key file (git-ignored with .data/), so a key made here is the one the embedded setup uses. */
const DEFAULT_KEYS_FILE = EMBEDDED_KEYS_FILE;

export function codecCommand(): Command {
  const cmd = new Command('codec').description('Payload encryption keys (docs/security.md)');
  cmd
    .command('keygen')
    .description('Create a key file (owner-only, mode 0600), or rotate one: a new current key, every old key kept for decryption')
    .option('--out <file>', `where to create the key file (default ${CODEC_KEYS_FILE_ENV} or ${DEFAULT_KEYS_FILE}); never overwrites`)
    .option('--rotate <file>', 'add a new current key to this existing key file')
    .option('--key-id <id>', "id of the new key (default: today's date and a random suffix)")
    .action((flags: { out?: string; rotate?: string; keyId?: string }) => {
      if (flags.out && flags.rotate) throw new ConfigError('codec keygen: give --out (create) or --rotate (rotate), not both');
      const change = flags.rotate
        ? rotateKeyFile(flags.rotate, { keyId: flags.keyId })
        : createKeyFile(flags.out ?? process.env[CODEC_KEYS_FILE_ENV] ?? DEFAULT_KEYS_FILE, { keyId: flags.keyId });
      const older = change.keyIds.filter((id) => id !== change.currentKeyId);
      process.stdout.write(
        `${flags.rotate ? 'Rotated' : 'Created'} ${change.path} (mode 0600): current key id "${change.currentKeyId}"` +
          (older.length ? `; kept for decryption: ${older.join(', ')}` : '') +
          '\nRestart the workers, the CLI users and the codec server so they encrypt with the new key; keep old keys while any history written with them is retained.\n',
      );
    });
  return cmd;
}

const OriginSchema = z
  .url('must be an origin such as https://temporal-ui.example.com')
  .refine((o) => {
    const u = new URL(o);
    return /^https?:$/.test(u.protocol) && u.pathname === '/' && !u.search && !u.hash && !o.replace(/\/$/, '').endsWith('/');
  }, 'must be only scheme://host[:port], with no path, e.g. https://temporal-ui.example.com:8080')
  .transform((o) => new URL(o).origin);

/** Each origin on its own, so the error names the flag and the value that is wrong. */
function parseOrigins(values: string[], source: string): string[] {
  if (values.length === 0)
    throw new ConfigError(`${source}: give at least one origin, e.g. --allow-origin https://temporal-ui.example.com`);
  return values.map((value) => {
    const r = OriginSchema.safeParse(value);
    if (!r.success) throw new ConfigError(`${source} ${value}: ${r.error.issues[0].message}`);
    return r.data;
  });
}

const CodecServerFlagsSchema = z
  .object({
    port: z
      .number({ error: 'must be a port number (0-65535)' })
      .int('must be a whole number')
      .min(0)
      .max(65535, 'must be a port number (0-65535)'),
    host: z.string().min(1, 'must be an interface address such as 127.0.0.1 or 0.0.0.0'),
    allowOrigins: z.array(z.string()),
    namespaces: z.array(z.string().min(1, 'must not be empty')),
    keysFile: z.string().min(1),
  })
  .strict();

export function codecServerCommand(): Command {
  const cmd = new Command('codec-server')
    .description('Serve the Temporal codec-server protocol (POST /decode, /encode) so a Web UI can show decrypted payloads')
    .option('--codec-keys-file <path>', `the key file (or ${CODEC_KEYS_FILE_ENV})`)
    .option('--port <n>', 'port to listen on', Number, DEFAULT_CODEC_PORT)
    .option('--host <addr>', 'interface to listen on (0.0.0.0 inside a container)', '127.0.0.1')
    .option(
      '--allow-origin <origin...>',
      'browser origins allowed to call it, e.g. the Web UI https://temporal.example.com (or PULSE_RUNBOOKS_CODEC_ALLOW_ORIGINS, comma-separated); default the local UI on --ui-port',
    )
    .option('--ui-port <n>', 'port of the local Web UI for the default origins', Number, 8233)
    .option('--namespace <name...>', 'namespaces it decodes for (X-Namespace); default TEMPORAL_NAMESPACE or "default"')
    .addOption(
      new Option('--token-env <name>', 'env var holding a bearer token that every request must send (or PULSE_RUNBOOKS_CODEC_TOKEN_ENV)'),
    )
    .addOption(new Option('--token-file <path>', 'file holding that bearer token (or PULSE_RUNBOOKS_CODEC_TOKEN_FILE)'))
    .action(async (flags) => {
      const env = process.env;
      const keysFile = flags.codecKeysFile ?? env[CODEC_KEYS_FILE_ENV];
      if (!keysFile)
        throw new ConfigError(
          `codec-server --codec-keys-file / ${CODEC_KEYS_FILE_ENV}: required; create a key file with \`pulse-runbook codec keygen\``,
        );
      const envOrigins = env.PULSE_RUNBOOKS_CODEC_ALLOW_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      const allowOrigins = flags.allowOrigin
        ? parseOrigins(flags.allowOrigin, 'codec-server --allow-origin')
        : envOrigins?.length
          ? parseOrigins(envOrigins, 'codec-server PULSE_RUNBOOKS_CODEC_ALLOW_ORIGINS')
          : localUiOrigins(flags.uiPort);
      const opts = parseOrExplain(
        CodecServerFlagsSchema,
        {
          port: flags.port,
          host: flags.host,
          allowOrigins,
          namespaces: flags.namespace ?? [env.TEMPORAL_NAMESPACE || 'default'],
          keysFile,
        },
        'codec-server',
        { port: '--port', host: '--host', allowOrigins: '--allow-origin', namespaces: '--namespace', keysFile: '--codec-keys-file' },
      );
      const bearerToken = await readBearerToken(
        flags.tokenEnv ?? env.PULSE_RUNBOOKS_CODEC_TOKEN_ENV,
        flags.tokenFile ?? env.PULSE_RUNBOOKS_CODEC_TOKEN_FILE,
      );
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const codec = loadCodec(opts.keysFile);
      for (const w of codec.warnings) log(`warning: ${w}`);
      const server = await startCodecServer({
        codec: codec.codec,
        host: opts.host,
        port: opts.port,
        allowedOrigins: opts.allowOrigins,
        namespaces: opts.namespaces,
        bearerToken,
        log,
      });
      process.stdout.write(
        `Codec server on http://${opts.host}:${server.port} (key file ${codec.keysFile}, current key id "${codec.codec.currentKeyId}")\n` +
          `Browser origins allowed: ${opts.allowOrigins.join(', ')}; namespaces: ${opts.namespaces.join(', ')}; bearer token ${bearerToken ? 'required' : 'not required'}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().finally(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  return cmd;
}

async function readBearerToken(envName?: string, file?: string): Promise<string | undefined> {
  if (envName && file) throw new ConfigError('codec-server: give --token-env or --token-file for the bearer token, not both');
  const nameProblem = envName ? envNameProblem(envName, 'PULSE_RUNBOOKS_CODEC_TOKEN', 'the bearer token') : undefined;
  if (nameProblem) throw new ConfigError(`codec-server --token-env / PULSE_RUNBOOKS_CODEC_TOKEN_ENV: ${nameProblem}`);
  if (!envName && !file) return undefined;
  try {
    return await readSecretRef(envName ? { env: envName } : { file }, 'codec-server bearer token');
  } catch (err) {
    if (err instanceof SecretRefError) throw new ConfigError(err.message);
    throw err;
  }
}
