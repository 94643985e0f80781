/**
 * Disable waits exactly the runbook's 120 s staleness window after the restart, and no longer, on the real
 * time-skipping server with the real defaults. Activities are scripted; each records the (skipped) server time
 * at which it was scheduled, relative to the restart.
 */
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { startTimeSkipping, workflowBundle, uniqueId } from '../../bench/support/time-skipping.js';
import { DisableInputSchema, type DisableInputRaw } from '../../src/config/disable.js';
import type { DisableResult } from '../../workflows/disable.js';
import type * as enableActs from '../../activities/index.js';
import type * as flagActs from '../../activities/feature-flag.js';
import type * as restartActs from '../../activities/restart.js';
import type * as logActs from '../../activities/logs.js';
import { DISABLE_WORKFLOW, type DisableWorkflow } from '../../workflows/disable.messages.js';
import { scriptedFlagWrite } from '../../bench/support/incident-link-procedures.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

type Scripted = Partial<typeof enableActs & typeof flagActs & typeof restartActs & typeof logActs>;

/**
 * A Pulse with three online TrueNAS resources. After the restart its API answers 404 truenas_disabled; the
 * resources report fresh data until `freshForSeconds` after the restart (null: forever).
 */
function scriptedDisable(freshForSeconds: number | null, logVerdict: 'ok' | 'failed' = 'ok') {
  let restartAt: number | undefined;
  const calls: string[] = [];
  const now = () => Context.current().info.currentAttemptScheduledTimestampMs;
  const since = () => (restartAt === undefined ? '-' : String(Math.round((now() - restartAt) / 1000)));
  const ev = (step: string, verdict = 'ok') => ({ step, at: new Date(now()).toISOString(), verdict, summary: 'scripted' }) as never;
  const activities: Scripted = {
    async verifyConnectionsEndpoint({ step }) {
      calls.push(`endpoint ${step}@${since()}`);
      const state = restartAt === undefined ? 'enabled' : 'disabled';
      return { value: { state, connections: [] }, evidence: ev(step) };
    },
    async inspectTrueNASResources({ step }) {
      calls.push(`resources ${step}@${since()}`);
      const fresh = restartAt === undefined || freshForSeconds === null || (now() - restartAt) / 1000 < freshForSeconds;
      const online = fresh ? 3 : 0;
      return {
        value: { total: 3, online, stale: 3 - online, offline: 0, missing: 0, endpoint: '/api/resources', resources: [] },
        evidence: ev(step),
      };
    },
    async setFeatureFlag({ value, plan }) {
      calls.push(`flag ${String(value)}${plan ? ' (plan)' : ''}`);
      return { value: scriptedFlagWrite(value, 'true'), evidence: ev('disable.1') };
    },
    async restartPulse({ plan }) {
      calls.push(`restart${plan ? ' (plan)' : ''}`);
      if (!plan) restartAt = now();
      return { value: { commands: [], health: null }, evidence: ev('disable.2') };
    },
    async markLogPosition() {
      return { value: { at: new Date(now()).toISOString() }, evidence: ev('disable.3') };
    },
    async checkPulseLogs() {
      calls.push(`logs@${since()}`);
      const total = logVerdict === 'failed' ? 2 : 0;
      const evidence = {
        ...(ev('disable.3', logVerdict) as object),
        summary: `Poller activity after the restart: ${total} lines`,
      } as never;
      return {
        value: { source: 'journald', since: '', linesRead: 10, feb: total, v6: 0, errors: total, shutdown: 0, total, excerpt: [] },
        evidence,
      };
    },
  };
  return { activities, calls, restartAt: () => restartAt };
}

