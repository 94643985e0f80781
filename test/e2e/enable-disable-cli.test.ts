/**
 * `pulse-runbook enable | disable` as a person runs them: the real CLI (test/support/cli-host.ts) against a real worker, the Temporal dev
 * server and the emulator run as a service that reads a real env file. A plan changes nothing, a run shows progress
 * while it waits, and bad flags are refused naming the flag.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { runCli } from '../support/cli-host.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { temporalAddress } from '../support/e2e.js';
import {
  enableDisableTemporal,
  flagLines,
  startPulseService,
  type EnableDisableTemporal,
  type PulseService,
} from '../support/pulse-service.js';

let temporal: EnableDisableTemporal;
let svc: PulseService | undefined;
let fake: FakeTrueNAS;
const key = randomBytes(20).toString('hex');
const keyEnv = `TRUENAS_E2E_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  temporal = await enableDisableTemporal();
  process.env[keyEnv] = key;
  fake = await startFakeTrueNAS({ apiKey: key });
});
afterAll(async () => {
  await fake?.close();
  delete process.env[keyEnv];
  await temporal?.close();
});
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

const posts = async (s: PulseService) => (await s.control.requests()).filter((q) => q.method === 'POST');

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, {
    env: { ...env, PULSE_URL: '', PULSE_TOKEN: '', TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue },
    timeoutMs: 120_000,
  });
}

function hostFlags(s: PulseService): string[] {
  return [
    '--pulse-url',
    s.url,
    '--token-env',
    s.tokenEnv,
    '--flag-env-file',
    s.envFile,
    '--restart-cmd',
    JSON.stringify(s.argv('restart')),
    '--log-file',
    s.logFile,
    '--health-timeout-ms',
    '20000',
  ];
}

describe('pulse-runbook enable | disable', () => {
  it('enable --plan prints every step with the exact file, command and HTTP calls, warns about http:// without a port, and changes nothing', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '# Pulse\n' });
    const r = await temporal.withWorker(() =>
      cli([
        'enable',
        '--plan',
        ...hostFlags(svc!),
        '--connection-name',
        'nas-1',
        '--connection-host',
        'http://127.0.0.1',
        '--api-key-env',
        keyEnv,
      ]),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('PLAN (nothing will be changed)');
    for (const step of ['prereq.1', 'enable.1', 'enable.2', 'enable.3', 'enable.4', 'enable.5', 'enable.6', 'enable.7'])
      expect(r.stdout).toContain(`[${step}]`);
    expect(r.stdout).toContain(`write ${svc.envFile}: `);
    expect(r.stdout).toContain(`$ ${svc.argv('restart').join(' ')}`);
    expect(r.stdout).toMatch(
      new RegExp(
        `POST ${svc.url}/api/truenas/connections \\{"id":"[0-9a-f-]{36}","name":"nas-1","host":"http://127.0.0.1","apiKey":"\\*{8}","enabled":true\\}`,
      ),
    );
    expect(r.stdout).toContain('host http://127.0.0.1 is http:// but has no port field: Pulse dials HTTPS when port is 0');
    expect(r.stdout).toContain(
      `read ${svc.logFile}: read only what Pulse writes after the restart (from where the file ends just before it)`,
    );
    expect(r.stdout).toContain('Plan complete, nothing was changed');
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).not.toContain(svc.token);
    expect(await fs.readFile(svc.envFile, 'utf8')).toBe('# Pulse\n');
    expect(svc.invocations('restart')).toBe(0);
    expect(await posts(svc)).toEqual([]);
  });

  it('enable --plan --use-https / --no-use-https with --connection-port: the POST body says exactly how Pulse dials the NAS', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '# Pulse\n' });
    const base = ['enable', '--plan', ...hostFlags(svc), '--connection-name', 'nas-1', '--api-key-env', keyEnv];
    const [plain, tls] = await temporal.withWorker(() =>
      Promise.all([
        cli([...base, '--connection-host', '10.0.0.5', '--connection-port', '80', '--no-use-https']),
        cli([...base, '--connection-host', 'truenas.local', '--connection-port', '443', '--use-https']),
      ]),
    );
    expect([plain.exitCode, tls.exitCode]).toEqual([0, 0]);
    expect(plain.stdout).toMatch(/POST [^\n]*\/api\/truenas\/connections \{[^\n]*"host":"10\.0\.0\.5","port":80,[^\n]*"useHttps":false/);
    expect(tls.stdout).toMatch(/POST [^\n]*\/api\/truenas\/connections \{[^\n]*"host":"truenas\.local","port":443,[^\n]*"useHttps":true/);
  });

  it('disable --plan changes nothing; disable shows progress while it waits the staleness window and reports what it saw (feb: resources vanish)', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: 'PULSE_ENABLE_TRUENAS=true\n' });
    await svc.pulse.addConnection(fake.connection({ name: 'nas-1' }));
    await svc.control.tick();
    expect((await svc.pulse.listTrueNASResources()).resources).toHaveLength(4);

    const flags = [
      ...hostFlags(svc),
      '--stale-seconds',
      '3',
      '--grace-seconds',
      '5',
      '--verify-every-seconds',
      '0.25',
      '--max-attempts',
      '3',
    ];

    // First the plan: the write, the restart command and the wait are listed, and nothing happens.
    const plan = await temporal.withWorker(() => cli(['disable', '--plan', ...flags]));
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain(`write ${svc.envFile}: line 1: PULSE_ENABLE_TRUENAS=true → line 1: PULSE_ENABLE_TRUENAS=false`);
    expect(plan.stdout).toContain(`$ ${svc.argv('restart').join(' ')}`);
    expect(plan.stdout).toContain('wait 3 s: Pulse marks the TrueNAS source stale');
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=true']);
    expect(svc.invocations('restart')).toBe(0);

    const r = await temporal.withWorker(() => cli(['disable', ...flags]));
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('… waiting for the 3 s TrueNAS staleness window after the restart [disable.4]');
    expect(r.stdout).toMatch(
      /✔ \[disable.3\] Verify the poller is not running\n {4}GET \/api\/truenas\/connections answered 404 truenas_disabled/,
    );
    expect(r.stdout).toContain('Disable complete: PULSE_ENABLE_TRUENAS=false written to');
    expect(r.stdout).toContain('no TrueNAS resource is listed (they vanished; 4 before)');
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=false']);
    expect(svc.invocations('restart')).toBe(1);
  });

  it('enable --flag-env-file creates an env file that does not exist yet (0600), restarts Pulse and completes (issue 13, defect 1)', async () => {
    // Before: the flag was --env-file, which Node itself reads; a missing file made Node exit 9 ("node: …: not
    // found") before the CLI ran, so Enable could not create it from the CLI.
    svc = await startPulseService({ profile: 'feb' });
    await expect(fs.stat(svc.envFile)).rejects.toMatchObject({ code: 'ENOENT' });
    const r = await temporal.withWorker(() =>
      cli(['enable', ...hostFlags(svc!), '--appear-within-seconds', '2', '--verify-every-seconds', '0.5']),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Enable complete: PULSE_ENABLE_TRUENAS=true written to ${svc.envFile}; Pulse restarted`);
    expect(await fs.readFile(svc.envFile, 'utf8')).toBe('PULSE_ENABLE_TRUENAS=true\n');
    expect((await fs.stat(svc.envFile)).mode & 0o777).toBe(0o600);
    expect(svc.invocations('restart')).toBe(1);
    expect(await svc.pulse.listConnections()).toEqual([]);
  });

  it('bad flags are refused before anything starts, naming the flag', async () => {
    const url = 'http://127.0.0.1:9';
    const [notJson, withPath, noKey, badValue] = await Promise.all([
      cli(['enable', '--pulse-url', url, '--restart-cmd', 'systemctl restart pulse']),
      cli(['enable', '--pulse-url', url, '--connection-host', 'https://nas/ui', '--api-key-env', 'K']),
      cli(['enable', '--pulse-url', url, '--connection-host', 'nas.local']),
      cli(['disable', '--pulse-url', url, '--flag-value', 'off']),
    ]);
    for (const r of [notJson, withPath, noKey, badValue]) expect(r.exitCode).toBe(2);
    expect(notJson.stderr).toContain('--restart-cmd: must be a JSON array of strings');
    expect(withPath.stderr).toContain('enable --connection-host: must be an address without a path or query');
    expect(noKey.stderr).toMatch(/enable --api-key-env \/ --api-key-file: is required: must be a reference/);
    expect(badValue.stderr).toContain('disable --flag-value:');
  });
});
