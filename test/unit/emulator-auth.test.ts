import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, quickSetupAdmin, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const C = '/api/truenas/connections';
const AUTH_REQUIRED = '{"error":"Authentication required"}';

describe('emulator auth: fresh install and quick-setup', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator();
  });
  afterEach(() => emu.dispose());

  it('is open anonymously until auth is configured, whatever token is sent', async () => {
    expect((await call(emu.url, C)).status).toBe(200);
    expect((await call(emu.url, C, { token: 'anything' })).status).toBe(200);
    const status = (await call(emu.url, '/api/security/status')).json();
    expect(status).toMatchObject({ hasAuthentication: false, apiTokenConfigured: false });
  });

  it('guards quick-setup with the bootstrap token and a 12-character password, then deletes the token file', async () => {
    const bootstrapPath = join(emu.dataDir, '.bootstrap_token');
    const bootstrap = readFileSync(bootstrapPath, 'utf8').trim();
    const body = { username: 'admin', password: 'long-enough-pw', apiToken: 'a'.repeat(64) };
    const missing = await call(emu.url, '/api/security/quick-setup', { method: 'POST', body });
    expect(missing.status).toBe(401);
    expect(missing.text).toMatch(/^Bootstrap setup token required\./);
    const wrong = await call(emu.url, '/api/security/quick-setup', { method: 'POST', body, headers: { 'X-Setup-Token': 'nope' } });
    expect(wrong.status).toBe(401);
    const short = await call(emu.url, '/api/security/quick-setup', {
      method: 'POST',
      body: { ...body, password: 'short-pw' },
      headers: { 'X-Setup-Token': bootstrap },
    });
    expect(short.status).toBe(400);
    const ok = await call(emu.url, '/api/security/quick-setup', { method: 'POST', body, headers: { 'X-Setup-Token': bootstrap } });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ success: true });
    expect(existsSync(bootstrapPath)).toBe(false);
    expect((await call(emu.url, '/api/security/status')).json()).toMatchObject({ hasAuthentication: true, apiTokenConfigured: true });
    expect((await call(emu.url, C, { token: 'a'.repeat(64) })).status).toBe(200);
    expect((await call(emu.url, '/api/health')).status).toBe(200); // still public
  });
});

describe('emulator auth: with an admin token', () => {
  let emu: TestEmulator;
  let token: string;
  beforeAll(async () => {
    emu = await startTestEmulator({ tokens: [{ token: 'read-only-token-1', scopes: ['settings:read'] }] });
    token = await quickSetupAdmin(emu.url, emu.dataDir);
  });
  afterAll(() => emu.dispose());

  it('answers a missing token with 401 {"error":"Authentication required"}', async () => {
    const res = await call(emu.url, C);
    expect(res.status).toBe(401);
    expect(res.text).toBe(AUTH_REQUIRED);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('answers an invalid token with 401 and Pulse double-written body', async () => {
    const res = await call(emu.url, C, { token: 'wrong-token' });
    expect(res.status).toBe(401);
    expect(res.text).toBe(`Invalid API token\n${AUTH_REQUIRED}`);
  });

  it('accepts Bearer case-insensitively and lets X-API-Token win over Authorization', async () => {
    expect((await call(emu.url, C, { headers: { Authorization: `bEaReR ${token}` } })).status).toBe(200);
    expect((await call(emu.url, C, { headers: { 'X-API-Token': token, Authorization: 'Bearer wrong' } })).status).toBe(200);
    expect((await call(emu.url, C, { headers: { 'X-API-Token': 'wrong', Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('accepts the admin password as basic auth', async () => {
    const basic = Buffer.from('admin:emulator-admin-pass').toString('base64');
    expect((await call(emu.url, C, { headers: { Authorization: `Basic ${basic}` } })).status).toBe(200);
  });

  it('replaces preset tokens with the single * token on quick-setup, as Pulse does', async () => {
    expect((await call(emu.url, C, { token: 'read-only-token-1' })).status).toBe(401);
  });
});

describe('emulator auth: scopes with preset tokens (API-only mode)', () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({
      tokens: [
        { token: 'settings-read-token', scopes: ['settings:read'] },
        { token: 'settings-write-token', scopes: ['settings:read', 'settings:write'] },
        { token: 'monitoring-token', scopes: ['monitoring:read'] },
        { token: 'full-access-token', scopes: ['*'] },
      ],
    });
  });
  afterAll(() => emu.dispose());

  it('needs settings:read to list and settings:write to add, test and delete', async () => {
    expect((await call(emu.url, C, { token: 'settings-read-token' })).status).toBe(200);
    for (const [method, path] of [
      ['POST', C],
      ['POST', `${C}/test`],
      ['DELETE', `${C}/x`],
    ]) {
      const res = await call(emu.url, path, { method, token: 'settings-read-token', body: method === 'POST' ? {} : undefined });
      expect(res.status).toBe(403);
      expect(res.text).toBe('{"error":"missing_scope","requiredScope":"settings:write"}\n');
    }
    const list = await call(emu.url, C, { token: 'monitoring-token' });
    expect(list.json()).toEqual({ error: 'missing_scope', requiredScope: 'settings:read' });
    expect((await call(emu.url, C, { method: 'POST', token: 'settings-write-token', body: { host: 'h', apiKey: 'k' } })).status).toBe(201);
    expect((await call(emu.url, C, { method: 'POST', token: 'full-access-token', body: { host: 'h', apiKey: 'k' } })).status).toBe(201);
  });

  it('needs monitoring:read for resources', async () => {
    expect((await call(emu.url, '/api/v2/resources', { token: 'settings-write-token' })).json()).toEqual({
      error: 'missing_scope',
      requiredScope: 'monitoring:read',
    });
    expect((await call(emu.url, '/api/v2/resources', { token: 'monitoring-token' })).status).toBe(200);
    expect((await call(emu.url, '/api/resources', { token: 'full-access-token' })).status).toBe(200);
  });

  it('answers a missing token in API-only mode with the text 401 plus the JSON body', async () => {
    const res = await call(emu.url, C);
    expect(res.status).toBe(401);
    expect(res.text).toBe(`API token required via Authorization header or X-API-Token header\n${AUTH_REQUIRED}`);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });
});

describe('emulator auth: persistence across restarts', () => {
  it('keeps the quick-setup token and password after a restart on the same data dir', async () => {
    const first = await startTestEmulator();
    const token = await quickSetupAdmin(first.url, first.dataDir);
    await first.stop(); // keep the dir
    const second = await startTestEmulator({ dataDir: first.dataDir });
    try {
      expect((await call(second.url, C)).status).toBe(401);
      expect((await call(second.url, C, { token })).status).toBe(200);
      expect(existsSync(join(first.dataDir, '.bootstrap_token'))).toBe(false);
      expect(readFileSync(join(first.dataDir, 'api_tokens.json'), 'utf8')).not.toContain(token);
    } finally {
      await second.dispose();
      await first.dispose();
    }
  });
});