async function run(freshForSeconds: number | null, extra: Partial<DisableInputRaw> = {}, logVerdict: 'ok' | 'failed' = 'ok') {
  const { activities, calls, restartAt } = scriptedDisable(freshForSeconds, logVerdict);
  const taskQueue = uniqueId('disable-timing');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const input = DisableInputSchema.parse({ pulse: { url: 'http://pulse.invalid:7655' }, ...extra });
  const outcome = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<DisableWorkflow>(DISABLE_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('disable'),
      args: [input],
    });
    const result = await handle.result().then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const desc = await handle.describe();
    const closed = desc.closeTime!.getTime();
    // Measured from the restart: the time before it includes the worker's real start-up work.
    const since = restartAt() ?? desc.startTime.getTime();
    return { ...result, seconds: (closed - since) / 1000 };
  });
  return { outcome, calls };
}

describe('disable timing with the runbook default (120 s staleness window)', () => {
  it('uses the real defaults', () => {
    const input = DisableInputSchema.parse({ pulse: { url: 'http://pulse:7655' } });
    expect(input.staleThresholdSeconds).toBe(120);
    expect(input.flagValue).toBe('false');
  });

  it('reads the resources exactly 120 s after the restart and finishes then (seconds count from the restart)', async () => {
    const { outcome, calls } = await run(0);
    if (!outcome.ok) throw outcome.e;
    expect(outcome.seconds).toBeGreaterThanOrEqual(120);
    expect(outcome.seconds).toBeLessThan(120 + 5); // real time also passes under load; an extra wait would add a 10 s interval
    expect(calls).toEqual([
      'endpoint prereq.1@-',
      'resources prereq.1@-',
      'flag false',
      'restart',
      'endpoint disable.3@0',
      'logs@120',
      'resources disable.5@120',
    ]);
    const r = outcome.r as DisableResult;
    expect(r.restarted).toBe(true);
    expect(r.finalResources).toMatchObject({ total: 3, online: 0, stale: 3 });
    const wait = r.evidence.find((e) => e.step === 'disable.4');
    expect(wait?.actions).toEqual([expect.objectContaining({ kind: 'wait', seconds: 120 })]);
  });

  it('resources that turn stale late are watched for the grace period only, then the run ends at once', async () => {
    const { outcome, calls } = await run(135);
    expect(outcome.ok).toBe(true);
    expect(calls.filter((c) => c.startsWith('resources disable.5'))).toEqual([
      'resources disable.5@120',
      'resources disable.5@130',
      'resources disable.5@140',
    ]);
    expect(outcome.seconds).toBeGreaterThanOrEqual(140);
    expect(outcome.seconds).toBeLessThan(140 + 5);
  });

  it('fails with TrueNASStillOnline at exactly 120 + 30 s when the resources never go stale', async () => {
    const { outcome, calls } = await run(null);
    expect(outcome.ok).toBe(false);
    const err = (outcome as { e: unknown }).e as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as { type?: string }).type).toBe('TrueNASStillOnline');
    expect(outcome.seconds).toBeGreaterThanOrEqual(150);
    expect(outcome.seconds).toBeLessThan(150 + 5);
    expect(calls.at(-1)).toBe('resources disable.5@150');
  });

  it('poller lines in the logs over the window fail the run with PollerStillActive when the window ends', async () => {
    const { outcome, calls } = await run(0, {}, 'failed');
    expect(outcome.ok).toBe(false);
    const err = (outcome as { e: unknown }).e as WorkflowFailedError;
    expect((err.cause as { type?: string }).type).toBe('PollerStillActive');
    expect(outcome.seconds).toBeGreaterThanOrEqual(120);
    expect(outcome.seconds).toBeLessThan(120 + 5); // real time also passes under load; an extra wait would add a 10 s interval
    expect(calls.at(-1)).toBe('logs@120');
  });

  it('plan mode never sleeps and passes plan to the flag write and the restart', async () => {
    const { outcome, calls } = await run(null, { plan: true });
    expect(outcome.ok).toBe(true);
    // Real time only (no timer): a sleep would show as 120 s or more.
    expect(outcome.seconds).toBeLessThan(10);
    expect(calls).toContain('flag false (plan)');
    expect(calls).toContain('restart (plan)');
  });
});
