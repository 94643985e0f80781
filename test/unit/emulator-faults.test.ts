import { call, startTestEmulator, type TestEmulator } from '../support/emulator.js';

const C = '/api/truenas/connections';

describe('emulator fault injection and control API', () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ tokens: [{ token: 'full-access-token', scopes: ['*'] }] });
  });
  afterAll(() => emu.dispose());
  afterEach(() => emu.control.clearFaults());

  it('applies a glob rule only `times` times, then the real handler answers again', async () => {
    await emu.control.addFaults({ method: 'get', path: '/api/truenas/connections*', status: 503, times: 2 });
    expect((await emu.control.faults())[0].remaining).toBe(2);
    const a = await call(emu.url, C, { token: 'full-access-token' });
    const b = await call(emu.url, C, { token: 'full-access-token' });
    const c = await call(emu.url, C, { token: 'full-access-token' });
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.text).toBe('Service Unavailable\n');
    expect(await emu.control.faults()).toEqual([]);
  });

  it('matches prefixes, methods, custom bodies and a 401 that looks like Pulse', async () => {
    await emu.control.addFaults([
      { path: '/api/truenas/connections/', method: 'DELETE', status: 500, body: { error: 'boom' } },
      { path: '/api/v2/resources', status: 401 },
    ]);
    expect((await call(emu.url, `${C}/x`, { method: 'DELETE', token: 'full-access-token' })).json()).toEqual({ error: 'boom' });
    expect((await call(emu.url, C, { token: 'full-access-token' })).status).toBe(200); // GET not matched
    const unauth = await call(emu.url, '/api/v2/resources?limit=100', { token: 'full-access-token' });
    expect(unauth.status).toBe(401);
    expect(unauth.text).toBe('{"error":"Authentication required"}');
  });

  it('delays responses and can drop the connection', async () => {
    await emu.control.addFaults({ path: '/api/health', delayMs: 300, times: 1 });
    const started = Date.now();
    expect((await call(emu.url, '/api/health')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await emu.control.addFaults({ path: '/api/health', reset: true, times: 1 });
    await expect(call(emu.url, '/api/health')).rejects.toThrow();
    expect((await call(emu.url, '/api/health')).status).toBe(200);
  });

  it('rejects malformed rules with a message naming the field', async () => {
    const res = await call(emu.url, '/__emulator/faults', { method: 'POST', body: [{ path: 'no-slash', status: 500 }] });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('invalid fault rule at 0.path: path must start with "/", e.g. "/api/truenas/connections/*"');
  });

  it('logs requests with method, path, query, status, time and auth kind, never header values', async () => {
    await emu.control.clearRequests();
    await call(emu.url, `${C}?x=1`, { token: 'full-access-token' });
    await call(emu.url, C, { token: 'full-access-token', bearer: true });
    await call(emu.url, C, { method: 'POST', token: 'wrong-token-value', body: { host: 'h', apiKey: 'secret-in-body' } });
    const log = await emu.control.requests();
    expect(log.map((e) => [e.method, e.path, e.query, e.status, e.auth])).toEqual([
      ['GET', C, 'x=1', 200, 'x-api-token'],
      ['GET', C, '', 200, 'bearer'],
      ['POST', C, '', 401, 'x-api-token'],
    ]);
    expect(log[0].time).toMatch(/^\d{4}-\d\d-\d\dT/);
    const text = JSON.stringify(log);
    expect(text).not.toContain('full-access-token');
    expect(text).not.toContain('wrong-token-value');
    expect(text).not.toContain('secret-in-body');
    expect(await emu.control.requests(log[1].seq)).toHaveLength(1);
  });

  it('reports state and keeps control routes out of auth and the request log', async () => {
    await emu.control.clearRequests();
    const state = await emu.control.state();
    expect(state).toMatchObject({ profile: 'feb', flag: { raw: 'true', enabled: true }, poller: { running: true }, auth: { tokens: 1 } });
    expect(await emu.control.requests()).toEqual([]);
    expect((await call(emu.url, '/__emulator/nope')).status).toBe(404);
  });
});
