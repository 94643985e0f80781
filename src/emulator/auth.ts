/**
 * Pulse authentication (internal/api/auth.go: CheckAuth, RequireAuth, RequireAdmin, RequireScope).
 * Reproduced quirks that clients can observe:
 * - Nothing configured → every request passes as "anonymous" (any token is ignored).
 * - A token sent in `X-API-Token` wins over `Authorization: Bearer` (case-insensitive "bearer ").
 * - An invalid token makes CheckAuth write "Invalid API token" as text, and the wrapping middleware then
 *   appends `{"error":"Authentication required"}` to the same 401 body (headers were already sent).
 * - API-only mode (tokens but no admin password) answers a missing token with a text 401 the same way.
 * - Scopes are only checked for token requests; `*` passes everything; 403 is
 *   `{"error":"missing_scope","requiredScope":"…"}`.
 * Credentials are kept as hashes: tokens as sha256 hex (like Pulse), the password as scrypt.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { jsonReply, textError, type Reply } from './reply.js';

export interface TokenRecord {
  id: string;
  name: string;
  hash: string;
  prefix: string;
  suffix: string;
  createdAt: string;
  scopes: string[];
}

export type AuthResult = { ok: true; token?: TokenRecord; user: string } | { ok: false; written?: Reply };

export const TOKENS_FILE = 'api_tokens.json';
export const ENV_FILE = '.env';
export const BOOTSTRAP_FILE = '.bootstrap_token';
const AUTH_REQUIRED_BODY = '{"error":"Authentication required"}';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

function checkPassword(password: string, stored: string): boolean {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) {
    // Plaintext from PULSE_AUTH_PASS: Pulse hashes it on load; comparing directly is equivalent.
    return safeEqual(password, stored);
  }
  const actual = scryptSync(password, Buffer.from(saltHex, 'hex'), 32);
  return timingSafeEqual(actual, Buffer.from(hashHex, 'hex'));
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export function newTokenRecord(raw: string, name: string, scopes: string[]): TokenRecord {
  return {
    id: randomBytes(8).toString('hex'),
    name,
    hash: sha256(raw),
    prefix: raw.slice(0, 6),
    suffix: raw.slice(-4),
    createdAt: new Date().toISOString(),
    scopes: scopes.length > 0 ? scopes : ['*'], // ensureScopes: legacy tokens without scopes are full access
  };
}

/** explicitAPITokenFromRequest. */
export function explicitToken(req: IncomingMessage): string | undefined {
  const xToken = req.headers['x-api-token'];
  if (xToken !== undefined) return (Array.isArray(xToken) ? xToken[0] : xToken).trim();
  const authz = req.headers.authorization;
  if (authz && authz.toLowerCase().startsWith('bearer ')) return authz.slice(7).trim();
  return undefined;
}

export class AuthState {
  user = '';
  passHash = '';
  tokens: TokenRecord[] = [];
  bootstrapToken = '';

  constructor(private readonly dataDir: string) {}

  /** Loads persisted credentials (.env written by quick-setup, api_tokens.json), then env overrides. */
  load(env: { user?: string; pass?: string; presetTokens?: Array<{ token: string; scopes: string[] }> }): void {
    const persisted = this.readEnvFile();
    this.user = env.user ?? persisted.PULSE_AUTH_USER ?? '';
    this.passHash = env.pass ?? persisted.PULSE_AUTH_PASS ?? '';
    const tokensPath = join(this.dataDir, TOKENS_FILE);
    if (existsSync(tokensPath)) {
      const text = readFileSync(tokensPath, 'utf8').trim();
      this.tokens = text ? (JSON.parse(text) as TokenRecord[]) : [];
    }
    for (const preset of env.presetTokens ?? []) {
      if (!this.tokens.some((t) => t.hash === sha256(preset.token))) {
        this.tokens.push(newTokenRecord(preset.token, 'emulator preset', preset.scopes));
      }
    }
    if (!this.hasPasswordAuth()) this.ensureBootstrapToken();
  }

  hasPasswordAuth(): boolean {
    return this.user !== '' && this.passHash !== '';
  }

