/**
 * Who is acting, from the most authenticated source this CLI has (docs/identity.md):
 *
 * - **Token policy** (PULSE_RUNBOOKS_IDENTITY_KEY_FILE set): a signed token is required (PULSE_RUNBOOKS_IDENTITY_TOKEN,
 *   --identity-token-file or PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE); the actor is its verified `sub`, source `token`.
 *   `--actor` cannot override it (the same name is accepted, any other is refused).
 * - **No policy**: the OS user of this process (`os.userInfo().username`), source `os-user`. `--actor` may name
 *   someone else; it is then recorded as `claimed`, because nothing checked it.
 *
 * A token without a key to verify it is refused rather than ignored: a person who believes they act under a token
 * must not silently be recorded as someone else.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { ActorSchema } from './actor.js';
import { readIdentityKey } from './key.js';
import type { ActorSource } from './sources.js';
import { verifyIdentityToken, type VerifiedToken } from './token.js';

export const IDENTITY_ENV = {
  keyFile: 'PULSE_RUNBOOKS_IDENTITY_KEY_FILE',
  issuer: 'PULSE_RUNBOOKS_IDENTITY_ISSUER',
  audience: 'PULSE_RUNBOOKS_IDENTITY_AUDIENCE',
  token: 'PULSE_RUNBOOKS_IDENTITY_TOKEN',
  tokenFile: 'PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE',
} as const;

export { ACTOR_SOURCES, type ActorSource } from './sources.js';

/** Where the identity comes from: paths and expectations only, never a token. */
export interface IdentitySettings {
  /** The verification key; set means a token is required. */
  keyFile?: string;
  issuer?: string;
  audience?: string;
  /** A file holding the token (--identity-token-file, else PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE when the env token is unset). */
  tokenFile?: string;
}

export function identitySettingsFrom(flags: { identityTokenFile?: string }, env: NodeJS.ProcessEnv = process.env): IdentitySettings {
  const nonEmpty = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  const tokenFile =
    nonEmpty(flags.identityTokenFile) ?? (nonEmpty(env[IDENTITY_ENV.token]) ? undefined : nonEmpty(env[IDENTITY_ENV.tokenFile]));
  return Object.fromEntries(
    Object.entries({
      keyFile: nonEmpty(env[IDENTITY_ENV.keyFile]),
      issuer: nonEmpty(env[IDENTITY_ENV.issuer]),
      audience: nonEmpty(env[IDENTITY_ENV.audience]),
      tokenFile,
    }).filter(([, v]) => v !== undefined),
  ) as IdentitySettings;
}

export interface Identity {
  actor: string;
  source: ActorSource;
  /** The OS user of this process, whatever the source. */
  osUser: string;
  /** How the actor was determined, in one sentence, for `whoami` and logs. */
  how: string;
  /** The verified token's claims (source `token`). */
  token?: VerifiedToken;
  /** The key that verified it. */
  keyFile?: string;
  /** A loose key file mode and the like, for the caller to print. */
  warnings: string[];
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

export interface ResolveOptions {
  /** `--actor`, when given. */
  claimedActor?: string;
  env?: NodeJS.ProcessEnv;
  /** For tests; default os.userInfo(). */
  osUser?: () => string;
  now?: Date;
}

export function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers): the environment is the only hint left.
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

export async function resolveIdentity(settings: IdentitySettings, opts: ResolveOptions = {}): Promise<Identity> {
  const env = opts.env ?? process.env;
  const osUser = (opts.osUser ?? osUserName)();
  const claimed = opts.claimedActor === undefined ? undefined : checkActor(opts.claimedActor, '--actor');
  const token = readToken(settings, env);

  if (settings.keyFile) {
    if (!token) {
      throw new IdentityError(
        `identity: a signed identity token is required because ${IDENTITY_ENV.keyFile} is set (${settings.keyFile}); ` +
          `set ${IDENTITY_ENV.token} or give --identity-token-file (an admin issues one with \`pulse-runbook identity issue-token --sub <you>\`)`,
      );
    }
    const key = readIdentityKey(settings.keyFile);
    const verified = await verifyIdentityToken(token.value, key, { issuer: settings.issuer, audience: settings.audience }, opts.now);
    if (claimed !== undefined && claimed !== verified.subject) {
      throw new IdentityError(
        `--actor ${claimed}: refused: your signed identity token says you are ${verified.subject}, and --actor cannot override a token ` +
          `(${IDENTITY_ENV.keyFile} is set); drop --actor`,
      );
    }
    return {
      actor: verified.subject,
      source: 'token',
      osUser,
      how:
        `signed token from ${token.from} (${verified.algorithm}, verified with the ${key.kind} in ${key.path}), subject ${verified.subject}` +
        `${verified.issuer ? `, issuer ${verified.issuer}` : ''}, expires at ${verified.expiresAt}`,
      token: verified,
      keyFile: key.path,
      warnings: key.warnings,
    };
  }

  if (token) {
    throw new IdentityError(
      `identity: a token was given (${token.from}) but there is no key to verify it: set ${IDENTITY_ENV.keyFile} to the public key (or HS256 secret) ` +
        'it was issued with, or unset the token',
    );
  }
  if (claimed !== undefined && claimed !== osUser) {
    return {
      actor: claimed,
      source: 'claimed',
      osUser,
      how: `claimed with --actor and not verified (the OS user is ${osUser || 'unknown'}; no token policy is configured)`,
      warnings: [],
    };
  }
  if (!osUser)
    throw new IdentityError(
      'identity: the OS user cannot be determined (no passwd entry and no USER); give --actor, or configure identity tokens',
    );
  return {
    actor: checkActor(osUser, 'the OS user'),
    source: 'os-user',
    osUser,
    how: `the OS user of this process (${osUser}); no token policy is configured`,
    warnings: [],
  };
}

function checkActor(value: string, what: string): string {
  const parsed = ActorSchema.safeParse(value);
  if (!parsed.success) throw new IdentityError(`${what} ${JSON.stringify(value)}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

function readToken(settings: IdentitySettings, env: NodeJS.ProcessEnv): { value: string; from: string } | undefined {
  if (settings.tokenFile) {
    let text: string;
    try {
      text = readFileSync(settings.tokenFile, 'utf8');
    } catch (err) {
      throw new IdentityError(
        `identity token file ${settings.tokenFile}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check --identity-token-file`,
      );
    }
    if (!text.trim())
      throw new IdentityError(
        `identity token file ${settings.tokenFile}: is empty; put the token from \`pulse-runbook identity issue-token\` in it`,
      );
    return { value: text.trim(), from: `the file ${settings.tokenFile}` };
  }
  const fromEnv = env[IDENTITY_ENV.token]?.trim();
  return fromEnv ? { value: fromEnv, from: IDENTITY_ENV.token } : undefined;
}

/** The Temporal client identity, written by the server into every history event the client causes. */
export function clientIdentity(identity: Pick<Identity, 'actor'>, host: string = hostname()): string {
  return `pulse-runbook:${identity.actor}@${host}`;
}

/** The inverse of clientIdentity, for the audit: undefined for identities other clients wrote. */
export function parseClientIdentity(value: string | null | undefined): { actor: string; host: string } | undefined {
  const m = /^pulse-runbook:(.+)@([^@]*)$/.exec(value ?? '');
  return m ? { actor: m[1], host: m[2] } : undefined;
}
