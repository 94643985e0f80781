/**
 * `pulse-runbook doctor` finds each problem the issue lists, planted one at a time (issue 15): a wrong Temporal
 * address, no worker, a payload key mismatch, the token missing on the worker (though set in the operator's shell),
 * Pulse answering 401, and a flag file that cannot be written even by root (its parent is a regular file). Each
 * time the planted check is the only one that fails, the checks that depend on it are skipped, and the exit is 2.
 *
 * Real processes throughout: the CLI, a `pulse-runbook worker` with its own environment and key file, the emulator
 * with authentication on, and the e2e dev server.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { runCli } from '../support/cli-host.js';
import { checkWorkersCanRead } from '../../src/cli/codec-check.js';
import type { CheckId, CheckResult } from '../../src/doctor/check.js';
import { readActorHeader } from '../../src/identity/header.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { pulseWithConnections, temporalAddress, uniqueId, type PulseFixture } from '../support/e2e.js';
import { startKeyedWorker, type KeyedWorker } from '../support/keyed-worker.js';

const bin = path.resolve('bin/pulse-runbook.js');
let dir: string;
let keysA: string;
let keysB: string;
let fx: PulseFixture;
let keyed: KeyedWorker;
let taskQueue: string;
/** Set in the worker's environment only, to a token Pulse does not know. */
const wrongTokenEnv = `DOCTOR_WRONG_TOKEN_${randomBytes(3).toString('hex').toUpperCase()}`;
/** Set in the operator's shell (the CLI) only: the worker, which reads the token, does not have it. */
const shellOnlyEnv = `DOCTOR_SHELL_TOKEN_${randomBytes(3).toString('hex').toUpperCase()}`;

interface DoctorJson {
  ok: boolean;
  checks: CheckResult[];
}

