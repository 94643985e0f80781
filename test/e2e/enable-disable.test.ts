/**
 * Enable and Disable end to end: the real Temporal dev server, a real worker with the real activities, and the
 * Pulse emulator run as a service (test/support/pulse-service-ctl.mjs) that reads PULSE_ENABLE_TRUENAS from a real
 * env file, so the flag edit takes effect only through the restart command the workflow runs. The connection
 * points at a fake TrueNAS that the emulator polls over HTTP. Ticks are 1 s and the staleness window 2 s.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { DisableInputSchema, type DisableInputRaw } from '../../src/config/disable.js';
import { EnableInputSchema, type EnableInputRaw } from '../../src/config/enable.js';
import { PulseDisabledError } from '../../src/pulse/errors.js';
import type { EnableResult } from '../../workflows/enable.js';
import type { DisableResult } from '../../workflows/disable.js';
import {
  answerLosingProxy,
  type EnableDisableTemporal,
  enableDisableTemporal,
  flagLines,
  hostSteps,
  type PulseService,
  startPulseService,
} from '../support/pulse-service.js';
import { uniqueId } from '../support/e2e.js';
import { progressQuery } from '../../workflows/procedure.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';

let temporal: EnableDisableTemporal;
let svc: PulseService | undefined;
let fake: FakeTrueNAS | undefined;
let keyEnv: string;
let key: string;

beforeAll(async () => {
  temporal = await enableDisableTemporal();
});
afterAll(async () => {
  await temporal?.close();
});
beforeEach(async () => {
  key = randomBytes(20).toString('hex');
  keyEnv = `TRUENAS_E2E_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[keyEnv] = key;
  fake = await startFakeTrueNAS({ apiKey: key });
});
afterEach(async () => {
  await svc?.stop();
  await fake?.close();
  svc = undefined;
  delete process.env[keyEnv];
});

function enableInput(s: PulseService, extra: Partial<EnableInputRaw> = {}) {
  return EnableInputSchema.parse({ ...hostSteps(s), appearWithinSeconds: 15, verifyEverySeconds: 0.25, ...extra });
}

function disableInput(s: PulseService, extra: Partial<DisableInputRaw> = {}) {
  return DisableInputSchema.parse({ ...hostSteps(s), staleThresholdSeconds: 2, graceSeconds: 5, verifyEverySeconds: 0.25, ...extra });
}

async function start(type: typeof ENABLE_WORKFLOW | typeof DISABLE_WORKFLOW, input: unknown): Promise<WorkflowHandle> {
  return temporal.client.workflow.start(type, { taskQueue: temporal.taskQueue, workflowId: uniqueId(type), args: [input] });
}

async function runToEnd<R>(
  type: typeof ENABLE_WORKFLOW | typeof DISABLE_WORKFLOW,
  input: unknown,
): Promise<{ result: R; handle: WorkflowHandle }> {
  const handle = await start(type, input);
  const result = (await temporal.withWorker(() => handle.result())) as R;
  return { result, handle };
}

/** A connection to the fake polled by the service's Pulse, and its resources listed. */
async function withPolledConnection(s: PulseService, f: FakeTrueNAS): Promise<string> {
  const added = await s.pulse.addConnection(f.connection({ name: 'nas-1' }));
  await s.control.tick();
  expect((await s.pulse.listTrueNASResources()).resources.length).toBeGreaterThan(0);
  return added.connection.id;
}

