/**
 * The Kill-Switch end to end: real Temporal dev server, real worker and activities, the Pulse emulator as a
 * real process on both profiles, with auth on and connections polling a fake TrueNAS.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { deleteConnection } from '../../activities/pulse-connections.js';
import { KillSwitchInputSchema, type KillSwitchInputRaw } from '../../src/config/kill-switch.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import { update } from '../support/incident.js';
import { pulseWithConnections, temporalHarness, uniqueId, type PulseFixture, type TemporalHarness } from '../support/e2e.js';
import { runError, startAndSettle } from '../support/settle.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';

let temporal: TemporalHarness;
beforeAll(async () => {
  temporal = await temporalHarness();
});
afterAll(async () => {
  await temporal?.close();
});

function input(fx: PulseFixture, extra: Partial<KillSwitchInputRaw> = {}) {
  return KillSwitchInputSchema.parse({
    pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv }, timeoutMs: 3000 },
    tickSeconds: 1,
    staleThresholdSeconds: 10,
    verifyEverySeconds: 0.5,
    retry: { maximumAttempts: 5, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    ...extra,
  });
}

const runKillSwitch = (args: ReturnType<typeof input>) =>
  startAndSettle<KillSwitchWorkflow>(temporal, KILL_SWITCH_WORKFLOW, args, { idPrefix: 'ks' });

describe.each(['feb', 'v6'] as const)('kill-switch on the %s profile', (profile) => {
  let fx: PulseFixture;
  beforeEach(async () => {
    fx = await pulseWithConnections(2, { profile });
  });
  afterEach(async () => {
    await fx?.stop();
  });

  it('deletes every connection, sees [] and no TrueNAS resource online, with no restart', async () => {
    const before = await fx.pulse.listTrueNASResources();
    expect(before.resources.length).toBeGreaterThan(0);
    const pidBefore = fx.emulator.pid;
    const startedBefore = (await fx.emulator.control.state()).startedAt;

    const run = await runKillSwitch(input(fx));
    if (!run.ok) throw run.error;
    const r = run.result;
    expect(r.deleted.sort()).toEqual([...fx.ids].sort());
    expect(r.alreadyGone).toEqual([]);
    expect(await fx.pulse.listConnections()).toEqual([]);
    expect(r.finalResources?.online).toBe(0);
    expect(r.evidence.map((e) => e.step)).toEqual([
      'escalation.3', // the run's incident record, opened before the first delete
      'kill-switch.1',
      'kill-switch.2',
      'kill-switch.2',
      'kill-switch.3',
      'kill-switch.4',
      'kill-switch.5',
      'kill-switch.6',
      'escalation.3', // the record told how the run ended
    ]);
    expect(r.evidence.every((e) => e.verdict === 'ok')).toBe(true);
    // kill-switch.5 names the Pulse line it saw and judges it the way that line allows, after a state refresh.
    const check = r.evidence.find((e) => e.step === 'kill-switch.5')!;
    expect(check.summary).toContain(profile === 'v6' ? 'the v6 line (v6.0.0 and later)' : 'the Feb 2026 development line');
    expect(check.summary).toContain(
      profile === 'v6' ? "judged by Pulse's own sourceStatus.truenas.status" : 'judged by the age of sourceStatus.truenas.lastSeen',
    );
    expect(check.summary).toContain('read after GET /api/state refreshed the resource store');
    expect(check.summary).not.toContain(profile === 'v6' ? 'Feb' : 'v6 line');
    // Same process before and after: the kill-switch never restarted Pulse.
    expect((await fx.emulator.control.state()).startedAt).toBe(startedBefore);
    expect(fx.emulator.pid).toBe(pidBefore);
    const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
    expect(deletes.map((d) => d.status)).toEqual([200, 200]);
    // The token never reaches workflow history.
    const history = JSON.stringify(await run.handle.fetchHistory());
    expect(history).not.toContain(fx.token);
  });
});

describe('kill-switch failure paths (feb profile)', () => {
  let fx: PulseFixture;
  afterEach(async () => {
    await fx?.stop();
  });

  it('a retry after a partial delete repeats only the failed delete', async () => {
    fx = await pulseWithConnections(3);
    // The second DELETE answers 500 once; Temporal retries that activity alone.
    await fx.emulator.control.addFaults({ method: 'DELETE', path: `/api/truenas/connections/${fx.ids[1]}`, status: 500, times: 1 });
    const run = await runKillSwitch(input(fx));
    if (!run.ok) throw run.error;
    expect(run.result.deleted.sort()).toEqual([...fx.ids].sort());
    const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
    const perId = (id: string) => deletes.filter((d) => d.path.endsWith(id)).map((d) => d.status);
    expect(perId(fx.ids[0])).toEqual([200]);
    expect(perId(fx.ids[1])).toEqual([500, 200]);
    expect(perId(fx.ids[2])).toEqual([200]);
  });

  it('a connection already deleted by someone else counts as gone (404 truenas_not_found)', async () => {
    fx = await pulseWithConnections(1);
    await fx.pulse.deleteConnection(fx.ids[0]);
    const env = new MockActivityEnvironment();
    const outcome: Awaited<ReturnType<typeof deleteConnection>> = await env.run(deleteConnection, {
      pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv }, timeoutMs: 3000 },
      plan: false,
      id: fx.ids[0],
    });
    expect(outcome.value.outcome).toBe('already-gone');
    expect(outcome.evidence.summary).toMatch(/already gone \(404 truenas_not_found\)/);
    const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
    expect(deletes.map((d) => d.status)).toEqual([200, 404]);
  });

  it('Pulse down: fails with PulseUnavailableError after the configured attempts, and says so', async () => {
    fx = await pulseWithConnections(1);
    const args = input(fx, { retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 0.5 } });
    await fx.emulator.stop();
    const run = await runKillSwitch(args);
    expect(run.ok).toBe(false);
    const failure = runError(run);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = failure.cause?.cause as { type?: string; message?: string };
    expect(cause.type).toBe('PulseUnavailableError');
    expect(cause.message).toMatch(/GET .*\/api\/truenas\/connections/);
    fx.emulator = { ...fx.emulator, stop: async () => undefined };
  });

  it('401: fails at once (not retried) with a message that names the fix and not the token', async () => {
    fx = await pulseWithConnections(1);
    const wrongEnv = `${fx.tokenEnv}_WRONG`;
    process.env[wrongEnv] = 'not-the-token-0123456789';
    try {
      const run = await runKillSwitch(input(fx, { pulse: { url: fx.emulator.url, token: { env: wrongEnv }, timeoutMs: 3000 } }));
      expect(run.ok).toBe(false);
      const cause = runError(run).cause?.cause as { type?: string; message?: string };
      expect(cause.type).toBe('PulseAuthError');
      expect(cause.message).not.toContain('not-the-token-0123456789');
      const lists = (await fx.emulator.control.requests()).filter((q) => q.method === 'GET' && q.path === '/api/truenas/connections');
      expect(lists.map((q) => q.status)).toEqual([401]);
      expect((await fx.pulse.listConnections()).length).toBe(1);
    } finally {
      delete process.env[wrongEnv];
    }
  });

  it('plan mode changes nothing: only GETs reach Pulse and every connection remains', async () => {
    fx = await pulseWithConnections(2);
    const run = await runKillSwitch(input(fx, { plan: true }));
    if (!run.ok) throw run.error;
    const requests = await fx.emulator.control.requests();
    expect(requests.filter((q) => q.method !== 'GET')).toEqual([
      // the two POSTs that set the fixture up, before the plan ran
      expect.objectContaining({ method: 'POST', path: '/api/truenas/connections' }),
      expect.objectContaining({ method: 'POST', path: '/api/truenas/connections' }),
    ]);
    expect((await fx.pulse.listConnections()).map((c) => c.id).sort()).toEqual([...fx.ids].sort());
    const planned = run.result.evidence.flatMap((e) => e.actions ?? []);
    for (const id of fx.ids) {
      expect(planned).toContainEqual(
        expect.objectContaining({ kind: 'http', method: 'DELETE', url: `${fx.emulator.url}/api/truenas/connections/${id}` }),
      );
    }
    expect(planned).toContainEqual(expect.objectContaining({ kind: 'wait', seconds: 1 }));
    expect(run.result.deleted).toEqual([]);
  });
});

describe('kill-switch incident record (escalation.3) on the dev server', () => {
  let fx: PulseFixture | undefined;
  afterEach(async () => {
    await fx?.stop();
  });

  it('a re-run under the same workflow id after its incident was resolved finds that record and opens no second one', async () => {
    fx = await pulseWithConnections(1);
    const workflowId = uniqueId('ks-rerun');
    const incidentId = `incident-for-${workflowId}`;
    const escalation = (r: KillSwitchResult) => r.evidence.find((e) => e.step === 'escalation.3');

    const { first, second, incidentRuns } = await temporal.withWorker(async () => {
      const start = () =>
        temporal.client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
          taskQueue: temporal.taskQueue,
          workflowId,
          args: [input(fx!)],
        });
      const first = (await (await start()).result()) as KillSwitchResult;
      const incident = temporal.client.workflow.getHandle(incidentId);
      await update(incident, 'resolve', { actor: 'olga', finalOwner: 'Pulse Operations', summary: 'connections deleted, TrueNAS off' });
      const closed = await incident.describe();
      await incident.result();
      // The operator runs the same Kill-Switch again (same id): Pulse has no connection left, the record exists.
      const second = (await (await start()).result()) as KillSwitchResult;
      const incidentRuns: string[] = [];
      for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${incidentId}'` })) incidentRuns.push(run.runId);
      return { first, second, incidentRuns: { list: incidentRuns, closedRunId: closed.runId } };
    });

    expect(first.incidentId).toBe(incidentId);
    expect(escalation(first)?.details).toEqual({ incidentId, opened: true });
    expect(second.incidentId).toBe(incidentId);
    expect(escalation(second)?.details).toEqual({ incidentId, opened: false });
    expect(escalation(second)?.summary).toMatch(/already exists/);
    // Exactly one incident run ever existed under that id: the resolved one.
    expect(incidentRuns.list).toEqual([incidentRuns.closedRunId]);
    expect((await temporal.client.workflow.getHandle(incidentId).describe()).status.name).toBe('COMPLETED');
  });
});
