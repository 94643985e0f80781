/**
 * The fault matrix (issue 13): every procedure runs while its worker is SIGKILLed at each activity boundary, after
 * the activity did its work and before Temporal heard of it (bench/support/fault-worker.ts). The boundaries are not
 * listed here: they are whatever activities the workflow schedules, and each test checks against the run's history
 * that the worker died at every one of them. The run must still complete exactly once, with no side effect repeated
 * beyond what its step declares safe to repeat (reads, the build, the connection test), and a result that counts
 * what this run did (issue 13, defect 6: "3 deleted, 1 already gone" after a worker died mid-DELETE).
 *
 * Real processes: the dev server, a new `fault-worker` process after every kill, the emulator (or a Go "Pulse" for
 * the rollback) run as a service with a real env file and restart command.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import { EnableInputSchema } from '../../src/config/enable.js';
import { DisableInputSchema } from '../../src/config/disable.js';
import type { CodeRollbackInputRaw } from '../../src/config/code-rollback-input.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import type { EnableResult } from '../../workflows/enable.js';
import type { DisableResult } from '../../workflows/disable.js';
import type { CodeRollbackResult } from '../../workflows/code-rollback.js';
import type { DataCleanupResult } from '../../workflows/data-cleanup.js';
import {
  heartbeatTimeouts,
  removeFaultBundle,
  scheduledActivities,
  withKillingWorkers,
  type MatrixOutcome,
} from '../../bench/support/fault-matrix.js';
import { pulseWithConnections, temporalAddress, temporalHarness, uniqueId, type TemporalHarness } from '../support/e2e.js';
import { hostSteps, startPulseService, type PulseService } from '../support/pulse-service.js';
import { createGoPulseRepo, GO_BUILD, GO_ENV, removeGoPulseTemplate, revertCommitsIn, type GoPulseRepo } from '../support/go-pulse-repo.js';
import { CODE_ROLLBACK_WORKFLOW } from '../../workflows/code-rollback.messages.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import type { WorkflowName } from '../../workflows/procedure.messages.js';

/** Each procedure's matrix takes one to two minutes (longer while the others run beside it). */
const MATRIX_TIMEOUT_MS = 360_000;
/**
 * Short, so a dead worker is noticed in about this long (the default is 10 s), with room for a heartbeat delayed by
 * a loaded machine (five procedures, their worker processes and go builds share two cores here).
 */
const HEARTBEAT_SECONDS = 3;
const RETRY = { maximumAttempts: 10, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1, heartbeatTimeoutSeconds: HEARTBEAT_SECONDS };

let temporal: TemporalHarness;
beforeAll(async () => {
  temporal = await temporalHarness();
});
afterAll(async () => {
  await temporal?.close();
  await removeGoPulseTemplate();
  await removeFaultBundle();
});

