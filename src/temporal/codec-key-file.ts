/**
 * The payload-encryption key file on disk (its schema: src/config/codec.ts): reading it, creating, rotating and
 * ensuring one, and which file applies. Writes are owner-only (0600) and never leave half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  CODEC_KEYS_FILE_ENV,
  KEY_BYTES,
  KEY_ID,
  KEY_ID_MESSAGE,
  keyFileModeWarning,
  keyRingFromFile,
  parseCodecKeyFile,
  type CodecKeyFile,
  type CodecKeyRing,
} from '../config/codec.js';
import { ConfigError } from '../config/load.js';

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
    writeNewFile(abs, text);
    chmodSync(abs, 0o600); // the umask may have removed bits, never added: this only makes it exact
    return;
  }
  const partial = `${abs}.${process.pid}.partial`;
  writeNewFile(partial, text);
  renameSync(partial, abs);
}

/** Creates the file (0600; it must not exist) and writes the text to the disk before it returns. */
function writeNewFile(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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
