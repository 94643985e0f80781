/**
 * Enable refuses bad input clearly and changes nothing it did not mean to: an env file that cannot be written, a
 * restart command that fails, a Pulse that never comes back. Same setup as enable-disable.test.ts: the emulator
 * run as a service that reads a real env file, restarted only by the command the workflow runs.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { DisableInputSchema } from '../../src/config/disable.js';
import { EnableInputSchema, type EnableInputRaw } from '../../src/config/enable.js';
import { PulseDisabledError } from '../../src/pulse/errors.js';
import type { Progress } from '../../workflows/support/evidence-log.js';
import { uniqueId } from '../support/e2e.js';
import {
  enableDisableTemporal,
  flagLines,
  startPulseService,
  type EnableDisableTemporal,
  type PulseService,
} from '../support/pulse-service.js';
import { progressQuery } from '../../workflows/procedure.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';

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

function enableInput(s: PulseService, extra: Partial<EnableInputRaw> = {}) {
  return EnableInputSchema.parse({
    pulse: { url: s.url, token: { env: s.tokenEnv }, timeoutMs: 3000 },
    flag: { kind: 'env-file', path: s.envFile },
    restart: { kind: 'command', argv: s.argv('restart'), healthTimeoutMs: 20_000, healthIntervalMs: 100 },
    logs: { kind: 'file', path: s.logFile },
    connection: { name: 'nas-1', host: 'http://127.0.0.1', port: fake.port, apiKey: { env: keyEnv } },
    appearWithinSeconds: 15,
    verifyEverySeconds: 0.25,
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    ...extra,
  });
}

/** Runs a workflow to its end and returns the failure (type and message of the root cause) and its evidence. */
async function runExpectingFailure(
  input: unknown,
  type: typeof ENABLE_WORKFLOW | typeof DISABLE_WORKFLOW = ENABLE_WORKFLOW,
): Promise<{ type?: string; message: string; progress: Progress }> {
  const handle: WorkflowHandle = await temporal.client.workflow.start(type, {
    taskQueue: temporal.taskQueue,
    workflowId: uniqueId(type),
    args: [input],
  });
  return temporal.withWorker(async () => {
    const err = await handle.result().then(
      () => {
        throw new Error('the workflow was expected to fail');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let cause = (err as WorkflowFailedError).cause as { type?: string; message: string; cause?: unknown } | undefined;
    while (cause?.cause) cause = cause.cause as typeof cause;
    return { type: cause?.type, message: cause?.message ?? '', progress: await handle.query(progressQuery) };
  });
}

const posts = async (s: PulseService) => (await s.control.requests()).filter((q) => q.method === 'POST');

describe('enable refuses, and leaves things as they were', () => {
  it('an env file that cannot be written (a symlink to a managed file) is refused before anything changes', async () => {
    svc = await startPulseService({ profile: 'feb' });
    const managed = join(svc.dir, 'managed.env');
    await fs.writeFile(managed, '# managed by config management\n');
    await fs.symlink(managed, svc.envFile);
    const pid = await svc.pid();

    const f = await runExpectingFailure(enableInput(svc));
    expect(f.type).toBe('EnvFileNotWritable');
    expect(f.message).toMatch(new RegExp(`Cannot write ${svc.envFile}: it is a symbolic link .*configure the real file's path instead`));
    expect(await fs.readFile(managed, 'utf8')).toBe('# managed by config management\n');
    expect((await fs.lstat(svc.envFile)).isSymbolicLink()).toBe(true);
    expect(svc.invocations('restart')).toBe(0);
    expect(await svc.pid()).toBe(pid);
    expect(await posts(svc)).toEqual([]);
    expect(f.progress.evidence.at(-1)).toMatchObject({ step: 'enable.1', verdict: 'failed' });
  });

  it('a restart command that fails is reported with its output, once, and the flag write is put back', async () => {
    const original = '# Pulse service environment\nTZ=UTC\n';
    svc = await startPulseService({ profile: 'feb', envFile: original });
    const pid = await svc.pid();

    const f = await runExpectingFailure(enableInput(svc, { restart: { kind: 'command', argv: svc.argv('fail') } }));
    expect(f.type).toBe('RestartFailed');
    expect(f.message).toMatch(/failed with exit code 1: Job for pulse.service failed/);
    expect(f.message).toMatch(/The flag in .* was put back to \(unset\), so it matches the running Pulse again/);
    expect(svc.invocations('fail')).toBe(1); // a failed exit is not retried blindly
    expect(await fs.readFile(svc.envFile, 'utf8')).toBe(original);
    expect(await svc.pid()).toBe(pid);
    await expect(svc.pulse.listConnections()).rejects.toBeInstanceOf(PulseDisabledError);
    expect(await posts(svc)).toEqual([]);
    expect(f.progress.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'prereq.1 ok',
      'enable.1 ok',
      'enable.1 ok',
      'enable.2 failed',
    ]);
    expect(f.progress.evidence[2].summary).toMatch(/^Put back after the failed restart/);
    expect(f.message).not.toContain('Undone:'); // the put-back was the undo; nothing else was changed
  });

  it('a Pulse that never comes back fails after the health timeout; the undo puts the flag back and restarts once more', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '' });
    const f = await runExpectingFailure(
      enableInput(svc, { restart: { kind: 'command', argv: svc.argv('restart-broken'), healthTimeoutMs: 2000, healthIntervalMs: 100 } }),
    );
    expect(f.type).toBe('PulseNotHealthy');
    expect(f.message).toContain(`Pulse did not answer 200 on ${svc.url}/api/health within 2000 ms`);
    expect(f.message).toContain(`Undone: put PULSE_ENABLE_TRUENAS in ${svc.envFile} back to (unset)`);
    expect(f.message).toMatch(/Left as it is: Pulse's state after the failed restarts is unknown .*restart it by hand/);
    expect(svc.invocations('restart-broken')).toBe(2); // enable.2, then the undo's one restart
    expect(f.progress.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'prereq.1 ok',
      'enable.1 ok',
      'enable.2 failed',
      'undo.enable ok',
      'undo.enable failed',
    ]);
    expect(await flagLines(svc)).toEqual([]);
  });

  it('with keepOnFailure nothing is undone, and the failure lists exactly what is left', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '' });
    const f = await runExpectingFailure(
      enableInput(svc, {
        keepOnFailure: true,
        restart: { kind: 'command', argv: svc.argv('restart-broken'), healthTimeoutMs: 2000, healthIntervalMs: 100 },
      }),
    );
    expect(f.type).toBe('PulseNotHealthy');
    expect(f.message).toContain(
      `Left as it is: ${svc.envFile} says PULSE_ENABLE_TRUENAS=true (it said (unset)), not yet read by Pulse (no successful restart)`,
    );
    expect(f.message).not.toContain('Undone:');
    expect(svc.invocations('restart-broken')).toBe(1);
    expect(f.progress.evidence.at(-1)).toMatchObject({ step: 'undo.enable', verdict: 'skipped' });
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=true']);
  });
});

