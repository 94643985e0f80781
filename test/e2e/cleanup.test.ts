/**
 * The Data Cleanup end to end: the real Temporal dev server and worker, and the emulator as a real process whose
 * data directory holds a real truenas.enc (written by adding connections) and a real .encryption.key. The
 * workflow's "list is []" check reads the same directory through the emulator, as Pulse does.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-host.js';
import type { DataCleanupInputRaw } from '../../src/config/data-cleanup-input.js';
import type { DataCleanupResult } from '../../workflows/data-cleanup.js';
import { snapshotDir, without } from '../support/cleanup-snapshot.js';
import {
  pulseWithConnections,
  temporalAddress,
  temporalHarness,
  uniqueId,
  type PulseFixture,
  type TemporalHarness,
} from '../support/e2e.js';
import { removeWorkerBundle, startWorkerProcess } from '../support/go-pulse-repo-worker.js';
import { failureOf, startAndSettle, type Settled } from '../support/settle.js';
import { progressQuery } from '../../workflows/procedure.messages.js';
import { DATA_CLEANUP_WORKFLOW, type DataCleanupWorkflow } from '../../workflows/data-cleanup.messages.js';

let temporal: TemporalHarness;
beforeAll(async () => {
  temporal = await temporalHarness();
});
afterAll(async () => {
  await temporal?.close();
  await removeWorkerBundle();
});

function input(fx: PulseFixture, extra: Partial<DataCleanupInputRaw> = {}): DataCleanupInputRaw {
  return {
    pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv }, timeoutMs: 2000 },
    dataDir: fx.emulator.dataDir,
    fileTimeoutSeconds: 5,
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    ...extra,
  };
}

type Run = Settled<DataCleanupResult>;

const runCleanup = (args: DataCleanupInputRaw): Promise<Run> =>
  startAndSettle<DataCleanupWorkflow>(temporal, DATA_CLEANUP_WORKFLOW, args, { idPrefix: 'cleanup' });

describe('data cleanup against the emulator data directory', () => {
  let fx: PulseFixture;
  afterEach(async () => {
    await fx?.stop();
  });

  it('removes truenas.enc and nothing else; Pulse lists []; .encryption.key keeps its inode, size and hash', async () => {
    fx = await pulseWithConnections(2);
    const dir = fx.emulator.dataDir;
    const before = await snapshotDir(dir);
    expect(before['truenas.enc']?.type).toBe('file');
    expect(before['.encryption.key']?.type).toBe('file');

    const run = await runCleanup(input(fx));
    if (!run.ok) throw run.error;
    const r = run.result;

    expect(await snapshotDir(dir)).toEqual(without(before, 'truenas.enc'));
    expect(r.truenasFile).toEqual({
      path: join(dir, 'truenas.enc'),
      outcome: 'removed',
      size: before['truenas.enc'].size,
      sha256: before['truenas.enc'].sha256,
    });
    expect(r.dataDir).toBe(dir);
    expect(r.dataDirSource).toBe('input');
    expect(r.connectionsAfter).toBe('empty');
    expect(r.encryptionKey).toEqual({
      path: join(dir, '.encryption.key'),
      intact: true,
      existed: true,
      ino: String(before['.encryption.key'].ino),
      size: before['.encryption.key'].size,
    });
    // Step 5 read the list through the emulator, which read the same directory.
    const lists = (await fx.emulator.control.requests()).filter((q) => q.method === 'GET' && q.path === '/api/truenas/connections');
    expect(lists.map((q) => q.status)).toEqual([200]);
    expect(await fx.pulse.listConnections()).toEqual([]);

    expect(r.evidence.map((e) => e.step)).toEqual([
      'cleanup.1',
      'cleanup.2',
      'cleanup.3',
      'cleanup.4',
      'cleanup.5',
      'cleanup.6',
      'cleanup.6',
      'cleanup.6',
      'cleanup.7',
    ]);
    expect(r.evidence.every((e) => e.verdict === 'ok')).toBe(true);
    expect(r.evidence[0].summary).toMatch(/worker reads and removes files on its own host/);
    expect(r.evidence[3].actions).toEqual([
      { kind: 'file', op: 'delete', path: join(dir, 'truenas.enc'), change: expect.stringMatching(/one regular file/) },
    ]);
    // The key's hash before and after, from the evidence (never its content).
    const [keyBefore, keyAfter] = [r.evidence[5].details, r.evidence[6].details] as Array<{ sha256: string; ino: string }>;
    expect(keyBefore.sha256).toBe(before['.encryption.key'].sha256);
    expect(keyAfter).toEqual(keyBefore);
    expect(JSON.stringify(r)).not.toContain((await fs.readFile(join(dir, '.encryption.key'), 'utf8')).trim());
    expect(JSON.stringify(await run.handle.fetchHistory())).not.toContain(fx.token);
  });

  it("without dataDir, uses the worker's PULSE_DATA_DIR", async () => {
    fx = await pulseWithConnections(1);
    const args = input(fx);
    delete args.dataDir;
    process.env.PULSE_DATA_DIR = fx.emulator.dataDir;
    try {
      const run = await runCleanup(args);
      if (!run.ok) throw run.error;
      expect(run.result.dataDirSource).toBe('PULSE_DATA_DIR');
      expect(run.result.dataDir).toBe(fx.emulator.dataDir);
      expect(run.result.truenasFile.outcome).toBe('removed');
      expect(run.result.evidence[0].summary).toMatch(/from the worker's PULSE_DATA_DIR/);
    } finally {
      delete process.env.PULSE_DATA_DIR;
    }
  });

  it('plan mode lists each step, the file it would delete and the HTTP check, and changes nothing', async () => {
    fx = await pulseWithConnections(2);
    const dir = fx.emulator.dataDir;
    const before = await snapshotDir(dir);
    const run = await runCleanup(input(fx, { plan: true }));
    if (!run.ok) throw run.error;
    const r = run.result;
    expect(await snapshotDir(dir)).toEqual(before);
    // Plan mode never calls Pulse: the list check is described, not made.
    expect((await fx.emulator.control.requests()).filter((q) => q.path === '/api/truenas/connections' && q.method === 'GET')).toEqual([]);
    expect((await fx.pulse.listConnections()).map((c) => c.id).sort()).toEqual([...fx.ids].sort());
    expect(r.evidence.map((e) => e.step)).toEqual([
      'cleanup.1',
      'cleanup.2',
      'cleanup.3',
      'cleanup.4',
      'cleanup.5',
      'cleanup.6',
      'cleanup.6',
      'cleanup.6',
      'cleanup.7',
    ]);
    expect(r.evidence.find((e) => e.step === 'cleanup.4')?.verdict).toBe('planned');
    const actions = r.evidence.flatMap((e) => e.actions ?? []);
    expect(actions.filter((a) => a.kind === 'file' && a.op === 'delete')).toEqual([
      expect.objectContaining({ path: join(dir, 'truenas.enc') }),
    ]);
    expect(actions).toContainEqual(
      expect.objectContaining({ kind: 'http', method: 'GET', url: `${fx.emulator.url}/api/truenas/connections` }),
    );
    expect(r.evidence[0].summary).toMatch(/own host/);
    expect(r.truenasFile.outcome).toBe('planned');
    expect(r.connectionsAfter).toBeUndefined();
  });

  it('with the integration off, the list cannot be read: step 5 is recorded as skipped and says why', async () => {
    fx = await pulseWithConnections(1);
    // The fixture's stop() knows only the first process: the restarted one is stopped here.
    const restarted = await fx.emulator.restart({ enableTrueNAS: 'false' });
    try {
      fx.emulator = { ...restarted, stop: async () => undefined };
      const run = await runCleanup(input(fx));
      if (!run.ok) throw run.error;
      expect(run.result.truenasFile.outcome).toBe('removed');
      expect(run.result.connectionsAfter).toBe('integration-disabled');
      expect(run.result.evidence.find((e) => e.step === 'cleanup.5')).toMatchObject({
        verdict: 'skipped',
        summary: expect.stringMatching(/404 truenas_disabled/),
      });
    } finally {
      await restarted.stop();
    }
  });
});

describe('data cleanup refuses bad input and changes nothing', () => {
  let fx: PulseFixture;
  let root: string;
  beforeAll(async () => {
    fx = await pulseWithConnections(1);
  });
  afterAll(async () => {
    await fx?.stop();
  });
  beforeEach(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'cleanup-e2e-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a data directory that does not exist', async () => {
    const failure = failureOf(await runCleanup(input(fx, { dataDir: join(root, 'missing') })));
    expect(failure.type).toBe('DataDirInvalid');
    expect(failure.message).toMatch(/does not exist/);
  });

  it('a data directory that is a symlink: refused, not followed', async () => {
    const link = join(root, 'pulse-link');
    await fs.symlink(fx.emulator.dataDir, link);
    const before = await snapshotDir(fx.emulator.dataDir);
    const run = await runCleanup(input(fx, { dataDir: link }));
    const failure = failureOf(run);
    expect(failure.type).toBe('DataDirInvalid');
    expect(failure.message).toMatch(/is a symlink.*refused, not followed/);
    expect(await snapshotDir(fx.emulator.dataDir)).toEqual(before);
    expect(run.progress?.evidence.at(-1)).toMatchObject({ step: 'cleanup.1', verdict: 'failed' });
  });

  it('a truenas.enc that is a symlink: refused, the link and its target stay', async () => {
    const dataDir = join(root, 'data');
    const outside = join(root, 'outside');
    await fs.mkdir(dataDir);
    await fs.mkdir(outside);
    await fs.writeFile(join(outside, 'secret.enc'), 'outside the data dir\n');
    await fs.writeFile(join(dataDir, '.encryption.key'), 'a-key-for-this-test\n', { mode: 0o600 });
    await fs.symlink(join(outside, 'secret.enc'), join(dataDir, 'truenas.enc'));
    const before = { data: await snapshotDir(dataDir), outside: await snapshotDir(outside) };
    const failure = failureOf(await runCleanup(input(fx, { dataDir })));
    expect(failure.type).toBe('TrueNASFileUnsafe');
    expect(failure.message).toMatch(/is a symlink.*not followed/);
    expect({ data: await snapshotDir(dataDir), outside: await snapshotDir(outside) }).toEqual(before);
  });

  it('a data directory without truenas.enc (the runbook requires it), unless allowMissing', async () => {
    const dataDir = join(root, 'data');
    await fs.mkdir(dataDir);
    await fs.writeFile(join(dataDir, '.encryption.key'), 'a-key-for-this-test\n', { mode: 0o600 });
    const failure = failureOf(await runCleanup(input(fx, { dataDir })));
    expect(failure.type).toBe('TrueNASFileMissing');
    // allowMissing: nothing to remove, and the emulator's list is read (it still has its connection: another dir).
    const run = await runCleanup(input(fx, { dataDir, allowMissing: true }));
    const remaining = failureOf(run);
    expect(remaining.type).toBe('ConnectionsRemain');
    expect(remaining.message).toMatch(/probably not the data directory this Pulse uses/);
  });

  it('a relative data directory, refused before any step runs', async () => {
    const failure = failureOf(await runCleanup(input(fx, { dataDir: 'etc/pulse' })));
    expect(failure.type).toBe('InvalidCleanupInput');
    expect(failure.message).toMatch(/dataDir: dataDir must be an absolute path/);
    expect(await fs.stat(join(fx.emulator.dataDir, 'truenas.enc'))).toBeTruthy();
  });
});

describe('data cleanup survives a killed worker', () => {
  let fx: PulseFixture;
  afterEach(async () => {
    await fx?.stop();
  });

  it('a worker killed after the removal is replaced; the file is removed once and the result is right', async () => {
    fx = await pulseWithConnections(2);
    const dir = fx.emulator.dataDir;
    const before = await snapshotDir(dir);
    // The list call of step 5 hangs once, so the run is still in flight when the worker dies.
    await fx.emulator.control.addFaults({ method: 'GET', path: '/api/truenas/connections', delayMs: 4000, times: 1 });
    const taskQueue = uniqueId('cleanup-kill');
    const handle = await temporal.client.workflow.start<DataCleanupWorkflow>(DATA_CLEANUP_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('cleanup-kill'),
      args: [input(fx)],
    });

    const first = await startWorkerProcess(temporalAddress(), taskQueue);
    let second: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const progress = await handle.query(progressQuery).catch(() => undefined);
        if (progress?.evidence.some((e) => e.step === 'cleanup.4')) break;
        if (Date.now() > deadline) throw new Error(`the run never recorded cleanup.4:\n${first.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.kill();
      await expect(fs.lstat(join(dir, 'truenas.enc'))).rejects.toMatchObject({ code: 'ENOENT' });

      second = await startWorkerProcess(temporalAddress(), taskQueue);
      const r: DataCleanupResult = await handle.result();
      expect(r.truenasFile.outcome).toBe('removed');
      expect(r.connectionsAfter).toBe('empty');
      expect(r.encryptionKey).toMatchObject({ intact: true, ino: String(before['.encryption.key'].ino) });
      expect(await snapshotDir(dir)).toEqual(without(before, 'truenas.enc'));

      // The removal ran once (its result replayed from history). The list check ran to completion once; how many
      // attempts it took depends on when the kill landed (before its start, during it, or during a retry).
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = new Map<string, string>();
      const attempts: Record<string, number[]> = {};
      for (const e of events) {
        const s = e.activityTaskScheduledEventAttributes;
        if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '?');
        const st = e.activityTaskStartedEventAttributes;
        if (st) (attempts[scheduled.get(String(st.scheduledEventId)) ?? '?'] ??= []).push(st.attempt ?? 0);
      }
      expect(attempts.removeTrueNASFile).toEqual([1]);
      expect(attempts.verifyNoConnections).toHaveLength(1);
    } finally {
      await first.kill();
      await second?.kill();
    }
  });
});

describe('pulse-runbook cleanup', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(['cleanup', ...args], {
      env: { PULSE_URL: '', PULSE_TOKEN: '', ...env },
      timeoutMs: 120_000,
    });

  let fx: PulseFixture;
  beforeAll(async () => {
    fx = await pulseWithConnections(1);
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('refuses a relative --data-dir and names the flag', async () => {
    const r = await cli(['--data-dir', 'etc/pulse', '--pulse-url', fx.emulator.url], { TEMPORAL_ADDRESS: temporalAddress() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cleanup --data-dir: dataDir must be an absolute path/);
  });

  it('--plan prints each step, the file it would delete and the HTTP check; then a real run removes it with progress', async () => {
    const env = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue, [fx.tokenEnv]: fx.token };
    const dir = fx.emulator.dataDir;
    const args = ['--data-dir', dir, '--pulse-url', fx.emulator.url, '--token-env', fx.tokenEnv];
    const plan = await temporal.withWorker(() => cli(['--plan', ...args], env));
    expect(plan.stderr).toBe('');
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('PLAN (nothing will be changed): data-cleanup');
    for (let i = 1; i <= 7; i++) expect(plan.stdout).toContain(`[cleanup.${i}]`);
    expect(plan.stdout).toContain(`delete ${dir}/truenas.enc: unlink this one regular file`);
    expect(plan.stdout).toContain(`GET ${fx.emulator.url}/api/truenas/connections`);
    expect(plan.stdout).toContain('on its own host');
    expect(plan.stdout).not.toContain(fx.token);
    expect(await fs.stat(join(dir, 'truenas.enc'))).toBeTruthy();

    const real = await temporal.withWorker(() => cli(args, env));
    expect(real.stderr).toBe('');
    expect(real.exitCode).toBe(0);
    expect(real.stdout).toContain(`✔ [cleanup.4] Remove only truenas.enc`);
    expect(real.stdout).toMatch(/Data Cleanup complete: removed .*truenas\.enc; Pulse lists no connection; .*\.encryption\.key intact/);
    await expect(fs.lstat(join(dir, 'truenas.enc'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fx.pulse.listConnections()).toEqual([]);
  });
});
