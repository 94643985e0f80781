/**
 * The payload-encryption key file (issue 6): which key encrypts, and every key that may still decrypt.
 *
 *   {"current":"2026-11","keys":{"2026-11":"<base64 of 32 bytes>","2026-05":"<base64 of 32 bytes>"}}
 *
 * Keys travel by reference only: the CLI and the worker are given the file's path (--codec-keys-file or
 * PULSE_RUNBOOKS_CODEC_KEYS_FILE), never a key. Rotation adds a key and makes it current; older keys stay so that
 * history written with them can still be read. Errors name the file, the field and the fix, never a key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, parseOrExplain } from './load.js';

/** AES-256 needs exactly this many key bytes. */
export const KEY_BYTES = 32;
/** The env var that names the key file, like the --codec-keys-file flag. */
export const CODEC_KEYS_FILE_ENV = 'PULSE_RUNBOOKS_CODEC_KEYS_FILE';
/** Where `npm start` keeps its generated key file, inside its data dir. */
export const EMBEDDED_KEYS_FILE_NAME = 'codec-keys.json';

/** Key ids are written into every payload's metadata in clear, so they are short names, not secrets. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY_ID_MESSAGE = 'must be a key id of 1-64 letters, digits, ".", "_" or "-" (such as 2026-11)';
/** Standard base64 of 32 bytes: 43 characters and one "=". */
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

const KeyIdSchema = z.string({ error: KEY_ID_MESSAGE }).regex(KEY_ID, KEY_ID_MESSAGE);

/** The message never echoes the value: a key that is wrong is still a key. */
const KeySchema = z.string({ error: 'must be a string: the base64 of 32 random bytes' }).superRefine((value, ctx) => {
  if (BASE64_32.test(value)) return;
  const looksBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(value);
  const bytes = looksBase64 ? Buffer.from(value, 'base64').length : undefined;
  ctx.addIssue({
    code: 'custom',
    message:
      (bytes !== undefined ? `decodes to ${bytes} bytes; AES-256 needs exactly ${KEY_BYTES}` : 'is not standard base64') +
      ' (the base64 of 32 random bytes, 44 characters ending in "="); generate one with `pulse-runbook codec keygen`',
  });
});

export const CodecKeyFileSchema = z
  .object({
    current: KeyIdSchema,
    keys: z.record(KeyIdSchema, KeySchema, { error: 'must be an object of key id -> base64 key' }),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (!Object.hasOwn(file.keys, file.current)) {
      ctx.addIssue({
        code: 'custom',
        path: ['current'],
        message: `names key id "${file.current}", which is not in "keys"; add that key or set "current" to one of: ${Object.keys(file.keys).join(', ') || '(none)'}`,
      });
    }
  });

export type CodecKeyFile = z.infer<typeof CodecKeyFileSchema>;