describe('enable', () => {
  it('feb: writes the flag, restarts through the service, adds, body-tests and sees the poller and resources', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '# Pulse service environment\nTZ=UTC\n' });
    const pidBefore = await svc.pid();
    await expect(svc.pulse.listConnections()).rejects.toBeInstanceOf(PulseDisabledError);

    const { result: r, handle } = await runToEnd<EnableResult>(
      'enable',
      enableInput(svc, { connection: { name: 'nas-1', host: 'http://127.0.0.1', port: fake!.port, apiKey: { env: keyEnv } } }),
    );

    // The flag reached the service only through the env file and one restart.
    expect(await fs.readFile(svc.envFile, 'utf8')).toBe('# Pulse service environment\nTZ=UTC\nPULSE_ENABLE_TRUENAS=true\n');
    expect(svc.invocations('restart')).toBe(1);
    expect(await svc.pid()).not.toBe(pidBefore);
    expect((await svc.control.state()).flag).toEqual({ raw: 'true', enabled: true });
    expect(r.restarted).toBe(true);
    expect(r.flag).toMatchObject({ changed: true, valueBefore: null, valueAfter: 'true' });

    // One connection, stored with apiKey and enabled (the runbook's body would have been refused).
    const stored = await svc.pulse.listConnections();
    expect(stored).toEqual([
      expect.objectContaining({
        id: r.connection!.id,
        name: 'nas-1',
        host: 'http://127.0.0.1',
        port: fake!.port,
        apiKey: '********',
        enabled: true,
      }),
    ]);
    expect(r.connection).toMatchObject({ outcome: 'added', testedWith: 'body' });
    const posts = (await svc.control.requests()).filter((q) => q.method === 'POST').map((q) => `${q.path} ${q.status}`);
    expect(posts).toEqual([
      '/api/truenas/connections 201',
      `/api/truenas/connections/${r.connection!.id}/test 405`, // Feb has no per-id test
      '/api/truenas/connections/test 200',
    ]);

    // Poller and resources: on Feb the only sign of a working poller is the resources it put there.
    expect(r.poller).toEqual({ signal: 'resources' });
    expect(r.resources!.total).toBe(4); // the NAS, its pool and two datasets
    expect(fake!.requests().some((q) => q.path === '/api/v2.0/pool' && q.status === 200)).toBe(true);

    expect(r.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'prereq.1 ok',
      'enable.1 ok',
      'enable.2 ok',
      'enable.3 ok',
      'enable.5 ok',
      'enable.6 ok',
      'enable.4 ok',
      'enable.7 ok',
    ]);
    // Every step says what it did and when; the restart shows the exact command.
    for (const e of r.evidence) expect(Date.parse(e.at)).not.toBeNaN();
    expect(r.evidence.find((e) => e.step === 'enable.2')?.actions).toContainEqual(
      expect.objectContaining({ kind: 'command', argv: svc.argv('restart') }),
    );
    expect(r.evidence.find((e) => e.step === 'enable.5')?.deviation).toMatch(/apiKey/);

    // The API key and the Pulse token never reach workflow history.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain(key);
    expect(history).not.toContain(svc.token);
  });

  it('v6: flag false → true, body file in the runbook spelling (api_key), per-id test, poll state; a second run changes nothing', async () => {
    svc = await startPulseService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=false\n' });
    const bodyFile = join(svc.dir, 'nas-1.json');
    await fs.writeFile(bodyFile, JSON.stringify({ name: 'nas-1', host: 'http://127.0.0.1', port: fake!.port, api_key: key }), {
      mode: 0o600,
    });

    const input = enableInput(svc, { connection: { bodyFile } });
    const { result: r, handle } = await runToEnd<EnableResult>(ENABLE_WORKFLOW, input);
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=true']);
    expect(r.connection).toMatchObject({ outcome: 'added', testedWith: 'per-id' });
    expect(r.poller).toEqual({ signal: 'poll-state' });
    expect(r.resources!.total).toBeGreaterThan(0);
    const added = r.evidence.find((e) => e.step === 'enable.5')!;
    expect(added.details?.notes).toContainEqual(expect.stringMatching(/api_key was sent as apiKey/));
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain(key);

    // Run again: the flag is there and Pulse answers, so no restart; the same connection is found, not added twice.
    const again = await runToEnd<EnableResult>(ENABLE_WORKFLOW, input);
    expect(again.result.restarted).toBe(false);
    expect(again.result.connection).toMatchObject({ id: r.connection!.id, outcome: 'exists' });
    expect(svc.invocations('restart')).toBe(1);
    expect((await svc.pulse.listConnections()).map((c) => c.id)).toEqual([r.connection!.id]);
  });
  it('an add whose answer was lost is retried without adding a duplicate (the id is chosen by the workflow)', async () => {
    // Already enabled: no restart is needed, so the run goes straight to the add.
    svc = await startPulseService({ profile: 'feb', envFile: 'PULSE_ENABLE_TRUENAS=true\n' });
    // Pulse stores the connection, but its 201 never reaches the activity: attempt 1 fails as unavailable.
    const proxy = await answerLosingProxy(svc.url, { method: 'POST', path: '/api/truenas/connections' });
    try {
      const input = enableInput(svc, {
        connection: { name: 'nas-1', host: 'http://127.0.0.1', port: fake!.port, apiKey: { env: keyEnv } },
        retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
      });
      const { result: r } = await runToEnd<EnableResult>(ENABLE_WORKFLOW, { ...input, pulse: { ...input.pulse, url: proxy.url } });
      expect(proxy.dropped()).toBe(1);
      expect(r.restarted).toBe(false);
      expect(svc.invocations('restart')).toBe(0);
      expect(r.connection).toMatchObject({ outcome: 'already-added' });
      expect((await svc.pulse.listConnections()).map((c) => c.id)).toEqual([r.connection!.id]);
      const adds = (await svc.control.requests()).filter((q) => q.method === 'POST' && q.path === '/api/truenas/connections');
      expect(adds.map((q) => q.status)).toEqual([201]); // one POST: the retry found its connection and sent no other
      expect(r.evidence.find((e) => e.step === 'enable.5')?.summary).toMatch(/already stored \(an earlier attempt of this run added it\)/);
    } finally {
      await proxy.close();
    }
  });
});