describe('a failed enable leaves a known state', () => {
  it("a NAS that refuses the key fails at the connection test in Pulse's words; the connection and the flag are undone, with one restart", async () => {
    svc = await startPulseService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=false\n', tickSeconds: 1 });
    process.env[`${keyEnv}_WRONG`] = 'not-the-key-0000';
    try {
      const f = await runExpectingFailure(
        enableInput(svc, { connection: { name: 'nas-1', host: 'http://127.0.0.1', port: fake.port, apiKey: { env: `${keyEnv}_WRONG` } } }),
      );
      expect(f.type).toBe('ConnectionTestFailed');
      expect(f.message).toContain('status=401');
      expect(f.message).toContain('This means the NAS refused the API key');
      expect(f.message).toMatch(
        /Undone: deleted connection \S+ \(http:\/\/127\.0\.0\.1\) that this run added \(deleted\); put PULSE_ENABLE_TRUENAS in .* back to false; restarted Pulse once/,
      );
      expect(f.message).not.toContain('not-the-key-0000');
      expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=false']);
      expect(svc.invocations('restart')).toBe(2); // enable.2 and the undo's
      await expect(svc.pulse.listConnections()).rejects.toBeInstanceOf(PulseDisabledError); // flag off again
      expect((await svc.control.state()).providers).toEqual([]); // nothing is left polling
      expect(f.progress.evidence.map((e) => e.step)).toEqual(expect.arrayContaining(['enable.6', 'undo.enable']));
    } finally {
      delete process.env[`${keyEnv}_WRONG`];
    }
  });

  it("a poll that fails after a good test fails enable.4 at once with Pulse's category and message, not a missing resource later", async () => {
    svc = await startPulseService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=true\n', tickSeconds: 1 });
    await fake.setFault({ status: 500, paths: ['/api/v2.0/pool'] }); // the test reads only /system/info
    try {
      const f = await runExpectingFailure(enableInput(svc));
      expect(f.type).toBe('TrueNASPollFailed');
      expect(f.message).toMatch(/the poll failed \(category "api"\): .*status=500/);
      expect(f.message).toContain('This means the NAS answered with an error');
      expect(f.message).toMatch(/Undone: deleted connection/);
      expect(f.message).not.toContain('put PULSE_ENABLE_TRUENAS'); // the flag was already true: not this run's change
      expect(svc.invocations('restart')).toBe(0);
      expect(await svc.pulse.listConnections()).toEqual([]);
      const failed = f.progress.evidence.find((e) => e.step === 'enable.4' && e.verdict === 'failed');
      expect(failed?.summary).toContain('Pulse says category "api"');
    } finally {
      await fake.setFault(null);
    }
  });
});

describe('disable refuses to call an unset flag "off" on v6', () => {
  it('flagValue unset on v6: the restarted Pulse still answers an array, so the run fails with FlagNotApplied and says why', async () => {
    svc = await startPulseService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=true\n' });
    const input = DisableInputSchema.parse({
      pulse: { url: svc.url, token: { env: svc.tokenEnv }, timeoutMs: 3000 },
      flag: { kind: 'env-file', path: svc.envFile },
      restart: { kind: 'command', argv: svc.argv('restart'), healthTimeoutMs: 20_000, healthIntervalMs: 100 },
      logs: { kind: 'file', path: svc.logFile },
      flagValue: 'unset',
      staleThresholdSeconds: 2,
      retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    });
    const f = await runExpectingFailure(input, DISABLE_WORKFLOW);
    expect(f.type).toBe('FlagNotApplied');
    expect(f.message).toContain('on v6 (2026-03-30+) an unset PULSE_ENABLE_TRUENAS means ON: run again with flagValue false');
    expect(await flagLines(svc)).toEqual([]); // the line was removed, as asked
    expect(svc.invocations('restart')).toBe(1);
    expect(await svc.pulse.listConnections()).toEqual([]); // still enabled: it answers an array
    expect(f.progress.evidence.map((e) => `${e.step} ${e.verdict}`).slice(-2)).toEqual(['disable.3 failed', 'disable.3 failed']);
  });
});
