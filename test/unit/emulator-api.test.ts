import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { call, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const C = '/api/truenas/connections';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let fake: FakeTrueNAS;
beforeAll(async () => {
  fake = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
});
afterAll(() => fake.close());

describe.each(['feb', 'v6'] as const)('emulator API, %s profile, flag off', (profile) => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ profile, enableTrueNAS: 'false' });
  });
  afterAll(() => emu.dispose());

  it('answers every TrueNAS route with the 404 truenas_disabled envelope of the profile', async () => {
    const message = profile === 'feb' ? 'TrueNAS integration is not enabled' : 'TrueNAS integration has been explicitly disabled';
    for (const [method, path] of [
      ['GET', C],
      ['POST', C],
      ['POST', `${C}/test`],
      ['DELETE', `${C}/abc`],
    ]) {
      const res = await call(emu.url, path, { method, body: method === 'POST' ? {} : undefined });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = res.json();
      expect(body).toEqual({
        error: message,
        code: 'truenas_disabled',
        status_code: 404,
        timestamp: expect.any(Number),
        ...(profile === 'v6' ? { details: {} } : {}),
      });
      expect(res.text.endsWith('}\n')).toBe(true);
    }
    // 405 is decided by the route before the handler's flag check.
    expect((await call(emu.url, C, { method: 'PATCH' })).status).toBe(405);
  });
});