describe('disable', () => {
  it('v6: survives a worker stopped during the staleness wait; the restart ran exactly once', async () => {
    svc = await startPulseService({ profile: 'v6', envFile: 'PULSE_ENABLE_TRUENAS=true\n' });
    await withPolledConnection(svc, fake!);
    // A 3 s window leaves worker 1 time to stop before the timer fires, even on a busy machine.
    const handle = await start(DISABLE_WORKFLOW, disableInput(svc, { staleThresholdSeconds: 3 }));

    // Worker 1 runs until the workflow waits on the staleness timer (the restart has completed), then stops.
    await temporal.withWorker(async () => {
      for (;;) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        if (p?.current?.step === 'disable.4') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }, 'worker-1');
    expect(svc.invocations('restart')).toBe(1);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    // Worker 2 replays the history and finishes: the recorded restart is not run again.
    const r = (await temporal.withWorker(() => handle.result(), 'worker-2')) as DisableResult;
    expect(svc.invocations('restart')).toBe(1);
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=false']);
    await expect(svc.pulse.listConnections()).rejects.toBeInstanceOf(PulseDisabledError);
    expect(r.before!.total).toBeGreaterThan(0);
    expect(r.finalResources!.online).toBe(0);
    expect(r.evidence.map((e) => e.step)).toEqual([
      'prereq.1',
      'prereq.1',
      'disable.1',
      'disable.2',
      'disable.3',
      'disable.4',
      'disable.3',
      'disable.5',
    ]);
    expect(r.evidence.find((e) => e.step === 'disable.3')?.details).toMatchObject({ status: 404, code: 'truenas_disabled' });

    // History: the restart activity was started once, by worker 1; worker 2 completed the workflow.
    const events = (await handle.fetchHistory()).events ?? [];
    const names = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name]),
    );
    const restarts = events.filter(
      (e) =>
        e.activityTaskStartedEventAttributes && names.get(String(e.activityTaskStartedEventAttributes.scheduledEventId)) === 'restartPulse',
    );
    expect(restarts.map((e) => e.activityTaskStartedEventAttributes!.identity)).toEqual(['worker-1']);
    const lastTask = events.filter((e) => e.workflowTaskStartedEventAttributes).at(-1);
    expect(lastTask?.workflowTaskStartedEventAttributes?.identity).toBe('worker-2');
  });
});
