/** The `pulse-runbook` program as a person runs it: a real process, real output, real exit codes. */
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { freePort } from '../../src/temporal/dev-server.js';
import { pulseWithConnections, temporalAddress, temporalHarness, type PulseFixture, type TemporalHarness } from '../support/e2e.js';

const bin = path.resolve('bin/pulse-runbook.js');

function cli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], { reject: false, env: { ...env, PULSE_URL: '', PULSE_TOKEN: '' }, timeout: 120_000 });
}

describe('pulse-runbook kill-switch', () => {
  let temporal: TemporalHarness;
  let fx: PulseFixture;
  beforeAll(async () => {
    temporal = await temporalHarness();
    fx = await pulseWithConnections(2);
  });
  afterAll(async () => {
    await fx?.stop();
    await temporal?.close();
  });

  it('refuses to run without a Pulse URL and says which flag to give', async () => {
    const r = await cli(['kill-switch', '--plan'], { TEMPORAL_ADDRESS: temporalAddress() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--pulse-url / PULSE_URL: required');
  });

  it('refuses a bad wait value, naming the flag', async () => {
    const r = await cli(['kill-switch', '--pulse-url', fx.emulator.url, '--tick-seconds', '-5'], { TEMPORAL_ADDRESS: temporalAddress() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/kill-switch --tick-seconds: /);
  });

  it('refuses a bad incident roles file (flag or env var) before Temporal is contacted, naming the flag and the role', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'roles-'));
    const notAList = path.join(dir, 'not-a-list.json');
    const unknownRole = path.join(dir, 'unknown-role.json');
    writeFileSync(notAList, JSON.stringify({ ops: 'olga' }));
    writeFileSync(unknownRole, JSON.stringify({ sales: ['sam'] }));
    const nobody = `127.0.0.1:${await freePort()}`;
    const byFlag = await cli(['kill-switch', '--pulse-url', fx.emulator.url, '--incident-roles-file', notAList], {
      TEMPORAL_ADDRESS: nobody,
    });
    expect(byFlag.exitCode).toBe(2);
    expect(byFlag.stderr).toContain('kill-switch --incident-roles-file (at Pulse Operations): must be a list of names');
    const byEnv = await cli(['kill-switch', '--pulse-url', fx.emulator.url], {
      TEMPORAL_ADDRESS: nobody,
      PULSE_RUNBOOKS_INCIDENT_ROLES_FILE: unknownRole,
    });
    expect(byEnv.exitCode).toBe(2);
    expect(byEnv.stderr).toContain('kill-switch --incident-roles-file: unknown role "sales"');
    const missing = await cli(
      ['rollback', '--repo', dir, '--pulse-url', fx.emulator.url, '--incident-roles-file', path.join(dir, 'nope.json')],
      { TEMPORAL_ADDRESS: nobody },
    );
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--incident-roles-file .*nope\.json: ENOENT/);
    expect((await fx.pulse.listConnections()).length).toBe(2);
  });

  it('--plan prints every step and the exact DELETE calls, and changes nothing', async () => {
    const r = await temporal.withWorker(() =>
      cli(['kill-switch', '--plan', '--pulse-url', fx.emulator.url, '--token-env', fx.tokenEnv, '--tick-seconds', '1'], {
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_TASK_QUEUE: temporal.taskQueue,
        [fx.tokenEnv]: fx.token,
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('PLAN (nothing will be changed)');
    for (const id of fx.ids) expect(r.stdout).toContain(`DELETE ${fx.emulator.url}/api/truenas/connections/${id}`);
    for (const step of ['kill-switch.1', 'kill-switch.2', 'kill-switch.3', 'kill-switch.4', 'kill-switch.5', 'kill-switch.6']) {
      expect(r.stdout).toContain(`[${step}]`);
    }
    expect(r.stdout).not.toContain(fx.token);
    expect((await fx.pulse.listConnections()).length).toBe(2);
  });

  it('a Temporal server that is not there gives a clear error', async () => {
    const port = await freePort();
    const r = await cli(['kill-switch', '--pulse-url', fx.emulator.url], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`Temporal at 127.0.0.1:${port} is not reachable`);
  });
});

describe('pulse-runbook start (the main job)', () => {
  it('starts the embedded dev server and the worker, and runs the labelled demo', async () => {
    const [grpc, ui] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(path.join(tmpdir(), 'start-'));
    const r = await cli(['start', '--once', '--temporal-port', String(grpc), '--ui-port', String(ui), '--data-dir', dataDir], {
      TEMPORAL_ADDRESS: '',
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Temporal 127.0.0.1:${grpc} ready; Web UI http://127.0.0.1:${ui}`);
    expect(r.stdout).toContain('DEMO (no Pulse given)');
    expect(r.stdout).toMatch(/the emulator now lists [1-9]\d* TrueNAS resource\(s\)/);
    expect(r.stdout).toContain('Kill-Switch PLAN (changes nothing)');
    expect(r.stdout).toContain('Needed no restart and no env change');
    expect(r.stdout).toContain('DEMO complete');
  });
});
