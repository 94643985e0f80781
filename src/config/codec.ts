/**
 * The payload-encryption key file (issue 6): which key encrypts, and every key that may still decrypt.
 *
 *   {"current":"2026-11","keys":{"2026-11":"<base64 of 32 bytes>","2026-05":"<base64 of 32 bytes>"}}
 *
 * Keys travel by reference only: the CLI and the worker are given the file's path (--codec-keys-file or
 * PULSE_RUNBOOKS_CODEC_KEYS_FILE), never a key. Rotation adds a key and makes it current; older keys stay so that
 * history written with them can still be read. Errors name the file, the field and the fix, never a key.
 *
 * The schema only: reading, writing and rotating the file is src/temporal/codec-key-file.ts.
 */
import { z } from 'zod';
import { parseOrExplain } from './load.js';

/** AES-256 needs exactly this many key bytes. */
export const KEY_BYTES = 32;
/** The env var that names the key file, like the --codec-keys-file flag. */
export const CODEC_KEYS_FILE_ENV = 'PULSE_RUNBOOKS_CODEC_KEYS_FILE';
/** Where `npm start` keeps its generated key file, inside its data dir. */
export const EMBEDDED_KEYS_FILE_NAME = 'codec-keys.json';

/** Key ids are written into every payload's metadata in clear, so they are short names, not secrets. */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KEY_ID_MESSAGE = 'must be a key id of 1-64 letters, digits, ".", "_" or "-" (such as 2026-11)';
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
