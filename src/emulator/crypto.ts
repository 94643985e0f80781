/**
 * Pulse's at-rest encryption (internal/crypto/crypto.go), reproduced from its behaviour:
 * - `<dataDir>/.encryption.key` holds a 32-byte AES-256 key as standard base64 (no newline), mode 0600,
 *   and the data dir is hardened to 0700. Whitespace around the base64 is tolerated on read.
 * - A missing or undecodable key is replaced by a fresh random key, unless nodes/email/webhooks/oidc
 *   `.enc*` files exist (Pulse refuses to orphan them; truenas.enc is not on that list).
 * - Ciphertext is raw bytes: 12-byte random nonce || AES-GCM sealed data (16-byte tag at the end).
 * - Encrypt refuses to run when the key file has been deleted since start (orphaned-data guard).
 * The key is read once, at start, and kept in memory, exactly like Pulse's CryptoManager.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILE = '.encryption.key';
const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const GUARDED_PREFIXES = ['nodes.enc', 'email.enc', 'webhooks.enc', 'oidc.enc'];

export class CryptoManager {
  private constructor(
    private readonly key: Buffer,
    readonly keyPath: string,
  ) {}

  /** NewCryptoManagerAt: load the key from the data dir, creating one when allowed. */
  static open(dataDir: string): CryptoManager {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const keyPath = join(dataDir, KEY_FILE);
    const existing = readKey(keyPath);
    if (existing) {
      chmodSync(keyPath, 0o600);
      return new CryptoManager(existing, keyPath);
    }
    const guarded = readdirSync(dataDir).filter(
      (f) => GUARDED_PREFIXES.some((p) => f.startsWith(p)) && statSync(join(dataDir, f)).size > 0,
    );
    if (guarded.length > 0) {
      throw new Error(
        `encryption key not found but encrypted data exists (${guarded.join(' ')}) - cannot generate new key as it would orphan existing data`,
      );
    }
    const key = randomBytes(KEY_LENGTH);
    const tmp = `${keyPath}.${process.pid}.tmp`;
    writeFileSync(tmp, key.toString('base64'), { mode: 0o600 });
    renameSync(tmp, keyPath);
    chmodSync(keyPath, 0o600);
    return new CryptoManager(key, keyPath);
  }

  encrypt(plaintext: Buffer): Buffer {
    if (!existsSync(this.keyPath)) {
      throw new Error('encryption key file deleted - cannot encrypt (would create orphaned data)');
    }
    const nonce = randomBytes(NONCE_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  decrypt(data: Buffer): Buffer {
    if (data.length < NONCE_LENGTH) throw new Error('ciphertext too short');
    if (data.length < NONCE_LENGTH + TAG_LENGTH) {
      throw new Error('crypto.Decrypt: open ciphertext: cipher: message authentication failed');
    }
    const nonce = data.subarray(0, NONCE_LENGTH);
    const tag = data.subarray(data.length - TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data.subarray(NONCE_LENGTH, data.length - TAG_LENGTH)), decipher.final()]);
    } catch {
      throw new Error('crypto.Decrypt: open ciphertext: cipher: message authentication failed');
    }
  }
}

/** Returns the decoded key, or undefined when the file is missing or holds invalid key material. */
function readKey(keyPath: string): Buffer | undefined {
  let stat;
  try {
    stat = lstatSync(keyPath);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) throw new Error(`unsafe encryption key path "${keyPath}": refusing symlink key path`);
  if (!stat.isFile()) return undefined;
  if (stat.size > 4096) throw new Error(`unsafe encryption key path "${keyPath}": key file is too large`);
  const text = readFileSync(keyPath, 'utf8').trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === KEY_LENGTH ? key : undefined;
}
