/**
 * The fault matrix's Pulse row (issue 13): Pulse answering 5xx, hanging, refusing connections or returning bad JSON
 * is classified (the failure type the workflow decides on) and retried within the configured attempts: every
 * attempt is counted, from Pulse's own request log and from the run's history. Retryable faults use up exactly the
 * configured attempts (or recover within them); a malformed answer is not retried (it would be the same again).
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import { freePort } from '../../src/temporal/dev-server.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import { pulseWithConnections, temporalHarness, uniqueId, type PulseFixture, type TemporalHarness } from '../support/e2e.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';

const ATTEMPTS = 3;
const LIST = '/api/truenas/connections';

let temporal: TemporalHarness;
let fx: PulseFixture;
beforeAll(async () => {
  temporal = await temporalHarness();
});
afterAll(async () => {
  await temporal?.close();
});
beforeEach(async () => {
  fx = await pulseWithConnections(1);
  await fx.emulator.control.clearRequests();
});
afterEach(async () => {
  await fx?.stop();
});

function input(url = fx.emulator.url) {
  return KillSwitchInputSchema.parse({
    pulse: { url, token: { env: fx.tokenEnv }, timeoutMs: 500 },
    tickSeconds: 0.5,
    staleThresholdSeconds: 5,
    verifyEverySeconds: 0.25,
    retry: { maximumAttempts: ATTEMPTS, initialIntervalSeconds: 0.1, maximumIntervalSeconds: 0.2 },
  });
}

async function run(
  args: ReturnType<typeof input>,
): Promise<{ handle: WorkflowHandle; ok: boolean; result?: KillSwitchResult; failureType?: string; message?: string }> {
  const handle = await temporal.client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
    taskQueue: temporal.taskQueue,
    workflowId: uniqueId('pulse-fault'),
    args: [args],
  });
  return temporal.withWorker(async () => {
    try {
      return { handle, ok: true, result: (await handle.result()) as KillSwitchResult };
    } catch (err) {
      const cause = (err as WorkflowFailedError).cause as { cause?: { type?: string; message?: string } } | undefined;
      return { handle, ok: false, failureType: cause?.cause?.type, message: cause?.cause?.message };
    }
  });
}

/** How many attempts the run's first listConnections took, from its history. */
async function listAttempts(handle: WorkflowHandle): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'listConnections');
  const started = events.find(
    (e) =>
      e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED &&
      String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId),
  );
  return started?.activityTaskStartedEventAttributes?.attempt ?? 0;
}

const listed = async () => (await fx.emulator.control.requests()).filter((q) => q.method === 'GET' && q.path === LIST);

describe('Pulse faults during kill-switch.1: classified, retried within the configured attempts', () => {
  it('503 every time: PulseUnavailableError after exactly the configured attempts', async () => {
    await fx.emulator.control.addFaults({ method: 'GET', path: LIST, status: 503 });
    const r = await run(input());
    expect(r.ok).toBe(false);
    expect(r.failureType).toBe('PulseUnavailableError');
    expect(r.message).toContain('503');
    expect(await listAttempts(r.handle)).toBe(ATTEMPTS);
    expect((await listed()).map((q) => q.status)).toEqual([503, 503, 503]);
    await fx.emulator.control.clearFaults();
    expect((await fx.pulse.listConnections()).length).toBe(1);
  });

  it('500 twice, then an answer: the run recovers within the attempts and completes', async () => {
    await fx.emulator.control.addFaults({ method: 'GET', path: LIST, status: 500, times: 2 });
    const r = await run(input());
    expect(r.ok).toBe(true);
    expect(r.result?.deleted).toEqual(fx.ids);
    expect(await listAttempts(r.handle)).toBe(3);
    expect((await listed()).slice(0, 3).map((q) => q.status)).toEqual([500, 500, 200]);
  });

  it('hanging (no answer within the request timeout): a timeout, retried, PulseUnavailableError after the attempts', async () => {
    await fx.emulator.control.addFaults({ method: 'GET', path: LIST, delayMs: 3000 });
    const r = await run(input());
    expect(r.ok).toBe(false);
    expect(r.failureType).toBe('PulseUnavailableError');
    expect(r.message).toContain('no answer within 500 ms (timeout)');
    expect(await listAttempts(r.handle)).toBe(ATTEMPTS);
  });

  it('connection refused: PulseUnavailableError after exactly the configured attempts', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const r = await run(input(nobody));
    expect(r.ok).toBe(false);
    expect(r.failureType).toBe('PulseUnavailableError');
    expect(r.message).toMatch(/ECONNREFUSED|refused/);
    expect(await listAttempts(r.handle)).toBe(ATTEMPTS);
  });

  it('bad JSON (200 with a body that is not a list): PulseProtocolError, not retried (the same answer would come again)', async () => {
    await fx.emulator.control.addFaults({ method: 'GET', path: LIST, status: 200, body: '{"truncated": [' });
    const r = await run(input());
    expect(r.ok).toBe(false);
    expect(r.failureType).toBe('PulseProtocolError');
    expect(r.message).toContain(`GET ${LIST}`);
    expect(await listAttempts(r.handle)).toBe(1);
    expect(await listed()).toHaveLength(1);
    await fx.emulator.control.clearFaults();
    expect((await fx.pulse.listConnections()).length).toBe(1);
  });
});