async function doctor(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(['doctor', '--json', ...args], {
    timeoutMs: 120_000,
    env: {
      PULSE_URL: '',
      PULSE_TOKEN: '',
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysA,
      ...env,
    },
  });
  let json: DoctorJson;
  try {
    json = JSON.parse(String(r.stdout)) as DoctorJson;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
  const byId = (id: CheckId) => {
    const c = json.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id} in ${JSON.stringify(json.checks)}`);
    return c;
  };
  const failed = json.checks.filter((c) => c.status === 'fail').map((c) => c.id);
  return { exitCode: r.exitCode, stderr: String(r.stderr), json, byId, failed };
}

/** The flags of a healthy setup; each test replaces one of them. */
function goodFlags(over: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    '--pulse-url': fx.emulator.url,
    '--token-env': fx.tokenEnv,
    '--flag-env-file': path.join(dir, 'pulse.env'),
    '--restart-cmd': JSON.stringify([process.execPath, '--version']),
    '--data-dir': dir,
    ...over,
  };
  return Object.entries(flags).flat();
}

beforeAll(async () => {
  fx = await pulseWithConnections(1);
  keyed = await startKeyedWorker('doctor', {
    [fx.tokenEnv]: fx.token,
    [wrongTokenEnv]: randomBytes(32).toString('hex'),
    [shellOnlyEnv]: undefined,
  });
  ({ dir, keysA, keysB, taskQueue } = keyed);
  // The worker is "polling" for DescribeTaskQueue once its first poll reached the server.
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const client = new Client({ connection });
    for (let i = 0; i < 100; i++) {
      const seen = await checkWorkersCanRead(client, 'default', taskQueue, undefined);
      if (seen.checked.length + seen.unknown.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await connection.close();
  }
});
afterAll(async () => {
  await keyed?.stop();
  await fx?.stop();
});

describe('pulse-runbook doctor', () => {
  it('a healthy setup: every check passes (Prometheus not configured is skipped), exit 0, and the table names each check', async () => {
    const r = await doctor(goodFlags());
    expect(r.failed).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.json.ok).toBe(true);
    for (const id of [
      'temporal',
      'namespace',
      'worker',
      'payload-key',
      'worker-host',
      'token',
      'pulse',
      'pulse-auth',
      'flag',
      'restart',
      'data-dir',
    ] as CheckId[]) {
      expect([id, r.byId(id).status]).toEqual([id, 'ok']);
    }
    expect(r.byId('prometheus').status).toBe('skip');
    expect(r.byId('token').detail).toContain(`read from the environment variable ${fx.tokenEnv}`);
    expect(r.byId('pulse-auth').detail).toContain('scopes settings:read, settings:write, monitoring:read accepted');
    expect(r.byId('pulse-auth').detail).toContain(`the token from the environment variable ${fx.tokenEnv} was accepted`);
    expect(r.byId('pulse-auth').detail).toContain('the Feb 2026 development line');
    // The emulator has API tokens and no password login: told as such, not as "no authentication".
    expect(r.byId('pulse-auth').detail).toContain('Pulse authentication: API tokens only (no password login)');
    expect(r.byId('payload-key').detail).toContain('key "key-a"');
    expect(JSON.stringify(r.json)).not.toContain(fx.token);

    const table = await runCli(['doctor', ...goodFlags()], {
      env: { PULSE_URL: '', TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: taskQueue, PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysA },
    });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/ 1 {2}✔ ok {4}Temporal reachable/);
    expect(table.stdout).toMatch(/ 6 {2}✔ ok {4}Pulse token readable on the worker/);
    expect(table.stdout).toContain('12 checks: 11 ok, 0 failed, 0 warning(s), 1 skipped');
  });

  it('the doctor run on the worker carries who ran the doctor: the client identity and the actor header, like any run', async () => {
    const r = await doctor(goodFlags());
    expect(r.failed).toEqual([]);
    const workflowId = /\(run (doctor-[\w-]+)\)/.exec(r.byId('worker-host').detail)?.[1];
    expect(workflowId).toBeDefined();
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const history = await new Client({ connection }).workflow.getHandle(workflowId!).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const user = userInfo().username;
      expect(started?.identity).toBe(`pulse-runbook:${user}@${hostname()}`);
      expect(readActorHeader(started?.header?.fields)).toMatchObject({ actor: user, actorSource: 'os-user' });
    } finally {
      await connection.close();
    }
  });

  it('wrong Temporal address: Temporal fails with the fix, everything after it is skipped, exit 2', async () => {
    const port = await freePort();
    const r = await doctor(goodFlags(), { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['temporal']);
    expect(r.byId('temporal').detail).toContain(`127.0.0.1:${port} is not reachable`);
    expect(r.byId('temporal').fix).toContain('--temporal-address');
    expect(r.json.checks.slice(1).every((c) => c.status === 'skip' && c.detail.includes('"Temporal reachable"'))).toBe(true);
  });

  it('no worker on the task queue: the worker check fails, naming the queue and how to start one; host checks are skipped', async () => {
    const empty = uniqueId('doctor-empty');
    const r = await doctor(goodFlags(), { TEMPORAL_TASK_QUEUE: empty });
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['worker']);
    expect(r.byId('temporal').status).toBe('ok');
    expect(r.byId('namespace').status).toBe('ok');
    expect(r.byId('worker').detail).toContain(`no worker has polled task queue "${empty}"`);
    expect(r.byId('worker').fix).toContain(`pulse-runbook worker --task-queue ${empty}`);
    expect(r.byId('token').detail).toContain('skipped: depends on "A worker polls the task queue"');
  });

  it("payload key mismatch: the key check fails naming both keys' ids and the flag; nothing is sent to the worker", async () => {
    const r = await doctor(goodFlags(), { PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysB });
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['payload-key']);
    expect(r.byId('worker').status).toBe('ok');
    expect(r.byId('payload-key').detail).toContain('this command encrypts with key "key-b"');
    expect(r.byId('payload-key').detail).toContain('--codec-keys-file');
    expect(r.byId('worker-host').status).toBe('skip');
  });

  it("token set in the operator's shell but not on the worker: the token check fails on the worker and says the worker reads it", async () => {
    const r = await doctor(goodFlags({ '--token-env': shellOnlyEnv }), { [shellOnlyEnv]: fx.token });
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['token']);
    expect(r.byId('token').detail).toContain(`The Pulse token environment variable ${shellOnlyEnv} is not set`);
    expect(r.byId('token').fix).toContain("the token is read on the worker's host, not in this shell");
    expect(r.byId('token').fix).toContain('--token-file');
    expect(r.byId('pulse').status).toBe('skip');
    expect(r.byId('flag').status).toBe('ok');
  });

  it('Pulse answers 401 to the token the worker holds: the auth check fails naming the scopes to give', async () => {
    const r = await doctor(goodFlags({ '--token-env': wrongTokenEnv }));
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['pulse-auth']);
    expect(r.byId('token').status).toBe('ok');
    expect(r.byId('pulse').status).toBe('ok');
    expect(r.byId('pulse-auth').detail).toContain(`Pulse answered 401 to the token from the environment variable ${wrongTokenEnv}`);
    expect(r.byId('pulse-auth').fix).toContain('settings:read, settings:write, monitoring:read');
  });

  it('a flag file no one can write (its parent is a regular file, so even root cannot): the flag check fails', async () => {
    const notDir = path.join(dir, 'not-a-directory');
    writeFileSync(notDir, 'a regular file\n');
    const r = await doctor(goodFlags({ '--flag-env-file': path.join(notDir, 'pulse.env') }));
    expect(r.exitCode).toBe(2);
    expect(r.failed).toEqual(['flag']);
    expect(r.byId('flag').detail).toContain('a parent of it is not a directory');
    expect(r.byId('flag').fix).toContain('--flag-env-file');
    expect(r.byId('restart').status).toBe('ok');
  });
});

describe('the preflight of a destructive procedure', () => {
  const ks = (extra: string[], env: Record<string, string> = {}) =>
    execa(
      process.execPath,
      [
        bin,
        'kill-switch',
        '--pulse-url',
        fx.emulator.url,
        '--tick-seconds',
        '1',
        '--stale-seconds',
        '2',
        '--verify-every-seconds',
        '0.5',
        ...extra,
      ],
      {
        reject: false,
        timeout: 120_000,
        env: {
          PULSE_URL: '',
          PULSE_TOKEN: '',
          TEMPORAL_ADDRESS: temporalAddress(),
          TEMPORAL_TASK_QUEUE: taskQueue,
          PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysA,
          ...env,
        },
      },
    );

  /** The static details of the latest kill-switch run on this Pulse, read with the worker's key. */
  async function runDetails(): Promise<string | undefined> {
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const client = new Client({ connection, dataConverter: loadCodec(keysA).dataConverter });
      const described = await client.workflow.getHandle(`kill-switch@127.0.0.1:${new URL(fx.emulator.url).port}`).describe();
      return await described.staticDetails();
    } finally {
      await connection.close();
    }
  }

  it('stops a Kill-Switch whose token the worker lacks before anything changes; --no-preflight starts it anyway (and the worker says where the token is read); with the token it passes and runs', async () => {
    expect(await fx.pulse.listConnections()).toHaveLength(1);
    const refused = await ks(['--token-env', shellOnlyEnv], { [shellOnlyEnv]: fx.token });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('preflight check "Pulse token readable on the worker" failed');
    expect(refused.stderr).toContain("fix: the token is read on the worker's host, not in this shell");
    expect(refused.stderr).toContain('kill-switch was not started and nothing was changed');
    expect(refused.stdout).not.toContain('workflow kill-switch@');
    expect(await fx.pulse.listConnections()).toHaveLength(1);

    const forced = await ks(['--token-env', shellOnlyEnv, '--no-preflight'], { [shellOnlyEnv]: fx.token });
    expect(forced.stderr).toContain('warning: preflight checks skipped (--no-preflight)');
    expect(forced.exitCode).toBe(1);
    expect(forced.stderr).toContain(`The Pulse token environment variable ${shellOnlyEnv} is not set on the worker's host`);
    expect(forced.stderr).toContain('an export in your shell does not reach it');
    expect(await fx.pulse.listConnections()).toHaveLength(1);
    expect(await runDetails()).toContain('Preflight checks skipped with --no-preflight');

    const ok = await ks(['--token-env', fx.tokenEnv]);
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/Preflight passed: worker ok, payload-key ok, worker-host ok, token ok, pulse ok, pulse-auth ok\./);
    expect(ok.stdout).toContain('Kill-Switch complete: 1 deleted');
    expect(await fx.pulse.listConnections()).toHaveLength(0);
    expect(await runDetails()).toContain('Preflight passed: worker ok');
  });
});
