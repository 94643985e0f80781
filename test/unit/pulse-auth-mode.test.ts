/**
 * Which authentication Pulse has, read from GET /api/security/status: none, API tokens only, a password login only,
 * or both (issue 15: `doctor` called a Pulse with only API tokens "no authentication"). The status answers below have
 * the fields real Pulse sends (Feb and v6-rel: every field to anyone, `authUsername` filled in for an authenticated
 * caller; newer Pulse: `detailLevel`, and tokens and the user name only for a caller allowed to read settings). Then
 * the emulator, set up each way, and the doctor's Pulse check reading it.
 */
import { authModeFrom, describeAuthMode, interpretCapabilities } from '../../src/pulse/capabilities.js';
import { PulseClient } from '../../src/pulse/client.js';
import { runHostChecks } from '../../src/doctor/host-checks.js';
import { DoctorHostInputSchema } from '../../src/config/doctor.js';
import type { SecurityStatus } from '../../src/pulse/types.js';
import { quickSetupAdmin, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const probes = (security: SecurityStatus | undefined) =>
  interpretCapabilities({ security, connections: 'enabled', v2: 'envelope', perIdTest: false });

describe('authModeFrom: the security status of a real Pulse', () => {
  it('no authentication at all', () => {
    const status = { hasAuthentication: false, requiresAuth: false, apiTokenConfigured: false, authUsername: '' };
    expect(authModeFrom(status)).toEqual({ configured: false, tokens: false, password: false });
    expect(probes(status)).toMatchObject({ authRequired: false });
    expect(describeAuthMode(authModeFrom(status))).toBe('none (the API is open anonymously)');
  });

  it('API tokens only: v6-rel asked with a token (its scopes shown, no user name)', () => {
    const status = { hasAuthentication: true, requiresAuth: true, apiTokenConfigured: true, authUsername: '', tokenScopes: ['*'] };
    expect(authModeFrom(status)).toEqual({ configured: true, tokens: true, password: false });
    expect(probes(status)).toMatchObject({ authRequired: true });
    expect(describeAuthMode(authModeFrom(status))).toBe('API tokens only (no password login)');
  });

  it('API tokens only, where hasAuthentication leaves tokens out (the emulator before this fix): still authentication', () => {
    // The old reading took the first field present, hasAuthentication: false, and called this Pulse open.
    const status = { hasAuthentication: false, requiresAuth: true, apiTokenConfigured: true, authUsername: '', tokenScopes: ['*'] };
    expect(probes(status)).toMatchObject({ authRequired: true, auth: { configured: true, tokens: true, password: false } });
    expect(probes(status).notes.join(' ')).toContain('API tokens only');
  });

  it('a password login only: no tokens, no proxy, no SSO', () => {
    const status = { hasAuthentication: true, requiresAuth: true, apiTokenConfigured: false, authUsername: '', hasProxyAuth: false };
    expect(authModeFrom(status)).toEqual({ configured: true, tokens: false, password: true });
    expect(describeAuthMode(authModeFrom(status))).toBe('a password login only (no API tokens)');
  });

  it('both: a token caller is shown the admin user name', () => {
    const status = { hasAuthentication: true, requiresAuth: true, apiTokenConfigured: true, authUsername: 'admin', tokenScopes: ['*'] };
    expect(authModeFrom(status)).toEqual({ configured: true, tokens: true, password: true });
    expect(describeAuthMode(authModeFrom(status))).toBe('API tokens and a password login');
  });

  it('newer Pulse: the public answer says only that authentication exists; the privileged one tells which', () => {
    const pub = { detailLevel: 'public', hasAuthentication: true, requiresAuth: true };
    expect(authModeFrom(pub)).toEqual({ configured: true, tokens: 'unknown', password: 'unknown' });
    expect(describeAuthMode(authModeFrom(pub))).toBe('configured (API tokens not told, password login not told)');
    const privileged = { ...pub, detailLevel: 'privileged', apiTokenConfigured: true, authUsername: '', tokenScopes: ['settings:read'] };
    expect(authModeFrom(privileged)).toEqual({ configured: true, tokens: true, password: false });
  });

  it('no answer: not told, and not taken for "open"', () => {
    expect(authModeFrom(undefined)).toEqual({ configured: 'unknown', tokens: 'unknown', password: 'unknown' });
    expect(describeAuthMode(authModeFrom(undefined))).toContain('not told');
  });
});

describe('the emulator and the doctor, set up each way', () => {
  const TOKEN = 'auth-mode-test-token-0123456789abcdef';
  let emu: TestEmulator | undefined;
  afterEach(async () => {
    await emu?.dispose();
    emu = undefined;
  });

  async function pulseAuthCheck(url: string, token?: string) {
    const env = token ? { AUTH_MODE_TOKEN: token } : {};
    const input = DoctorHostInputSchema.parse({ pulse: { url, ...(token && { token: { env: 'AUTH_MODE_TOKEN' } }) } });
    const checks = await runHostChecks(input, env);
    return checks.find((c) => c.id === 'pulse-auth')!;
  }

  async function capabilities(url: string, token?: string) {
    const client = await PulseClient.create(
      { url, ...(token && { token: { env: 'AUTH_MODE_TOKEN' } }), timeoutMs: 5000 },
      token ? { env: { AUTH_MODE_TOKEN: token } } : {},
    );
    try {
      return await client.detectCapabilities();
    } finally {
      await client.close();
    }
  }

  it('API tokens only: reported as tokens, not as "no authentication"', async () => {
    emu = await startTestEmulator({ tokens: [{ token: TOKEN, scopes: ['*'] }] });
    expect((await capabilities(emu.url, TOKEN)).auth).toEqual({ configured: true, tokens: true, password: false });
    const check = await pulseAuthCheck(emu.url, TOKEN);
    expect(check.status).toBe('ok');
    expect(check.detail).toContain('Pulse authentication: API tokens only (no password login)');
    expect(check.detail).not.toMatch(/no authentication|open anonymously/);
  });

  it('no authentication: reported as open', async () => {
    emu = await startTestEmulator();
    expect((await capabilities(emu.url)).auth).toEqual({ configured: false, tokens: false, password: false });
    const check = await pulseAuthCheck(emu.url);
    expect(check.detail).toContain('Pulse authentication: none (the API is open anonymously)');
  });

  it('a password login and API tokens (quick-setup): both', async () => {
    emu = await startTestEmulator();
    const token = await quickSetupAdmin(emu.url, emu.dataDir);
    expect((await capabilities(emu.url, token)).auth).toEqual({ configured: true, tokens: true, password: true });
    expect((await pulseAuthCheck(emu.url, token)).detail).toContain('Pulse authentication: API tokens and a password login');
  });
});