/** The keys in memory: the current one encrypts, any of them decrypts. */
export interface CodecKeyRing {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export function keyRingFromFile(file: CodecKeyFile): CodecKeyRing {
  return {
    currentKeyId: file.current,
    keys: new Map(Object.entries(file.keys).map(([id, b64]) => [id, Buffer.from(b64, 'base64')])),
  };
}

/** Validates parsed JSON; `source` names where it came from in errors ("codec key file /etc/x.json"). */
export function parseCodecKeyFile(json: unknown, source: string): CodecKeyFile {
  return parseOrExplain(CodecKeyFileSchema, json, `${source}:`);
}

/**
 * A key file that group or others can read gives the key to every account on the host. It is a warning, not a
 * refusal: Docker and Kubernetes secrets are often mounted 0444 inside a container that runs one user.
 */
export function keyFileModeWarning(file: string, mode: number): string | undefined {
  const loose = mode & 0o077;
  if (!loose) return undefined;
  return `codec key file ${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: group or others can access it; run \`chmod 600 ${file}\` (owner only)`;
}

export interface LoadedKeyFile {
  path: string;
  ring: CodecKeyRing;
  /** Problems that do not stop the program, for the caller to print (a loose file mode). */
  warnings: string[];
}

/** Reads and validates a key file. Throws ConfigError naming the file and the fix. */
export function readCodecKeyFile(file: string): LoadedKeyFile {
  const abs = path.resolve(file);
  const json = readJson(abs);
  const parsed = parseCodecKeyFile(json, `codec key file ${abs}`);
  const warning = keyFileModeWarning(abs, statSync(abs).mode);
  return { path: abs, ring: keyRingFromFile(parsed), warnings: warning ? [warning] : [] };
}

function readJson(abs: string): unknown {
  let raw: string;
  try {
    raw = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(
      `codec key file ${abs} ${why}: fix --codec-keys-file / ${CODEC_KEYS_FILE_ENV}, or create one with \`pulse-runbook codec keygen --out ${abs}\``,
    );
  }
  try {
    return JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the text around the error, which would be key material.
    throw new ConfigError(
      `codec key file ${abs}: is not valid JSON; it must look like {"current":"<id>","keys":{"<id>":"<base64 of 32 bytes>"}}`,
    );
  }
}

/** A fresh random AES-256 key, base64. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** A key id that sorts by creation time and does not collide when keys are rotated twice on one day. */
export function newKeyId(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
}

function checkedKeyId(id: string | undefined): string {
  const keyId = id ?? newKeyId();
  if (!KEY_ID.test(keyId)) throw new ConfigError(`--key-id: ${KEY_ID_MESSAGE}`);
  return keyId;
}

/**
 * Writes the file owner-only (0600), through a temporary name and a rename, so a reader never sees half a file
 * and an old file is replaced whole.
 */
function writeKeyFile(abs: string, file: CodecKeyFile, { exclusive }: { exclusive: boolean }): void {
  const text = `${JSON.stringify(file, null, 2)}\n`;
  if (exclusive) {
    // 'wx': never overwrite a key file someone else just made; losing a key loses the history it encrypted.
    const fd = openSync(abs, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(abs, 0o600); // the umask may have removed bits, never added: this only makes it exact
    return;
  }
  const partial = `${abs}.${process.pid}.partial`;
  const fd = openSync(partial, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, abs);
}

export interface KeyFileChange {
  path: string;
  currentKeyId: string;
  keyIds: string[];
}

/** Creates a new key file with one key; refuses to overwrite an existing file. */
export function createKeyFile(file: string, opts: { keyId?: string } = {}): KeyFileChange {
  const abs = path.resolve(file);
  const keyId = checkedKeyId(opts.keyId);
  if (existsSync(abs)) {
    throw new ConfigError(
      `codec key file ${abs} already exists: rotate it with \`pulse-runbook codec keygen --rotate ${abs}\` instead of overwriting it (its keys still decrypt old history)`,
    );
  }
  // A new directory is owner-only too; an existing one is left as it is.
  mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
  writeKeyFile(abs, { current: keyId, keys: { [keyId]: generateKey() } }, { exclusive: true });
  return { path: abs, currentKeyId: keyId, keyIds: [keyId] };
}

/** Adds a new key and makes it current; every older key stays for decryption. */
export function rotateKeyFile(file: string, opts: { keyId?: string } = {}): KeyFileChange {
  const abs = path.resolve(file);
  const existing = parseCodecKeyFile(readJson(abs), `codec key file ${abs}`);
  const keyId = checkedKeyId(opts.keyId);
  if (Object.hasOwn(existing.keys, keyId)) {
    throw new ConfigError(`--key-id: key id "${keyId}" is already in ${abs}; choose a new id (ids name keys in history forever)`);
  }
  const next: CodecKeyFile = { current: keyId, keys: { [keyId]: generateKey(), ...existing.keys } };
  writeKeyFile(abs, next, { exclusive: false });
  return { path: abs, currentKeyId: keyId, keyIds: Object.keys(next.keys) };
}

/** `npm start`'s key: reuse the file in the data dir, or create it (0600) on the first start. */
export function ensureKeyFile(file: string): KeyFileChange & { created: boolean } {
  const abs = path.resolve(file);
  if (existsSync(abs)) {
    const { ring } = readCodecKeyFile(abs);
    return { path: abs, currentKeyId: ring.currentKeyId, keyIds: [...ring.keys.keys()], created: false };
  }
  return { ...createKeyFile(abs), created: true };
}

/**
 * Which key file applies: --codec-keys-file, then PULSE_RUNBOOKS_CODEC_KEYS_FILE, then (only against the embedded
 * dev server) the file `npm start` generated, when it exists. Undefined means: no encryption.
 */
export function resolveCodecKeysFile(
  flags: { codecKeysFile?: string },
  env: NodeJS.ProcessEnv,
  embeddedKeysFile?: string,
): string | undefined {
  const given = flags.codecKeysFile ?? env[CODEC_KEYS_FILE_ENV];
  if (given) return path.resolve(given);
  if (embeddedKeysFile && existsSync(embeddedKeysFile)) return path.resolve(embeddedKeysFile);
  return undefined;
}
