import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { call, startTestEmulator, waitFor, type TestEmulator } from '../support/emulator.js';

const C = '/api/truenas/connections';
const metricsText = async (emu: TestEmulator) => (await fetch(emu.metricsUrl)).text();
const metricLine = (text: string, name: string, id: string) =>
  text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`instance="${id}"`));

describe('emulator poller against a fake TrueNAS (feb)', () => {
  let fake: FakeTrueNAS;
  let emu: TestEmulator;
  beforeEach(async () => {
    fake = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
    emu = await startTestEmulator({ profile: 'feb', pollTimeoutMs: 300 });
  });
  afterEach(async () => {
    await emu.dispose();
    await fake.close();
  });

  it('polls enabled connections for real, with the Bearer key, and maps them to resources', async () => {
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'c1' }) });
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'disabled', enabled: false }) });
    await emu.control.tick();
    expect(fake.requests().map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/v2.0/system/info 200',
      '/api/v2.0/pool 200',
      '/api/v2.0/pool/dataset 200',
      '/api/v2.0/disk 200',
      '/api/v2.0/alert/list 200',
    ]);
    const state = await emu.control.state();
    expect(state.providers.map((p) => p.id)).toEqual(['c1']);
    const res = (await call(emu.url, '/api/v2/resources?source=truenas&limit=100')).json();
    expect(res.meta).toEqual({ page: 1, limit: 100, total: 4, totalPages: 1 });
    const host = res.data.find((r: { type: string }) => r.type === 'host');
    expect(host).toMatchObject({
      name: 'truenas-fake',
      status: 'online',
      sources: ['truenas'],
      sourceStatus: { truenas: { status: 'online' } },
    });
    expect(host.tags).toEqual(['truenas', 'TrueNAS-SCALE-24.10.2', 'zfs']);
    const pool = res.data.find((r: { tags: string[] }) => r.tags.includes('pool'));
    expect(pool).toMatchObject({ type: 'storage', name: 'tank', parentId: host.id, childCount: 2 });
    expect(res.aggregations).toEqual({ total: 4, byType: { host: 1, storage: 3 }, byStatus: { online: 4 }, bySource: { truenas: 4 } });
    // The legacy endpoint never contains TrueNAS.
    expect((await call(emu.url, '/api/resources')).json()).toMatchObject({ resources: [], count: 0 });
  });

  it('paginates (default 50, max 100), filters and sorts', async () => {
    const datasets = Array.from({ length: 120 }, (_, i) => ({ name: `tank/ds${String(i).padStart(3, '0')}`, used: 1, available: 1 }));
    fake.setInventory({ datasets });
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'c1' }) });
    await emu.control.tick();
    const first = (await call(emu.url, '/api/v2/resources')).json();
    expect(first.meta).toEqual({ page: 1, limit: 50, total: 122, totalPages: 3 });
    expect(first.data).toHaveLength(50);
    const capped = (await call(emu.url, '/api/v2/resources?limit=500&page=2')).json();
    expect(capped.meta).toEqual({ page: 2, limit: 100, total: 122, totalPages: 2 });
    expect(capped.data).toHaveLength(22);
    const q = (await call(emu.url, '/api/v2/resources?type=storage&q=DS11&sort=name&order=desc')).json();
    expect(q.data.map((r: { name: string }) => r.name)).toEqual([
      'tank/ds119',
      'tank/ds118',
      'tank/ds117',
      'tank/ds116',
      'tank/ds115',
      'tank/ds114',
      'tank/ds113',
      'tank/ds112',
      'tank/ds111',
      'tank/ds110',
    ]);
    expect((await call(emu.url, '/api/v2/resources?type=host')).json().meta.total).toBe(1);
    expect((await call(emu.url, '/api/v2/resources?status=offline')).json().meta.total).toBe(0);
  });

  it('classifies failures per TRR-06 (401 → auth, 504 → timeout, refused → connection, 500 → api, slow → timeout)', async () => {
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'c1' }) });
    const cases: Array<[Parameters<FakeTrueNAS['setFault']>[0], string]> = [
      [{ status: 401 }, 'auth'],
      [{ status: 403 }, 'auth'],
      [{ status: 504 }, 'timeout'],
      [{ status: 500 }, 'api'],
      [{ delayMs: 1000 }, 'timeout'],
      [{ down: true }, 'connection'],
    ];
    for (const [fault, errorType] of cases) {
      await fake.setFault(fault);
      await emu.control.tick();
      const text = await metricsText(emu);
      expect(metricLine(text, 'pulse_monitor_poll_errors_total', 'c1')).toBeDefined();
      expect(text).toContain(`pulse_monitor_poll_errors_total{error_type="${errorType}",instance="c1",instance_type="truenas"}`);
    }
    await fake.setFault(null);
    const text = await metricsText(emu);
    expect(text).toContain('pulse_monitor_poll_errors_total{error_type="auth",instance="c1",instance_type="truenas"} 2');
    expect(text).toContain('pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="error"} 6');
    expect(text).toContain('pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} -1');
    expect(emu.logs[0]).toMatch(
      /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[TrueNASPoller\] Refresh failed for c1: fetch truenas system info: truenas request GET \/system\/info failed: status=401 body=/,
    );
    expect(emu.logs.some((l) => l.includes('dial tcp 127.0.0.1:') && l.includes('connect: connection refused'))).toBe(true);
    expect(emu.logs.join('\n')).not.toContain('fake-key-123456');
  });

  it('keeps the previous snapshot on failure and measures staleness from the last success', async () => {
    await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'c1' }) });
    await emu.control.tick();
    let text = await metricsText(emu);
    expect(text).toContain('pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="success"} 1');
    expect(text).toContain('pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} 0');
    const lastSuccess = Number(metricLine(text, 'pulse_monitor_poll_last_success_timestamp', 'c1')!.split(' ')[1]);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(5);
    const before = (await call(emu.url, '/api/v2/resources')).json().data;
    await new Promise((r) => setTimeout(r, 1100));
    await fake.setFault({ status: 500 });
    await emu.control.tick();
    text = await metricsText(emu);
    const staleness = Number(metricLine(text, 'pulse_monitor_poll_staleness_seconds', 'c1')!.split(' ')[1]);
    expect(staleness).toBeGreaterThanOrEqual(1);
    const after = (await call(emu.url, '/api/v2/resources')).json().data;
    expect(after).toEqual(before); // same records, same (now ageing) lastSeen, still "online"
  });

  it('logs a bad host on every tick and never polls it (no metrics)', async () => {
    await call(emu.url, C, { method: 'POST', body: { id: 'bad', host: 'ftp://nas', apiKey: 'k', enabled: true } });
    await emu.control.tick();
    await emu.control.tick();
    expect(
      emu.logs.filter((l) =>
        l.includes('[TrueNASPoller] Failed to initialize client for connection "bad": unsupported truenas scheme "ftp"'),
      ),
    ).toHaveLength(2);
    expect(await metricsText(emu)).not.toContain('instance="bad"');
  });

  it('requires the metrics token when PULSE_METRICS_TOKEN is set', async () => {
    const guarded = await startTestEmulator({ metricsToken: 'metrics-secret' });
    try {
      expect((await fetch(guarded.metricsUrl)).status).toBe(401);
      const ok = await fetch(guarded.metricsUrl, { headers: { Authorization: 'Bearer metrics-secret' } });
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(text).toMatch(/^# HELP process_cpu_seconds_total/);
      expect(text).toMatch(/\nprocess_resident_memory_bytes \d/);
      expect(text).toMatch(/\nprocess_start_time_seconds \d\.\d+e\+09\n/);
    } finally {
      await guarded.dispose();
    }
  });
});