  hasAnyAuth(): boolean {
    return this.hasPasswordAuth() || this.tokens.length > 0;
  }

  findToken(raw: string): TokenRecord | undefined {
    const h = sha256(raw);
    return this.tokens.find((t) => safeEqual(t.hash, h));
  }

  /** CheckAuth. `written` is what CheckAuth itself already wrote to the response. */
  check(req: IncomingMessage): AuthResult {
    if (!this.hasAnyAuth()) return { ok: true, user: 'anonymous' };
    const provided = explicitToken(req);
    if (!this.hasPasswordAuth()) {
      if (provided !== undefined) {
        const record = this.findToken(provided);
        return record
          ? { ok: true, token: record, user: `token:${record.name}` }
          : { ok: false, written: textError(401, 'Invalid API token') };
      }
      return {
        ok: false,
        written: textError(401, 'API token required via Authorization header or X-API-Token header', {
          'WWW-Authenticate': 'Bearer realm="API token required; supply via Authorization header or X-API-Token header"',
        }),
      };
    }
    if (this.tokens.length > 0 && provided !== undefined) {
      const record = this.findToken(provided);
      return record
        ? { ok: true, token: record, user: `token:${record.name}` }
        : { ok: false, written: textError(401, 'Invalid API token') };
    }
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      if (sep >= 0) {
        const [u, p] = [decoded.slice(0, sep), decoded.slice(sep + 1)];
        if (u === this.user && checkPassword(p, this.passHash)) return { ok: true, user: u };
      }
    }
    return { ok: false };
  }

  /** RequireAuth / RequireAdmin: the 401 reply for a failed check, including Go's double write. */
  static unauthorized(result: Extract<AuthResult, { ok: false }>): Reply {
    if (result.written) return { ...result.written, body: result.written.body + AUTH_REQUIRED_BODY };
    return { status: 401, headers: { 'Content-Type': 'application/json' }, body: AUTH_REQUIRED_BODY };
  }

  /** RequireScope: undefined when allowed, else the 403 reply. Session/basic/anonymous requests pass. */
  static requireScope(result: Extract<AuthResult, { ok: true }>, scope: string): Reply | undefined {
    const token = result.token;
    if (!token || token.scopes.includes('*') || token.scopes.includes(scope)) return undefined;
    return jsonReply(403, { error: 'missing_scope', requiredScope: scope });
  }

  /** Quick-setup: replace credentials at runtime and persist them, then drop the bootstrap token. */
  configure(user: string, password: string, rawToken: string): void {
    this.user = user;
    this.passHash = hashPassword(password);
    this.tokens = [newTokenRecord(rawToken, 'Primary token', ['*'])];
    this.persistTokens();
    const envText = `# Written by the Pulse emulator quick-setup\nPULSE_AUTH_USER='${user}'\nPULSE_AUTH_PASS='${this.passHash}'\n`;
    writeFileSync(join(this.dataDir, ENV_FILE), envText, { mode: 0o600 });
    this.clearBootstrapToken();
  }

  bootstrapPath(): string {
    return join(this.dataDir, BOOTSTRAP_FILE);
  }

  private ensureBootstrapToken(): void {
    const path = this.bootstrapPath();
    if (existsSync(path)) {
      this.bootstrapToken = readFileSync(path, 'utf8').trim();
      if (this.bootstrapToken) return;
    }
    this.bootstrapToken = randomBytes(24).toString('hex');
    writeFileSync(path, `${this.bootstrapToken}\n`, { mode: 0o600 });
  }

  private clearBootstrapToken(): void {
    this.bootstrapToken = '';
    rmSync(this.bootstrapPath(), { force: true });
  }

  private persistTokens(): void {
    const path = join(this.dataDir, TOKENS_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.tokens), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  private readEnvFile(): Record<string, string> {
    const path = join(this.dataDir, ENV_FILE);
    if (!existsSync(path)) return {};
    const out: Record<string, string> = {};
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /^\s*([A-Z_]+)\s*=\s*'?(.*?)'?\s*$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
    return out;
  }
}
