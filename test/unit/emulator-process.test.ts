import { existsSync } from 'node:fs';
import { spawnEmulator, type EmulatorProcess } from '../../src/emulator/process.js';
import { call, quickSetupAdmin, waitFor } from '../support/emulator.js';

const C = '/api/truenas/connections';
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('emulator as a real process (spawnEmulator)', () => {
  let emu: EmulatorProcess | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it('prints its listening line, serves the API and metrics, logs like Pulse, survives a restart with the flag changed', async () => {
    emu = await spawnEmulator({
      profile: 'feb',
      enableTrueNAS: 'yes',
      env: { PULSE_EMULATOR_DEMO_TRUENAS: '1', PULSE_EMULATOR_DEMO_TRUENAS_KEY: 'demo-key-123456' },
    });
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(emu.pid).not.toBe(process.pid);
    expect(alive(emu.pid)).toBe(true);
    const truenasPort = Number(new URL(emu.truenasUrl!).port);

    const token = await quickSetupAdmin(emu.url, emu.dataDir);
    const created = await call(emu.url, C, {
      method: 'POST',
      token,
      body: { id: 'demo', name: 'demo', host: 'http://127.0.0.1', port: truenasPort, apiKey: 'demo-key-123456', enabled: true },
    });
    expect(created.status).toBe(201);
    await call(emu.url, C, {
      method: 'POST',
      token,
      body: { id: 'wrong', host: 'http://127.0.0.1', port: truenasPort, apiKey: 'not-the-key', enabled: true },
    });
    await emu.control.tick();
    const resources = (await call(emu.url, '/api/v2/resources?source=truenas', { token })).json();
    expect(resources.meta.total).toBe(4);
    const metrics = await (await fetch(emu.metricsUrl)).text();
    expect(metrics).toContain('pulse_monitor_poll_errors_total{error_type="auth",instance="wrong",instance_type="truenas"}');
    await waitFor(async () => emu!.logs().includes('[TrueNASPoller] Refresh failed for wrong: '));
    expect(emu.logs()).not.toContain('not-the-key');
    expect(emu.logs()).not.toContain(token);

    const oldPid = emu.pid;
    emu = await emu.restart({ enableTrueNAS: 'ture' }); // a typo: off in Feb
    expect(alive(oldPid)).toBe(false);
    const disabled = await call(emu.url, C, { token });
    expect(disabled.status).toBe(404);
    expect(disabled.json()).toMatchObject({ code: 'truenas_disabled', error: 'TrueNAS integration is not enabled' });
    expect((await call(emu.url, '/api/v2/resources', { token })).json().meta.total).toBe(0);
  });

  it('stops cleanly on SIGTERM and removes a data dir it created', async () => {
    const proc = await spawnEmulator({ profile: 'v6' });
    expect((await call(proc.url, '/api/truenas/connections')).status).toBe(200); // v6: unset flag means on
    await proc.stop();
    expect(alive(proc.pid)).toBe(false);
    expect(proc.logs()).toContain('emulator stopped (SIGTERM)');
    expect(existsSync(proc.dataDir)).toBe(false);
  });

  it('fails with a clear error that includes stderr when the configuration is invalid', async () => {
    await expect(spawnEmulator({ env: { PULSE_EMULATOR_PROFILE: 'v7' } })).rejects.toThrow(
      /emulator exited before listening .*PULSE_EMULATOR_PROFILE must be "feb" or "v6"/s,
    );
  });
});
