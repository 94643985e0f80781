/**
 * The Kill-Switch waits exactly as long as the runbook says (60 s tick, then up to 120 s for staleness) and no
 * longer, on the real time-skipping server. Activities answer with scripted Pulse responses that depend on how
 * much (skipped) server time has passed since the first call.
 */
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { startTimeSkipping, workflowBundle, uniqueId } from '../../bench/support/time-skipping.js';
import { INCIDENT_MEMO_KEY } from '../../workflows/incident.messages.js';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import type * as real from '../../activities/index.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

/** Scripted Pulse: two connections; TrueNAS resources go offline `goneAfterSeconds` after the first call. */
function scriptedPulse(goneAfterSeconds: number | null) {
  let t0: number | undefined;
  const calls: string[] = [];
  const now = () => Context.current().info.currentAttemptScheduledTimestampMs;
  const elapsed = () => Math.floor((now() - (t0 ??= now())) / 1000);
  const ev = (step: string) => ({ step, at: new Date(now()).toISOString(), verdict: 'ok', summary: 'scripted' }) as never;
  const activities: Partial<typeof real> = {
    async listConnections() {
      elapsed();
      calls.push('list');
      return { value: { ids: ['c1', 'c2'], disabled: false }, evidence: ev('kill-switch.1') };
    },
    async deleteConnection({ id }) {
      calls.push(`delete ${id}`);
      return { value: { outcome: 'deleted' }, evidence: ev('kill-switch.2') };
    },
    async verifyNoConnections() {
      calls.push(`verify-empty@${elapsed()}`);
      return { value: { remaining: [] }, evidence: ev('kill-switch.4') };
    },
    async checkTrueNASResources() {
      const s = elapsed();
      calls.push(`resources@${s}`);
      const gone = goneAfterSeconds !== null && s >= goneAfterSeconds;
      return {
        value: {
          total: gone ? 0 : 3,
          online: gone ? 0 : 3,
          stale: 0,
          offline: 0,
          missing: 0,
          endpoint: '/api/v2/resources',
          resources: [],
        },
        evidence: ev('kill-switch.5'),
      };
    },
  };
  return { activities, calls };
}

// Real (unskipped) time also passes while activities and workflow tasks run, up to a second or so on two busy
// cores. Any extra wait the workflow made would add at least one 10 s verify interval, so a 5 s margin still
// proves it waited as long as the runbook says and no longer.
const SLACK_SECONDS = 5;

/** `input`: what the run is started with, by default the schema's parse of a bare Pulse URL (as the CLI sends it). */
async function run(
  goneAfterSeconds: number | null,
  input: unknown = KillSwitchInputSchema.parse({ pulse: { url: 'http://pulse.invalid:7655' } }),
) {
  const { activities, calls } = scriptedPulse(goneAfterSeconds);
  const taskQueue = uniqueId('ks-timing');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const workflowId = uniqueId('ks');
  const outcome = await worker.runUntil(async () => {
    // Started as an incident's containment (memo), so it opens no incident record of its own: on this test server
    // a child that closes after its parent (an incident timed out at the server's 10-year default once the run
    // ends) leaks the time-skipping lock, and every later wait would run in real time. The link has its own
    // tests (incident-link.test.ts); the timing is the same either way.
    const memo = { [INCIDENT_MEMO_KEY]: 'incident-timing-test' };
    const handle = await env.client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [input as never],
      memo,
    });
    const result = await handle.result().then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const desc = await handle.describe();
    const seconds = (desc.closeTime!.getTime() - desc.startTime.getTime()) / 1000;
    return { ...result, seconds };
  });
  return { outcome, calls };
}

describe('kill-switch timing with the runbook defaults (60 s tick, 120 s staleness)', () => {
  it('uses the real defaults', () => {
    const input = KillSwitchInputSchema.parse({ pulse: { url: 'http://pulse:7655' } });
    expect(input.tickSeconds).toBe(60);
    expect(input.staleThresholdSeconds).toBe(120);
  });

  it('finishes right after the tick when the resources are already gone', async () => {
    const { outcome, calls } = await run(0);
    expect(outcome.ok).toBe(true);
    expect(outcome.seconds).toBeGreaterThanOrEqual(60);
    expect(outcome.seconds).toBeLessThan(60 + SLACK_SECONDS);
    expect(calls).toEqual(['list', 'delete c1', 'delete c2', 'verify-empty@60', 'resources@60']);
  });

  it('finishes as soon as the resources vanish, 30 s into the staleness window', async () => {
    const { outcome, calls } = await run(90);
    expect(outcome.ok).toBe(true);
    expect(outcome.seconds).toBeGreaterThanOrEqual(90);
    expect(outcome.seconds).toBeLessThan(90 + SLACK_SECONDS);
    expect(calls.filter((c) => c.startsWith('resources@'))).toEqual(['resources@60', 'resources@70', 'resources@80', 'resources@90']);
  });

  it('fails at exactly 60 + 120 s when the resources never go stale', async () => {
    const { outcome, calls } = await run(null);
    expect(outcome.ok).toBe(false);
    const err = (outcome as { e: unknown }).e as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as { type?: string }).type).toBe('TrueNASStillOnline');
    expect(outcome.seconds).toBeGreaterThanOrEqual(180);
    expect(outcome.seconds).toBeLessThan(180 + SLACK_SECONDS);
    expect(calls.at(-1)).toBe('resources@180');
  });
});

describe('kill-switch started by a client that did not parse its input (issue 14)', () => {
  it("fills the defaults itself: a raw start without tickSeconds waits the runbook's 60 s tick, not NaN", async () => {
    const { outcome, calls } = await run(0, { pulse: { url: 'http://pulse.invalid:7655' } });
    expect(outcome.ok).toBe(true);
    expect(outcome.seconds).toBeGreaterThanOrEqual(60);
    expect(outcome.seconds).toBeLessThan(60 + SLACK_SECONDS);
    expect(calls).toEqual(['list', 'delete c1', 'delete c2', 'verify-empty@60', 'resources@60']);
    const result = (outcome as { r: Awaited<ReturnType<KillSwitchWorkflow>> }).r;
    expect(result.evidence.find((e) => e.step === 'kill-switch.3')?.summary).toBe('Waited 60 s for the poller tick.');
  });

  it('refuses input its schema refuses before any step acts, naming the field', async () => {
    const { outcome, calls } = await run(0, { pulse: { url: 'http://pulse.invalid:7655' }, tickSeconds: 'soon' });
    expect(outcome.ok).toBe(false);
    const err = (outcome as { e: unknown }).e as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as { type?: string }).type).toBe('InvalidKillSwitchInput');
    expect(err.cause?.message).toMatch(/^invalid kill-switch input: tickSeconds: /);
    expect(calls).toEqual([]);
  });
});