/** Runs `workflowType` under killing workers and checks what every procedure must show. */
async function underFaults<R>(
  workflowType: WorkflowName,
  input: unknown,
  env: Record<string, string>,
): Promise<{ outcome: MatrixOutcome<R>; handle: WorkflowHandle }> {
  const taskQueue = uniqueId(`matrix-${workflowType}`);
  const workflowId = uniqueId(`matrix-${workflowType}`);
  const handle = await temporal.client.workflow.start(workflowType, { taskQueue, workflowId, args: [input] });
  const outcome = await withKillingWorkers({ address: temporalAddress(), taskQueue, workflowId, env }, () => handle.result() as Promise<R>);

  // Generated from the workflow: the worker died once at every activity the run scheduled, and at no other place.
  const scheduled = await scheduledActivities(handle);
  expect(scheduled.length).toBeGreaterThan(2);
  expect(outcome.kills.map((k) => k.activityId).sort()).toEqual(scheduled.map((s) => s.activityId).sort());
  expect(outcome.kills.map((k) => k.activityType).sort()).toEqual(scheduled.map((s) => s.activityType).sort());
  // Every one was retried after its kill, and every activity has a heartbeat timeout (defect 6).
  expect(outcome.killToRetryMs).toHaveLength(scheduled.length);
  expect(await heartbeatTimeouts(handle)).toEqual(scheduled.map(() => HEARTBEAT_SECONDS));
  // Completed exactly once: one run of this id, closed as completed.
  const runs = [];
  for await (const r of temporal.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(r);
  expect(runs.map((r) => r.status.name)).toEqual(['COMPLETED']);
  process.stderr.write(
    `[fault matrix] ${workflowType}: ${scheduled.length} boundaries (${scheduled.map((s) => s.activityType).join(', ')}); ` +
      `kill → retry ${Math.min(...outcome.killToRetryMs)}–${Math.max(...outcome.killToRetryMs)} ms; ${outcome.workerStarts} worker processes\n`,
  );
  return { outcome, handle };
}

describe('fault matrix: the worker is SIGKILLed at every activity boundary', () => {
  it.concurrent(
    'kill-switch: all 4 connections deleted once each, and counted as deleted by this run (defect 6)',
    async () => {
      const fx = await pulseWithConnections(4);
      try {
        const input = KillSwitchInputSchema.parse({
          pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv }, timeoutMs: 3000 },
          tickSeconds: 1,
          staleThresholdSeconds: 10,
          verifyEverySeconds: 0.5,
          retry: RETRY,
        });
        const { outcome } = await underFaults<KillSwitchResult>(KILL_SWITCH_WORKFLOW, input, { [fx.tokenEnv]: fx.token });
        const r = outcome.value;
        expect(r.deleted.sort()).toEqual([...fx.ids].sort());
        expect(r.alreadyGone).toEqual([]);
        expect(await fx.pulse.listConnections()).toEqual([]);
        // One DELETE per connection: the retries learned from the journal that Pulse had answered 200.
        const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
        expect(deletes.map((d) => d.status)).toEqual([200, 200, 200, 200]);
        for (const id of fx.ids) expect(deletes.filter((d) => d.path.endsWith(id))).toHaveLength(1);
      } finally {
        await fx.stop();
      }
    },
    MATRIX_TIMEOUT_MS,
  );

  /** A Pulse service (env file, restart command, log file) and a fake TrueNAS, for one test. */
  async function withService<T>(
    opts: Parameters<typeof startPulseService>[0],
    fn: (svc: PulseService, fake: FakeTrueNAS, keyEnv: string, key: string) => Promise<T>,
  ): Promise<T> {
    const key = randomBytes(20).toString('hex');
    const keyEnv = `TRUENAS_MATRIX_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;
    process.env[keyEnv] = key;
    const fake = await startFakeTrueNAS({ apiKey: key });
    const svc = await startPulseService(opts);
    try {
      return await fn(svc, fake, keyEnv, key);
    } finally {
      await svc.stop();
      await fake.close();
      delete process.env[keyEnv];
    }
  }

  it.concurrent(
    'enable: the flag written once, Pulse restarted once, the connection added once',
    () =>
      withService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=false\n' }, async (svc, fake, keyEnv, key) => {
        const input = EnableInputSchema.parse({
          ...hostSteps(svc),
          retry: RETRY,
          appearWithinSeconds: 20,
          verifyEverySeconds: 0.5,
          connection: { name: 'nas-1', host: 'http://127.0.0.1', port: Number(new URL(fake.url).port), apiKey: { env: keyEnv } },
        });
        const { outcome } = await underFaults<EnableResult>(ENABLE_WORKFLOW, input, { [svc.tokenEnv]: svc.token, [keyEnv]: key });
        const r = outcome.value;
        expect(r.flag).toMatchObject({ changed: true, valueBefore: 'false', valueAfter: 'true' });
        expect(r.restarted).toBe(true);
        expect(['added', 'already-added']).toContain(r.connection?.outcome);
        expect(await fs.readFile(svc.envFile, 'utf8')).toBe('PULSE_ENABLE_TRUENAS=true\n');
        expect(svc.invocations('restart')).toBe(1);
        const posts = (await svc.control.requests()).filter((q) => q.method === 'POST' && q.path === '/api/truenas/connections');
        expect(posts).toHaveLength(1);
        expect(await svc.pulse.listConnections()).toHaveLength(1);
      }),
    MATRIX_TIMEOUT_MS,
  );

  it.concurrent(
    'disable: the flag written once, Pulse restarted once, the window waited',
    () =>
      withService({ profile: 'feb', envFile: 'PULSE_ENABLE_TRUENAS=true\n' }, async (svc, fake) => {
        await svc.pulse.addConnection(fake.connection({ name: 'nas-1' }));
        await svc.control.tick();
        const input = DisableInputSchema.parse({
          ...hostSteps(svc),
          retry: RETRY,
          staleThresholdSeconds: 2,
          graceSeconds: 10,
          verifyEverySeconds: 0.5,
        });
        const { outcome } = await underFaults<DisableResult>(DISABLE_WORKFLOW, input, { [svc.tokenEnv]: svc.token });
        const r = outcome.value;
        expect(r.flag).toMatchObject({ changed: true, valueBefore: 'true', valueAfter: 'false' });
        expect(r.restarted).toBe(true);
        expect(await fs.readFile(svc.envFile, 'utf8')).toBe('PULSE_ENABLE_TRUENAS=false\n');
        expect(svc.invocations('restart')).toBe(1);
      }),
    MATRIX_TIMEOUT_MS,
  );

  it.concurrent(
    'data cleanup: truenas.enc removed (counted as removed by this run), .encryption.key untouched',
    () =>
      withService({ profile: 'feb', envFile: 'PULSE_ENABLE_TRUENAS=true\n' }, async (svc, fake) => {
        await svc.pulse.addConnection(fake.connection({ name: 'nas-1' }));
        const keyFile = path.join(svc.dataDir, '.encryption.key');
        const keyBefore = await fs.readFile(keyFile);
        const input = { pulse: hostSteps(svc).pulse, dataDir: svc.dataDir, retry: RETRY };
        const { outcome } = await underFaults<DataCleanupResult>(DATA_CLEANUP_WORKFLOW, input, { [svc.tokenEnv]: svc.token });
        const r = outcome.value;
        expect(r.truenasFile.outcome).toBe('removed');
        expect(r.connectionsAfter).toBe('empty');
        expect(r.encryptionKey?.intact).toBe(true);
        await expect(fs.stat(path.join(svc.dataDir, 'truenas.enc'))).rejects.toMatchObject({ code: 'ENOENT' });
        expect(await fs.readFile(keyFile)).toEqual(keyBefore);
      }),
    MATRIX_TIMEOUT_MS,
  );

  it.concurrent(
    "code rollback: the range reverted once (counted as this run's revert), built, Pulse restarted once",
    async () => {
      const fx: GoPulseRepo = await createGoPulseRepo();
      try {
        await fx.buildAndStart();
        const restarts = path.join(path.dirname(fx.pidFile), 'restarts.log');
        const argv = ['sh', '-c', `echo restart >> ${JSON.stringify(restarts)}; exec "$@"`, 'restart', ...fx.restartArgv];
        const input: CodeRollbackInputRaw = {
          repoPath: fx.repo,
          from: fx.commits.tn00,
          to: fx.commits.trr00,
          buildCommand: GO_BUILD,
          buildEnv: GO_ENV,
          buildTimeoutMs: 120_000,
          buildHeartbeatTimeoutSeconds: HEARTBEAT_SECONDS,
          restart: { kind: 'command', argv, healthTimeoutMs: 20_000, healthIntervalMs: 100, commandTimeoutMs: 20_000 },
          pulse: { url: fx.url, timeoutMs: 3000 },
          retry: RETRY,
        };
        const { outcome } = await underFaults<CodeRollbackResult>(CODE_ROLLBACK_WORKFLOW, input, {});
        const r = outcome.value;
        expect(r.revert.outcome).toBe('reverted');
        expect(r.revert.revertCommits).toHaveLength(4);
        expect(await revertCommitsIn(fx.repo, `${fx.commits.after}..HEAD`)).toHaveLength(4);
        expect(r.routes?.status).toBe(404);
        expect((await fs.readFile(restarts, 'utf8')).trim().split('\n')).toEqual(['restart']);
      } finally {
        await fx.destroy();
      }
    },
    MATRIX_TIMEOUT_MS,
  );
});
