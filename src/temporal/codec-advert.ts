/**
 * Which payload keys a worker holds, advertised in its Temporal identity, so a CLI can check before it starts a
 * run that the worker will be able to read it (and that it can read what the worker writes back).
 *
 * The identity is `<pid>@<host> pulse-runbooks-worker codec=<current id>:<check>[,<id>:<check>…]` or `codec=off`.
 * A key's check value is the first 12 hex digits of HMAC-SHA256(key, a fixed label): it tells two keys apart and
 * says nothing about the key (48 bits of a MAC cannot be turned back into 256 bits of key). Identities are plain
 * text in history and in DescribeTaskQueue, which is why only check values and key ids ever go there.
 */
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import type { CodecKeyRing } from '../config/codec.js';

const LABEL = 'pulse-runbooks codec key check v1';
export const WORKER_MARK = 'pulse-runbooks-worker';

export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update(LABEL).digest('hex').slice(0, 12);
}

export interface CodecAdvert {
  /** false: the worker runs without a key file and stores history in plain text. */
  on: boolean;
  currentKeyId?: string;
  /** key id -> check value, the current key included. */
  keys: Map<string, string>;
}

export function advertOf(ring: CodecKeyRing | undefined): CodecAdvert {
  if (!ring) return { on: false, keys: new Map() };
  return { on: true, currentKeyId: ring.currentKeyId, keys: new Map([...ring.keys].map(([id, key]) => [id, keyCheckValue(key)])) };
}

export function formatAdvert(advert: CodecAdvert): string {
  if (!advert.on || !advert.currentKeyId) return 'codec=off';
  const current = advert.currentKeyId;
  const ids = [current, ...[...advert.keys.keys()].filter((id) => id !== current)];
  return `codec=${ids.map((id) => `${id}:${advert.keys.get(id)}`).join(',')}`;
}

/** The identity a worker polls with: the SDK's default (`pid@host`) plus what it can decrypt. */
export function workerIdentity(ring: CodecKeyRing | undefined): string {
  return `${process.pid}@${hostname()} ${WORKER_MARK} ${formatAdvert(advertOf(ring))}`;
}

/** The advert in a poller's identity, or undefined for a poller that is not a pulse-runbooks worker (or older). */
export function parseAdvert(identity: string): CodecAdvert | undefined {
  if (!identity.includes(WORKER_MARK)) return undefined;
  const m = /\bcodec=(\S+)/.exec(identity);
  if (!m) return undefined;
  if (m[1] === 'off') return { on: false, keys: new Map() };
  const pairs = m[1].split(',').map((p) => p.split(':') as [string, string]);
  if (pairs.some((p) => p.length !== 2 || !p[0] || !p[1])) return undefined;
  return { on: true, currentKeyId: pairs[0][0], keys: new Map(pairs) };
}

/**
 * Why a CLI with `mine` and a worker advertising `theirs` cannot work together, or undefined when they can:
 * the worker must hold the key the CLI encrypts with (same id, same key), and the CLI the key the worker encrypts
 * with. Texts name key ids and the fix, never a key.
 */
export function codecMismatch(mine: CodecAdvert, theirs: CodecAdvert, keysFile?: string): string | undefined {
  const fix =
    'give this command the key file the worker uses (--codec-keys-file or PULSE_RUNBOOKS_CODEC_KEYS_FILE), or restart the worker with yours';
  if (!mine.on && !theirs.on) return undefined;
  if (!mine.on) {
    return `the worker encrypts history with key "${theirs.currentKeyId}", and this command has no key file: the run's result would be unreadable here; ${fix}`;
  }
  const file = keysFile ? ` (${keysFile})` : '';
  if (!theirs.on) {
    return `this command encrypts with key "${mine.currentKeyId}"${file}, and the worker has no key file: it could not read the run's input; ${fix}`;
  }
  const myCurrent = mine.currentKeyId as string;
  const theirCheck = theirs.keys.get(myCurrent);
  if (theirCheck === undefined)
    return `this command encrypts with key "${myCurrent}"${file}, which the worker does not hold (it has ${[...theirs.keys.keys()].join(', ')}); ${fix}`;
  if (theirCheck !== mine.keys.get(myCurrent))
    return `the key stored as "${myCurrent}" in this command's key file${file} is not the worker's key "${myCurrent}" (their check values differ); ${fix}`;
  const theirCurrent = theirs.currentKeyId as string;
  const myCheck = mine.keys.get(theirCurrent);
  if (myCheck === undefined)
    return `the worker encrypts with key "${theirCurrent}", which this command's key file${file} does not hold; ${fix}`;
  if (myCheck !== theirs.keys.get(theirCurrent))
    return `the key stored as "${theirCurrent}" in this command's key file${file} is not the worker's key "${theirCurrent}"; ${fix}`;
  return undefined;
}
