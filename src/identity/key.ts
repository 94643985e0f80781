/**
 * The identity key file: what signs and verifies the identity tokens of `pulse-runbook` users.
 *
 * One file, three forms, told apart by their content:
 * - an Ed25519 **public** key (PEM, `-----BEGIN PUBLIC KEY-----`): verifies EdDSA tokens and nothing more. This is
 *   the file to give CLI users: holding it does not let anyone issue a token.
 * - an Ed25519 **private** key (PEM, `-----BEGIN PRIVATE KEY-----`): issues and verifies EdDSA tokens; admins only.
 * - anything else is an **HS256 shared secret** (the file's text, trimmed; at least 32 characters). Whoever can read
 *   it can both verify and issue tokens, so it only fits setups where the CLI runs on a host users do not control.
 *
 * `pulse-runbook identity keygen` writes either form. Errors name the file and the fix, never key material.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';

export type IdentityAlgorithm = 'EdDSA' | 'HS256';

/** Minimum length of an HS256 secret: 32 characters (256 bits if random). */
export const MIN_SECRET_LENGTH = 32;

export interface IdentityKey {
  algorithm: IdentityAlgorithm;
  /** What the file holds, in words, for `whoami` and errors. */
  kind: 'Ed25519 public key' | 'Ed25519 private key' | 'HS256 shared secret';
  path: string;
  /** Verifies tokens. */
  verifyKey: KeyObject | Uint8Array;
  /** Signs tokens; absent for a public key. */
  signKey?: KeyObject | Uint8Array;
  /** A loose file mode on a secret or private key, for the caller to print. */
  warnings: string[];
}

export class IdentityKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityKeyError';
  }
}

/** Reads and classifies a key file; throws IdentityKeyError naming the file (never its content). */
export function readIdentityKey(file: string): IdentityKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IdentityKeyError(
      `identity key file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check PULSE_RUNBOOKS_IDENTITY_KEY_FILE`,
    );
  }
  const trimmed = text.trim();
  const secretish = (kind: string) => looseModeWarning(file, kind);

  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const key = parsePem(() => createPublicKey(trimmed), file, 'public key');
    requireEd25519(key, file);
    return { algorithm: 'EdDSA', kind: 'Ed25519 public key', path: file, verifyKey: key, warnings: [] };
  }
  if (trimmed.startsWith('-----BEGIN PRIVATE KEY-----')) {
    const key = parsePem(() => createPrivateKey(trimmed), file, 'private key');
    requireEd25519(key, file);
    return {
      algorithm: 'EdDSA',
      kind: 'Ed25519 private key',
      path: file,
      verifyKey: createPublicKey(key),
      signKey: key,
      warnings: secretish('private key'),
    };
  }
  if (trimmed.startsWith('-----BEGIN')) {
    throw new IdentityKeyError(
      `identity key file ${file}: is a PEM block this tool does not use; give an Ed25519 key (PKCS#8 private or SPKI public, e.g. from \`pulse-runbook identity keygen\`) or an HS256 secret`,
    );
  }
  if (trimmed.length < MIN_SECRET_LENGTH) {
    throw new IdentityKeyError(
      `identity key file ${file}: an HS256 secret must be at least ${MIN_SECRET_LENGTH} characters (it has ${trimmed.length}); ` +
        'create one with `pulse-runbook identity keygen --algorithm HS256 --out FILE`',
    );
  }
  const secret = new TextEncoder().encode(trimmed);
  return { algorithm: 'HS256', kind: 'HS256 shared secret', path: file, verifyKey: secret, signKey: secret, warnings: secretish('secret') };
}

function parsePem(parse: () => KeyObject, file: string, what: string): KeyObject {
  try {
    return parse();
  } catch {
    throw new IdentityKeyError(
      `identity key file ${file}: the PEM ${what} cannot be parsed; regenerate it with \`pulse-runbook identity keygen\``,
    );
  }
}

function requireEd25519(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new IdentityKeyError(
      `identity key file ${file}: is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; only Ed25519 keys (EdDSA) are used; create one with \`pulse-runbook identity keygen\``,
    );
  }
}

function looseModeWarning(file: string, what: string): string[] {
  if (process.platform === 'win32') return [];
  const mode = statSync(file).mode & 0o777;
  return mode & 0o077
    ? [
        `identity key file ${file} holds a ${what} and is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${file}`,
      ]
    : [];
}

export interface GeneratedKey {
  algorithm: IdentityAlgorithm;
  /** The signing key (private key or secret), mode 0600. */
  path: string;
  /** EdDSA only: the public key for CLI users, mode 0644. */
  publicPath?: string;
}

/** Creates a key file (and, for EdDSA, `<out>.pub`); never overwrites. */
export function generateIdentityKey(out: string, algorithm: IdentityAlgorithm): GeneratedKey {
  const publicPath = algorithm === 'EdDSA' ? `${out}.pub` : undefined;
  for (const p of [out, publicPath]) {
    if (p && existsSync(p))
      throw new IdentityKeyError(`identity keygen: ${p} already exists; it is never overwritten (move it away or choose another --out)`);
  }
  if (algorithm === 'HS256') {
    writeNew(out, `${randomBytes(48).toString('base64url')}\n`, 0o600);
    return { algorithm, path: out };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeNew(out, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  writeNew(publicPath!, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  return { algorithm, path: out, publicPath };
}

function writeNew(file: string, content: string, mode: number): void {
  // 'wx': fails if the file appeared in the meantime; the mode is set at creation, so a secret is never world-readable.
  const fd = openSync(file, 'wx', mode);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}