describe.each(['feb', 'v6'] as const)('emulator API, %s profile, flag on', (profile) => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ profile, enableTrueNAS: profile === 'feb' ? 'true' : undefined });
  });
  afterAll(() => emu.dispose());
  beforeEach(async () => {
    for (const c of (await call(emu.url, C)).json()) await call(emu.url, `${C}/${c.id}`, { method: 'DELETE' });
  });

  it('starts with an empty list (missing truenas.enc)', async () => {
    const res = await call(emu.url, C);
    expect(res.status).toBe(200);
    expect(res.text).toBe('[]\n');
  });

  it('rejects the runbook payload (api_key) with 400 credentials required', async () => {
    const res = await call(emu.url, C, { method: 'POST', body: { name: 'nas-1', host: 'https://truenas.local', api_key: 'k' } });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'truenas credentials are required: provide api key or username/password',
      code: 'validation_error',
      status_code: 400,
    });
    expect('details' in res.json()).toBe(profile === 'v6');
    const noHost = await call(emu.url, C, { method: 'POST', body: { apiKey: 'k' } });
    expect(noHost.json()).toMatchObject({ error: 'truenas host is required', code: 'validation_error' });
  });

  it('answers bad JSON and oversized bodies with 400 invalid_request and details.error', async () => {
    const bad = await call(emu.url, C, { method: 'POST', body: '{"host":' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'invalid_request', error: 'Invalid request body', details: { error: 'unexpected EOF' } });
    const typed = await call(emu.url, C, { method: 'POST', body: { host: 'h', apiKey: 'k', port: '1' } });
    expect(typed.json().details.error).toBe('json: cannot unmarshal string into Go struct field TrueNASInstance.port of type int');
    const big = await call(emu.url, C, { method: 'POST', body: { host: 'h', apiKey: 'k', name: 'x'.repeat(33 * 1024) } });
    expect(big.status).toBe(400);
    expect(big.json().details).toEqual({ error: 'http: request body too large' });
  });

  it('creates with 201, a generated UUID, redacted secrets and the profile defaults', async () => {
    const res = await call(emu.url, C, { method: 'POST', body: { name: ' nas-1 ', host: 'https://truenas.local', apiKey: 'secret-key' } });
    expect(res.status).toBe(201);
    const body = res.json();
    expect(body.id).toMatch(UUID);
    expect(res.text).not.toContain('secret-key');
    if (profile === 'feb') {
      expect(body).toEqual({
        id: body.id,
        name: 'nas-1',
        host: 'https://truenas.local',
        apiKey: '********',
        useHttps: false,
        enabled: false,
      });
    } else {
      expect(body).toEqual({
        id: body.id,
        name: 'nas-1',
        host: 'https://truenas.local',
        apiKey: '********',
        useHttps: true,
        enabled: true,
        pollIntervalSeconds: 60,
      });
    }
    const withId = await call(emu.url, C, {
      method: 'POST',
      body: { id: 'my-id', host: 'h', username: 'u', password: 'p', enabled: true },
    });
    expect(withId.json()).toMatchObject({ id: 'my-id', username: 'u', password: '********' });
    const list = (await call(emu.url, C)).json();
    expect(list.map((c: { id: string }) => c.id)).toEqual([body.id, 'my-id']);
  });

  it('deletes with 200 {success,id}, then 404 truenas_not_found, and 400 missing_connection_id', async () => {
    const id = (await call(emu.url, C, { method: 'POST', body: { id: 'del-me', host: 'h', apiKey: 'k' } })).json().id;
    const ok = await call(emu.url, `${C}/${id}`, { method: 'DELETE' });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('{"success":true,"id":"del-me"}\n');
    const again = await call(emu.url, `${C}/${id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ code: 'truenas_not_found', error: 'Connection not found' });
    for (const path of [`${C}/`, `${C}/a/b`]) {
      const res = await call(emu.url, path, { method: 'DELETE' });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ code: 'missing_connection_id', error: 'Connection ID is required' });
    }
  });

  it('tests a proposed connection against the real host: 200, or 400 truenas_connection_failed with status=401', async () => {
    const ok = await call(emu.url, `${C}/test`, { method: 'POST', body: fake.connection() });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('{"success":true}\n');
    const wrong = await call(emu.url, `${C}/test`, { method: 'POST', body: fake.connection({ apiKey: 'wrong-key' }) });
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'truenas_connection_failed', error: 'Failed to connect to TrueNAS' });
    expect(wrong.json().details.error).toMatch(
      /^truenas connection test failed: truenas request GET \/system\/info failed: status=401 body=/,
    );
    const badHost = await call(emu.url, `${C}/test`, { method: 'POST', body: { host: 'https://nas/path', apiKey: 'k' } });
    expect(badHost.json()).toMatchObject({
      code: 'truenas_invalid_config',
      details: { error: 'parse truenas host "https://nas/path": path is not supported' },
    });
  });

  it('routes POST /{id}/test only in v6 (Feb: 405 text) and other methods to 405', async () => {
    const id = (await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'saved' }) })).json().id;
    const res = await call(emu.url, `${C}/${id}/test`, { method: 'POST' });
    if (profile === 'feb') {
      expect(res.status).toBe(405);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.text).toBe('Method not allowed\n');
    } else {
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ success: true });
      const masked = await call(emu.url, `${C}/${id}/test`, { method: 'POST', body: { ...fake.connection(), apiKey: '********' } });
      expect(masked.status).toBe(200);
      const missing = await call(emu.url, `${C}/nope/test`, { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(missing.json().code).toBe('truenas_not_found');
    }
    expect((await call(emu.url, C, { method: 'PUT' })).text).toBe('Method not allowed\n');
    expect((await call(emu.url, `${C}/test`, { method: 'GET' })).status).toBe(405);
    expect((await call(emu.url, `${C}/${id}`, { method: 'GET' })).status).toBe(405);
  });

  it(profile === 'v6' ? 'adds poll/observed to list items and supports PUT' : 'has no poll/observed and no PUT', async () => {
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'polled' }) });
    await emu.control.tick();
    const item = (await call(emu.url, C)).json()[0];
    if (profile === 'feb') {
      expect(item).not.toHaveProperty('poll');
      expect((await call(emu.url, `${C}/polled`, { method: 'PUT', body: {} })).status).toBe(405);
      return;
    }
    expect(item.poll).toEqual({ intervalSeconds: 60, lastAttemptAt: expect.any(String), lastSuccessAt: expect.any(String) });
    expect(item.observed).toMatchObject({ host: 'truenas-fake', systems: 1, storagePools: 1, datasets: 2 });
    const put = await call(emu.url, `${C}/polled`, { method: 'PUT', body: { ...fake.connection(), name: 'renamed', apiKey: '********' } });
    expect(put.status).toBe(200);
    expect(put.json()).toMatchObject({ id: 'polled', name: 'renamed', apiKey: '********' });
    expect((await call(emu.url, `${C}/polled/test`, { method: 'POST' })).status).toBe(200); // stored key kept
  });

  it('reads truenas.enc on every request: deleting the file empties the list at once', async () => {
    await call(emu.url, C, { method: 'POST', body: { host: 'h', apiKey: 'k' } });
    const { rmSync } = await import('node:fs');
    rmSync(`${emu.dataDir}/truenas.enc`);
    expect((await call(emu.url, C)).text).toBe('[]\n');
  });
});