describe('emulator kill-switch (tick 1 s, stale 2 s)', () => {
  let fake: FakeTrueNAS;
  beforeAll(async () => {
    fake = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
  });
  afterAll(() => fake.close());

  it('feb: source stays "online" while lastSeen ages; list [] at once; resources vanish on the next tick; gauges freeze', async () => {
    const own = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
    const emu = await startTestEmulator({ profile: 'feb', tickSeconds: 1, staleSeconds: 2 });
    try {
      await call(emu.url, C, { method: 'POST', body: own.connection({ id: 'k1' }) });
      await waitFor(async () => (await call(emu.url, '/api/v2/resources')).json().meta.total === 4);
      await own.setFault({ down: true });
      await new Promise((r) => setTimeout(r, 2500));
      const ageing = (await call(emu.url, '/api/v2/resources')).json().data;
      expect(ageing).toHaveLength(4);
      for (const r of ageing) {
        expect(r.status).toBe('online');
        expect(r.sourceStatus.truenas.status).toBe('online'); // the Feb caveat: never "stale"
        expect(Date.now() - Date.parse(r.sourceStatus.truenas.lastSeen)).toBeGreaterThan(2000);
      }
      await call(emu.url, `${C}/k1`, { method: 'DELETE' });
      expect((await call(emu.url, C)).text).toBe('[]\n');
      const frozen = metricLine(await metricsText(emu), 'pulse_monitor_poll_last_success_timestamp', 'k1');
      await waitFor(async () => (await call(emu.url, '/api/v2/resources')).json().meta.total === 0, 4000);
      const sources = (await call(emu.url, '/api/v2/resources?source=truenas')).json();
      expect(sources.data).toEqual([]);
      await new Promise((r) => setTimeout(r, 1200));
      const text = await metricsText(emu);
      expect(metricLine(text, 'pulse_monitor_poll_last_success_timestamp', 'k1')).toBe(frozen); // never deleted, never updated
      expect(metricLine(text, 'pulse_monitor_poll_errors_total', 'k1')).toMatch(/error_type="connection"/);
    } finally {
      await emu.dispose();
      await own.close();
    }
  });

  it('v6: resources are listed only after a frontend-state build (GET /api/state), as on a headless real Pulse', async () => {
    const emu = await startTestEmulator({ profile: 'v6', enableTrueNAS: undefined, tickSeconds: 1, staleSeconds: 60 });
    try {
      await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'h1' }) });
      await waitFor(async () => Boolean((await call(emu.url, C)).json()[0].poll.lastSuccessAt));
      await new Promise((r) => setTimeout(r, 1500)); // more polls: still nothing listed without a build
      expect((await call(emu.url, '/api/resources?source=truenas')).json().meta.total).toBe(0);
      expect((await call(emu.url, '/api/state')).status).toBe(200);
      expect((await call(emu.url, '/api/resources?source=truenas')).json().meta.total).toBe(4);
      expect((await emu.control.state()).resourceStore).toMatchObject({ builds: 1, refreshOnStateBuild: true });
    } finally {
      await emu.dispose();
    }
  });

  it('v6: a poll in flight is not listed; it is recorded when it ends, with the same instant as its outcome (as Pulse does)', async () => {
    const own = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
    const emu = await startTestEmulator({ profile: 'v6', enableTrueNAS: undefined, tickSeconds: 60, pollTimeoutMs: 5000 });
    try {
      await call(emu.url, C, { method: 'POST', body: own.connection({ id: 'f1' }) });
      await own.setFault({ status: 500, delayMs: 800, paths: ['/api/v2.0/pool'] });
      const tick = emu.control.tick();
      await waitFor(async () => own.requests().some((r) => r.path === '/api/v2.0/system/info'));
      // Mid-poll (the pool request is being held): no attempt yet, so no reader can take it for a success.
      expect((await call(emu.url, C)).json()[0].poll).toEqual({ intervalSeconds: expect.any(Number) });
      await tick;
      const poll = (await call(emu.url, C)).json()[0].poll;
      expect(poll).toMatchObject({ consecutiveFailures: 1, lastError: { category: 'api', at: poll.lastAttemptAt } });
      expect(poll.lastSuccessAt).toBeUndefined();
    } finally {
      await emu.dispose();
      await own.close();
    }
  });

  it('v6: a failing poll keeps the cached records, which a build marks stale (online → warning) after the threshold', async () => {
    const own = await startFakeTrueNAS({ apiKey: 'fake-key-123456' });
    const emu = await startTestEmulator({ profile: 'v6', enableTrueNAS: undefined, tickSeconds: 1, staleSeconds: 2 });
    try {
      await call(emu.url, C, { method: 'POST', body: own.connection({ id: 'k3' }) });
      await waitFor(async () => (await call(emu.url, '/api/state')).json().resources.length === 4);
      await own.setFault({ status: 500 });
      const stale = await waitFor(async () => {
        await call(emu.url, '/api/state');
        const data = (await call(emu.url, '/api/resources')).json().data;
        return (
          data.length === 4 &&
          data.every((r: { sourceStatus: { truenas: { status: string } } }) => r.sourceStatus.truenas.status === 'stale') &&
          data
        );
      }, 5000);
      expect(stale.every((r: { status: string }) => r.status === 'warning')).toBe(true);
    } finally {
      await emu.dispose();
      await own.close();
    }
  });

  it('v6: after a kill-switch the resources stay listed until a build after the next tick, then are gone (not stale)', async () => {
    const emu = await startTestEmulator({ profile: 'v6', enableTrueNAS: undefined, tickSeconds: 1, staleSeconds: 2 });
    try {
      await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'k2' }) });
      await waitFor(async () => (await call(emu.url, '/api/state')).json().resources.length === 4);
      expect((await call(emu.url, '/api/v2/resources')).status).toBe(404);
      const agent = (await call(emu.url, '/api/resources?type=host')).json().data[0];
      expect(agent.type).toBe('agent');
      rmSync(join(emu.dataDir, 'truenas.enc')); // kill-switch by deleting the store, as the runbook allows
      expect((await call(emu.url, C)).text).toBe('[]\n');
      await waitFor(async () => (await emu.control.state()).providers.length === 0, 3000);
      // No build since: the old list is still served, all online, as real Pulse does with no browser open.
      const unrefreshed = (await call(emu.url, '/api/resources')).json().data;
      expect(unrefreshed).toHaveLength(4);
      expect(unrefreshed.every((r: { sourceStatus: { truenas: { status: string } } }) => r.sourceStatus.truenas.status === 'online')).toBe(
        true,
      );
      await call(emu.url, '/api/state');
      expect((await call(emu.url, '/api/resources')).json().meta.total).toBe(0);
    } finally {
      await emu.dispose();
    }
  });

  it('v6 logs zerolog JSON with component truenas_poller', async () => {
    const emu = await startTestEmulator({ profile: 'v6', enableTrueNAS: undefined });
    try {
      await call(emu.url, C, { method: 'POST', body: fake.connection({ id: 'z1', apiKey: 'wrong-key' }) });
      await emu.control.tick();
      const line = JSON.parse(emu.logs[0]);
      expect(line).toMatchObject({
        level: 'warn',
        component: 'truenas_poller',
        connection_id: 'z1',
        message: 'TrueNAS poller refresh failed',
      });
      expect(line.error).toContain('status=401');
    } finally {
      await emu.dispose();
    }
  });

  it('does not poll at all when the flag was off at start', async () => {
    const emu = await startTestEmulator({ profile: 'feb', enableTrueNAS: undefined, tickSeconds: 1 });
    try {
      const before = fake.requests().length;
      const state = await emu.control.tick();
      expect(state).toMatchObject({ flag: { raw: null, enabled: false }, poller: { running: false, tick: 0 } });
      expect(fake.requests().length).toBe(before);
      expect(await metricsText(emu)).not.toContain('pulse_monitor_poll_total');
    } finally {
      await emu.dispose();
    }
  });
});
