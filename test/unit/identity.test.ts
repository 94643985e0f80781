/**
 * Who acts (src/identity): key files (Ed25519 private/public, HS256 secret), tokens issued and verified with jose
 * (signature, algorithm, exp, iss, aud, sub), the resolution rules (token policy vs OS user vs claimed --actor),
 * the Temporal client identity and the actor header the client interceptor adds. Real files in a temp dir, real
 * keys; the CLI is run as a real process for `identity whoami|issue-token|keygen` and a refused --actor.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SignJWT } from 'jose';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { generateIdentityKey, readIdentityKey, IdentityKeyError } from '../../src/identity/key.js';
import { issueIdentityToken, parseTtl, verifyIdentityToken, IdentityTokenError } from '../../src/identity/token.js';
import {
  clientIdentity,
  identitySettingsFrom,
  parseClientIdentity,
  resolveIdentity,
  IdentityError,
  type Identity,
} from '../../src/identity/resolve.js';
import { ACTOR_HEADER, actorHeaderInterceptor, readActorHeader } from '../../src/identity/header.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'identity-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

function edKeys(): { priv: string; pub: string } {
  const made = generateIdentityKey(path.join(dir, 'id.key'), 'EdDSA');
  return { priv: made.path, pub: made.publicPath! };
}

const HOUR = 3600;

describe('key files', () => {
  it('keygen EdDSA writes an owner-only private key and a public key; each is told apart by its content', () => {
    const { priv, pub } = edKeys();
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    const privateKey = readIdentityKey(priv);
    expect(privateKey).toMatchObject({ algorithm: 'EdDSA', kind: 'Ed25519 private key', warnings: [] });
    expect(privateKey.signKey).toBeDefined();
    const publicKey = readIdentityKey(pub);
    expect(publicKey).toMatchObject({ algorithm: 'EdDSA', kind: 'Ed25519 public key', warnings: [] });
    expect(publicKey.signKey).toBeUndefined();
    expect(() => generateIdentityKey(priv, 'EdDSA')).toThrow(/already exists; it is never overwritten/);
  });

  it('an HS256 secret must be long enough, and a loose mode is warned about, naming the chmod', () => {
    const made = generateIdentityKey(path.join(dir, 'hs.key'), 'HS256');
    expect(readIdentityKey(made.path)).toMatchObject({ algorithm: 'HS256', kind: 'HS256 shared secret', warnings: [] });
    chmodSync(made.path, 0o644);
    expect(readIdentityKey(made.path).warnings[0]).toContain(`readable by group or others (mode 0644); run chmod 600 ${made.path}`);

    const short = path.join(dir, 'short.key');
    writeFileSync(short, 'not-long-enough\n', { mode: 0o600 });
    expect(() => readIdentityKey(short)).toThrow(/an HS256 secret must be at least 32 characters \(it has 15\)/);
  });

  it('refuses an RSA key, an unreadable file and a foreign PEM block, naming the file and never the content', () => {
    const rsa = path.join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect(() => readIdentityKey(rsa)).toThrow(`identity key file ${rsa}: is a rsa key; only Ed25519 keys (EdDSA) are used`);
    expect(() => readIdentityKey(path.join(dir, 'missing'))).toThrow(IdentityKeyError);
    expect(() => readIdentityKey(path.join(dir, 'missing'))).toThrow(/cannot be read \(ENOENT\)/);
    const cert = path.join(dir, 'cert.pem');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(() => readIdentityKey(cert)).toThrow(/is a PEM block this tool does not use/);
  });
});

describe('tokens', () => {
  it('EdDSA: issued with the private key, verified with the public key; the subject is the actor', async () => {
    const { priv, pub } = edKeys();
    const now = new Date('2026-11-26T08:00:00Z');
    const issued = await issueIdentityToken(readIdentityKey(priv), {
      subject: 'olga',
      ttlSeconds: 8 * HOUR,
      issuer: 'pulse-ops',
      audience: 'pulse-runbooks',
      now,
    });
    expect(issued.expiresAt).toBe('2026-11-26T16:00:00.000Z');
    const verified = await verifyIdentityToken(
      issued.token,
      readIdentityKey(pub),
      { issuer: 'pulse-ops', audience: 'pulse-runbooks' },
      new Date('2026-11-26T12:00:00Z'),
    );
    expect(verified).toMatchObject({
      subject: 'olga',
      algorithm: 'EdDSA',
      expiresAt: '2026-11-26T16:00:00.000Z',
      issuedAt: '2026-11-26T08:00:00.000Z',
      issuer: 'pulse-ops',
      audience: 'pulse-runbooks',
    });
    expect(verified.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an expired token, a token of another key, of another algorithm, and wrong iss / aud, never echoing the token', async () => {
    const { priv, pub } = edKeys();
    const other = generateIdentityKey(path.join(dir, 'other.key'), 'EdDSA');
    const hs = generateIdentityKey(path.join(dir, 'hs.key'), 'HS256');
    const now = new Date('2026-11-26T08:00:00Z');
    const { token } = await issueIdentityToken(readIdentityKey(priv), { subject: 'olga', ttlSeconds: HOUR, issuer: 'pulse-ops', now });
    const errors: Error[] = [];
    const check = async (p: Promise<unknown>, expected: RegExp | string) => {
      const err = await rejection(p);
      expect(err).toBeInstanceOf(IdentityTokenError);
      expect(err.message).toMatch(expected);
      errors.push(err);
    };
    await check(
      verifyIdentityToken(token, readIdentityKey(pub), {}, new Date('2026-11-26T09:05:00Z')),
      /^identity token: expired at 2026-11-26T09:00:00.000Z \(subject olga\); ask an admin for a new one/,
    );
    await check(
      verifyIdentityToken(token, readIdentityKey(other.publicPath!), {}, now),
      `its signature does not verify with the Ed25519 public key in ${other.publicPath}`,
    );
    await check(verifyIdentityToken(token, readIdentityKey(hs.path), {}, now), /is not signed with HS256/);
    await check(
      verifyIdentityToken(token, readIdentityKey(pub), { issuer: 'security' }, now),
      'its issuer (iss) is "pulse-ops", expected "security" (PULSE_RUNBOOKS_IDENTITY_ISSUER)',
    );
    await check(
      verifyIdentityToken(token, readIdentityKey(pub), { audience: 'pulse-runbooks' }, now),
      'its audience (aud) is null, expected "pulse-runbooks" (PULSE_RUNBOOKS_IDENTITY_AUDIENCE)',
    );
    await check(verifyIdentityToken('not.a.jwt', readIdentityKey(pub), {}, now), /is not a valid signed JWT/);
    // Tampering with the payload (another subject) breaks the signature.
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'mallory', exp: 4_000_000_000 })).toString('base64url')}.${s}`;
    await check(verifyIdentityToken(forged, readIdentityKey(pub), {}, now), /its signature does not verify/);
    for (const e of errors) expect(e.message).not.toContain(token.slice(20, 60));
  });

  it('requires exp and a valid sub; HS256 round-trips with the same secret', async () => {
    const hs = readIdentityKey(generateIdentityKey(path.join(dir, 'hs.key'), 'HS256').path);
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('olga')
      .sign(hs.signKey as Uint8Array);
    expect((await rejection(verifyIdentityToken(noExp, hs))).message).toContain('has no "exp" claim, which is required');
    const badSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('   ')
      .setExpirationTime('1h')
      .sign(hs.signKey as Uint8Array);
    expect((await rejection(verifyIdentityToken(badSub, hs))).message).toContain('identity token: its subject (sub) must not be empty');

    const { token } = await issueIdentityToken(hs, { subject: 'sara', ttlSeconds: 60 });
    expect((await verifyIdentityToken(token, hs)).subject).toBe('sara');
  });

  it('issue-token needs a signing key, a valid subject and a bounded ttl', async () => {
    const { pub, priv } = edKeys();
    await expect(issueIdentityToken(readIdentityKey(pub), { subject: 'olga', ttlSeconds: 60 })).rejects.toThrow(
      /holds an Ed25519 public key, which verifies tokens but cannot issue them/,
    );
    await expect(issueIdentityToken(readIdentityKey(priv), { subject: '', ttlSeconds: 60 })).rejects.toThrow(/--sub: must not be empty/);
    await expect(issueIdentityToken(readIdentityKey(priv), { subject: 'olga', ttlSeconds: 31 * 86_400 })).rejects.toThrow(
      /--ttl: must be more than 0 and at most 30 days/,
    );
    expect(parseTtl('8h')).toBe(8 * HOUR);
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('7d')).toBe(7 * 86_400);
    expect(() => parseTtl('8 hours')).toThrow(/must be a number with s, m, h or d/);
  });
});

describe('resolving who acts', () => {
  const osUser = () => 'olga';

  it('without a policy: the OS user, or a claimed --actor', async () => {
    expect(await resolveIdentity({}, { osUser, env: {} })).toMatchObject({ actor: 'olga', source: 'os-user', osUser: 'olga' });
    // Naming yourself is not a claim.
    expect((await resolveIdentity({}, { osUser, env: {}, claimedActor: 'olga' })).source).toBe('os-user');
    const claimed = await resolveIdentity({}, { osUser, env: {}, claimedActor: 'sam' });
    expect(claimed).toMatchObject({ actor: 'sam', source: 'claimed' });
    expect(claimed.how).toContain('claimed with --actor and not verified (the OS user is olga');
    await expect(resolveIdentity({}, { osUser, env: {}, claimedActor: '  ' })).rejects.toThrow('--actor "  ": must not be empty');
    await expect(resolveIdentity({}, { osUser: () => '', env: {} })).rejects.toThrow(/the OS user cannot be determined/);
  });

  it('a token without a key to verify it is refused, not ignored', async () => {
    const err = await rejection(resolveIdentity({}, { osUser, env: { PULSE_RUNBOOKS_IDENTITY_TOKEN: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' } }));
    expect(err).toBeInstanceOf(IdentityError);
    expect(err.message).toContain('a token was given (PULSE_RUNBOOKS_IDENTITY_TOKEN) but there is no key to verify it');
    expect(err.message).not.toContain('eyJhbGciOiJFZERTQSJ9');
  });

  it('with a policy: a token is required, its subject is the actor, and --actor cannot override it', async () => {
    const { priv, pub } = edKeys();
    const { token } = await issueIdentityToken(readIdentityKey(priv), { subject: 'sam', ttlSeconds: HOUR });
    const settings = { keyFile: pub };
    await expect(resolveIdentity(settings, { osUser, env: {} })).rejects.toThrow(
      `identity: a signed identity token is required because PULSE_RUNBOOKS_IDENTITY_KEY_FILE is set (${pub})`,
    );
    const env = { PULSE_RUNBOOKS_IDENTITY_TOKEN: token };
    const viaToken = await resolveIdentity(settings, { osUser, env });
    expect(viaToken).toMatchObject({ actor: 'sam', source: 'token', osUser: 'olga', keyFile: pub });
    expect(viaToken.how).toContain(
      `signed token from PULSE_RUNBOOKS_IDENTITY_TOKEN (EdDSA, verified with the Ed25519 public key in ${pub}), subject sam`,
    );
    expect((await resolveIdentity(settings, { osUser, env, claimedActor: 'sam' })).actor).toBe('sam');
    const override = await rejection(resolveIdentity(settings, { osUser, env, claimedActor: 'olga' }));
    expect(override.message).toBe(
      '--actor olga: refused: your signed identity token says you are sam, and --actor cannot override a token (PULSE_RUNBOOKS_IDENTITY_KEY_FILE is set); drop --actor',
    );

    // From a file too; the file wins over the env var it was given next to.
    const file = path.join(dir, 'token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const fromFile = await resolveIdentity({ ...settings, tokenFile: file }, { osUser, env: { PULSE_RUNBOOKS_IDENTITY_TOKEN: 'garbage' } });
    expect(fromFile.how).toContain(`signed token from the file ${file}`);
    await expect(resolveIdentity({ ...settings, tokenFile: path.join(dir, 'nope') }, { osUser, env: {} })).rejects.toThrow(
      /identity token file .*nope: cannot be read \(ENOENT\)/,
    );
  });

  it('settings come from the env and --identity-token-file; empty values count as unset', () => {
    expect(
      identitySettingsFrom(
        {},
        { PULSE_RUNBOOKS_IDENTITY_KEY_FILE: '/k.pub', PULSE_RUNBOOKS_IDENTITY_ISSUER: 'ops', PULSE_RUNBOOKS_IDENTITY_AUDIENCE: '' },
      ),
    ).toEqual({ keyFile: '/k.pub', issuer: 'ops' });
    expect(identitySettingsFrom({ identityTokenFile: '/flag' }, { PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE: '/env' }).tokenFile).toBe('/flag');
    expect(identitySettingsFrom({}, { PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE: '/env' }).tokenFile).toBe('/env');
    // The token itself in the env wins over a token file named in the env.
    expect(
      identitySettingsFrom({}, { PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE: '/env', PULSE_RUNBOOKS_IDENTITY_TOKEN: 'x' }).tokenFile,
    ).toBeUndefined();
  });
});

describe('what travels to Temporal', () => {
  const identity: Identity = {
    actor: 'sam',
    source: 'token',
    osUser: 'olga',
    how: 'test',
    warnings: [],
    token: { subject: 'sam', algorithm: 'EdDSA', expiresAt: '2026-11-26T16:00:00.000Z', issuer: 'pulse-ops', id: 'jti-1' },
  };

  it('the client identity is pulse-runbook:<actor>@<host>, and the audit can read it back', () => {
    expect(clientIdentity(identity, 'ops-host')).toBe('pulse-runbook:sam@ops-host');
    expect(parseClientIdentity('pulse-runbook:sam@ops-host')).toEqual({ actor: 'sam', host: 'ops-host' });
    expect(parseClientIdentity('4242@worker-host')).toBeUndefined();
  });

  it('the interceptor adds the actor header to starts, updates and signals, keeping other headers', async () => {
    const interceptor = actorHeaderInterceptor(identity);
    const other = defaultPayloadConverter.toPayload('kept');
    const seen: Array<Record<string, Payload>> = [];
    const next = async (input: { headers: Record<string, Payload> }) => {
      seen.push(input.headers);
      return undefined as never;
    };
    await interceptor.startUpdate!({ headers: { other } } as never, next as never);
    await interceptor.signal!({ headers: {} } as never, next as never);
    await interceptor.startWithDetails!({ headers: {} } as never, next as never);
    expect(seen).toHaveLength(3);
    expect(seen[0].other).toBe(other);
    for (const headers of seen) {
      expect(readActorHeader(headers)).toEqual({
        actor: 'sam',
        actorSource: 'token',
        tokenId: 'jti-1',
        tokenExpiresAt: '2026-11-26T16:00:00.000Z',
        tokenIssuer: 'pulse-ops',
      });
      // The header is plain JSON and holds no token.
      expect(Buffer.from(headers[ACTOR_HEADER].data!).toString()).not.toMatch(/eyJ/);
    }
    expect(readActorHeader({})).toBeUndefined();
    expect(readActorHeader({ [ACTOR_HEADER]: defaultPayloadConverter.toPayload({ actor: 'x', actorSource: 'root' }) })).toBeUndefined();
  });
});

describe('pulse-runbook identity (a real process)', () => {
  const bin = path.resolve('bin/pulse-runbook.js');
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [bin, ...args], {
      reject: false,
      timeout: 60_000,
      env: { PULSE_RUNBOOKS_IDENTITY_KEY_FILE: '', PULSE_RUNBOOKS_IDENTITY_TOKEN: '', PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE: '', ...env },
    });

  it('keygen, issue-token, whoami under the policy, and a refused --actor on an incident command (before Temporal is contacted)', async () => {
    const key = path.join(dir, 'admin.key');
    const keygen = await run(['identity', 'keygen', '--out', key]);
    expect(keygen.exitCode).toBe(0);
    expect(keygen.stdout).toContain(`Created ${key} (Ed25519 private key, mode 0600`);

    const issue = await run(['identity', 'issue-token', '--sub', 'olga', '--ttl', '2h', '--key-file', key, '--issuer', 'pulse-ops']);
    expect(issue.exitCode).toBe(0);
    const token = issue.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(issue.stderr).toMatch(/^Token for olga, EdDSA, expires at \S+/);

    const policy = {
      PULSE_RUNBOOKS_IDENTITY_KEY_FILE: `${key}.pub`,
      PULSE_RUNBOOKS_IDENTITY_ISSUER: 'pulse-ops',
      PULSE_RUNBOOKS_IDENTITY_TOKEN: token,
    };
    const [whoami, offline, noToken] = await Promise.all([
      run(['identity', 'whoami', '--json'], policy),
      run(['incident', 'ack', 'x', '--actor', 'sam', '--temporal-address', '127.0.0.1:1'], policy),
      run(['canary', 'abort', 'x', '--reason', 'r', '--temporal-address', '127.0.0.1:1'], { ...policy, PULSE_RUNBOOKS_IDENTITY_TOKEN: '' }),
    ]);
    expect(whoami.exitCode).toBe(0);
    const me = JSON.parse(whoami.stdout);
    expect(me).toMatchObject({
      actor: 'olga',
      actorSource: 'token',
      token: { subject: 'olga', issuer: 'pulse-ops' },
      tokenPolicy: { keyFile: `${key}.pub`, issuer: 'pulse-ops' },
    });
    expect(me.temporalIdentity).toMatch(/^pulse-runbook:olga@/);
    expect(whoami.stdout).not.toContain(token);

    expect(offline.exitCode).toBe(2);
    expect(offline.stderr).toContain('pulse-runbook: --actor sam: refused: your signed identity token says you are olga');
    expect(offline.stderr).not.toContain('not reachable');
    expect(noToken.exitCode).toBe(2);
    expect(noToken.stderr).toContain('a signed identity token is required because PULSE_RUNBOOKS_IDENTITY_KEY_FILE is set');

    const out = path.join(dir, 'olga.token');
    const toFile = await run(['identity', 'issue-token', '--sub', 'olga', '--key-file', key, '--out', out]);
    expect(toFile.exitCode).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const fromFile = await run(['identity', 'whoami', '--identity-token-file', out], { PULSE_RUNBOOKS_IDENTITY_KEY_FILE: `${key}.pub` });
    expect(fromFile.stdout).toContain(`You act as olga (token): signed token from the file ${out}`);
    expect(readFileSync(out, 'utf8').trim().split('.')).toHaveLength(3);
  });
});
