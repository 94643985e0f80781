/**
 * Identity tokens: a JWT whose `sub` is the actor, signed with the identity key (src/identity/key.ts) and verified
 * with jose — signature, algorithm, `exp` (required), and `iss` / `aud` when configured. Nothing here hand-rolls
 * JWT parsing. Errors say what is wrong and how to fix it, and never contain the token.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';
import { ActorSchema } from './actor.js';
import type { IdentityKey } from './key.js';

/** How far a clock may be off between the admin's host and the CLI's. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** The longest token `issue-token` will make: a lost token is good until it expires. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;

export interface TokenExpectations {
  issuer?: string;
  audience?: string;
}

export interface VerifiedToken {
  subject: string;
  algorithm: string;
  expiresAt: string;
  issuedAt?: string;
  issuer?: string;
  audience?: string | string[];
  /** The token's `jti`, when it has one: lets an admin tell two tokens of one person apart. */
  id?: string;
}

export class IdentityTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityTokenError';
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export async function verifyIdentityToken(
  token: string,
  key: IdentityKey,
  expect: TokenExpectations = {},
  now: Date = new Date(),
): Promise<VerifiedToken> {
  const where = `the ${key.kind} in ${key.path}`;
  let payload: JWTPayload;
  let alg: string;
  try {
    const verified = await jwtVerify(token.trim(), key.verifyKey, {
      algorithms: [key.algorithm],
      requiredClaims: ['sub', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
      ...(expect.issuer !== undefined && { issuer: expect.issuer }),
      ...(expect.audience !== undefined && { audience: expect.audience }),
    });
    payload = verified.payload;
    alg = verified.protectedHeader.alg;
  } catch (err) {
    throw new IdentityTokenError(`identity token: ${explain(err, where, expect)}`);
  }
  const subject = ActorSchema.safeParse(payload.sub);
  if (!subject.success)
    throw new IdentityTokenError(
      `identity token: its subject (sub) ${subject.error.issues[0].message}; issue a new token with a valid --sub`,
    );
  return {
    subject: subject.data,
    algorithm: alg,
    expiresAt: iso(payload.exp!),
    ...(payload.iat !== undefined && { issuedAt: iso(payload.iat) }),
    ...(payload.iss !== undefined && { issuer: payload.iss }),
    ...(payload.aud !== undefined && { audience: payload.aud }),
    ...(payload.jti !== undefined && { id: payload.jti }),
  };
}

function explain(err: unknown, where: string, expect: TokenExpectations): string {
  const renew = 'ask an admin for a new one (`pulse-runbook identity issue-token`)';
  if (err instanceof errors.JWTExpired) {
    const exp = typeof err.payload.exp === 'number' ? ` at ${iso(err.payload.exp)}` : '';
    return `expired${exp}${typeof err.payload.sub === 'string' ? ` (subject ${err.payload.sub})` : ''}; ${renew}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return `its signature does not verify with ${where}: it was issued with another key, or altered; ${renew}`;
  if (err instanceof errors.JOSEAlgNotAllowed)
    return `is not signed with ${where.includes('HS256') ? 'HS256' : 'EdDSA'}, the algorithm of ${where}; ${renew}`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss')
      return `its issuer (iss) is ${JSON.stringify(err.payload.iss ?? null)}, expected ${JSON.stringify(expect.issuer)} (PULSE_RUNBOOKS_IDENTITY_ISSUER); ${renew}`;
    if (err.claim === 'aud')
      return `its audience (aud) is ${JSON.stringify(err.payload.aud ?? null)}, expected ${JSON.stringify(expect.audience)} (PULSE_RUNBOOKS_IDENTITY_AUDIENCE); ${renew}`;
    if (err.reason === 'missing') return `has no "${err.claim}" claim, which is required; ${renew}`;
    if (err.claim === 'nbf') return `is not valid yet (nbf is in the future); check the clocks, or ${renew}`;
    return `its "${err.claim}" claim is not valid (${err.reason}); ${renew}`;
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
    return `is not a valid signed JWT (three base64url parts separated by dots); check PULSE_RUNBOOKS_IDENTITY_TOKEN or --identity-token-file`;
  if (err instanceof errors.JOSEError) return `cannot be verified with ${where} (${err.code}); ${renew}`;
  return `cannot be verified with ${where} (${(err as Error).message})`;
}

export interface IssueOptions {
  subject: string;
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  now?: Date;
}

/** Signs a token for `subject`; needs a signing key (a private key or the HS256 secret). */
export async function issueIdentityToken(key: IdentityKey, opts: IssueOptions): Promise<{ token: string; expiresAt: string }> {
  if (!key.signKey) {
    throw new IdentityTokenError(
      `identity issue-token: ${key.path} holds an ${key.kind}, which verifies tokens but cannot issue them; give the private key (--key-file)`,
    );
  }
  const subject = ActorSchema.safeParse(opts.subject);
  if (!subject.success) throw new IdentityTokenError(`identity issue-token --sub: ${subject.error.issues[0].message}`);
  if (!(opts.ttlSeconds > 0) || opts.ttlSeconds > MAX_TTL_SECONDS) {
    throw new IdentityTokenError(`identity issue-token --ttl: must be more than 0 and at most ${MAX_TTL_SECONDS / 86_400} days`);
  }
  const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const exp = nowSeconds + Math.round(opts.ttlSeconds);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: key.algorithm, typ: 'JWT' })
    .setSubject(subject.data)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(exp)
    .setJti(randomUUID());
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return { token: await jwt.sign(key.signKey), expiresAt: iso(exp) };
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "8h", "7d" → seconds. */
export function parseTtl(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(value);
  if (!m) throw new IdentityTokenError(`identity issue-token --ttl ${value}: must be a number with s, m, h or d, e.g. 8h or 7d`);
  return Number(m[1]) * UNITS[m[2]];
}
