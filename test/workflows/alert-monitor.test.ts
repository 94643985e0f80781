/**
 * The alert monitor's loop on the real time-skipping server, with the runbook's 60 s interval: a scripted
 * evaluation activity plays a sequence of cycles and a scripted webhook activity records what would be sent.
 * Shows: one notification per firing episode and one on resolution, across continue-as-new (the open alert is
 * carried, not re-sent); 60 s between evaluations, also across runs; deliveries retried within a cycle and
 * across cycles in order; the monitoring-gap alert when Prometheus is down while the open alert is held; plan
 * mode sends nothing and waits for nothing; bad input is refused naming the field.
 */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import type * as notifyActivities from '../../activities/notify.js';
import type * as prometheusActivities from '../../activities/prometheus.js';
import type { AlertMonitorInputRaw } from '../../src/config/alerts.js';
import { GAP_CHECK, type AlertNotification, type Evaluation } from '../../src/prometheus/alert-state.js';
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { judge, unanswered } from '../../src/prometheus/verdict.js';
import type { AlertMonitorResult } from '../../workflows/alert-monitor.js';
import { startTimeSkipping, uniqueId } from '../../bench/support/time-skipping.js';
import {
  ALERT_MONITOR_WORKFLOW,
  alertMonitorStatusQuery,
  stopAlertMonitorSignal,
  type AlertMonitorWorkflow,
} from '../../workflows/alert-monitor.messages.js';

let env: TestWorkflowEnvironment;
let bundle: { code: string };
beforeAll(async () => {
  env = await startTimeSkipping();
  bundle = await cachedWorkflowBundle({ workflowsPath: path.resolve('workflows/alert-monitor.ts') });
});
afterAll(async () => {
  await env?.teardown();
});

type Cycle = Record<string, string> | 'down';

/** Evaluations of the auth-errors check per cycle (instance → value, or Prometheus down); stops the monitor after the last. */
function scriptedMonitor(cycles: Cycle[], failDeliveries: Array<'retryable' | 'rejected' | undefined> = [], sendStop = true) {
  const evaluations: Array<{ cycle: number; scheduledMs: number; runId: string }> = [];
  const sent: Array<{ status: string; key: string; id: string; webhook: string; repeat: boolean }> = [];
  let deliveryCalls = 0;
  const prometheus: Partial<typeof prometheusActivities> = {
    async evaluateMetricChecks(input) {
      const info = Context.current().info;
      const n = evaluations.length;
      evaluations.push({ cycle: n + 1, scheduledMs: info.currentAttemptScheduledTimestampMs, runId: info.workflowExecution!.runId });
      const at = new Date(info.currentAttemptScheduledTimestampMs).toISOString();
      const script = cycles[Math.min(n, cycles.length - 1)];
      if (sendStop && n + 1 >= cycles.length)
        await env.client.workflow
          .getHandle(info.workflowExecution!.workflowId)
          .signal(stopAlertMonitorSignal, { reason: 'script finished' });
      const id: CheckId = input.checks[0];
      const { query } = checkQuery(id);
      if (script === 'down') {
        return {
          at,
          prometheusUrl: input.prometheus.url,
          reachable: false,
          results: [unanswered(id, query, at, { kind: 'unavailable', message: 'connection refused' })],
        } satisfies Evaluation;
      }
      const samples = Object.entries(script).map(([instance, value]) => ({
        labels: { instance, instance_type: 'truenas', error_type: 'auth' },
        time: 0,
        value,
      }));
      return {
        at,
        prometheusUrl: input.prometheus.url,
        reachable: true,
        results: [judge(id, query, { resultType: 'vector', samples }, at)],
      } satisfies Evaluation;
    },
  };
  const notify: Partial<typeof notifyActivities> = {
    async sendAlertNotification({ webhook, notification }: { webhook: { name: string }; notification: AlertNotification }) {
      const failure = failDeliveries[deliveryCalls++];
      if (failure === 'retryable') throw ApplicationFailure.create({ message: 'receiver answered 503', type: 'WebhookUnavailable' });
      if (failure === 'rejected')
        throw ApplicationFailure.create({ message: 'receiver answered 400', type: 'WebhookRejected', nonRetryable: true });
      sent.push({
        status: notification.status,
        key: notification.alert.key,
        id: notification.id,
        webhook: webhook.name,
        repeat: notification.repeat,
      });
      return { webhook: webhook.name, id: notification.id, status: 200, ms: 1 };
    },
  };
  return { activities: { ...prometheus, ...notify }, evaluations, sent, deliveryCalls: () => deliveryCalls };
}

async function runMonitor(script: ReturnType<typeof scriptedMonitor>, input: Partial<AlertMonitorInputRaw> = {}) {
  const taskQueue = uniqueId('alerts-ts');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: script.activities,
  });
  const workflowId = uniqueId('alert-monitor');
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<AlertMonitorWorkflow>(ALERT_MONITOR_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [
        {
          prometheus: { url: 'http://prometheus.invalid:9090' },
          checks: ['auth-errors'],
          webhooks: [{ name: 'ops', url: 'http://hooks.invalid/alerts' }],
          ...input,
        },
      ],
    });
    const result = (await handle.result()) as AlertMonitorResult;
    const status = await env.client.workflow.getHandle(workflowId).query(alertMonitorStatusQuery);
    const described = await env.client.workflow.getHandle(workflowId).describe();
    const lastRunSeconds = (described.closeTime!.getTime() - described.startTime.getTime()) / 1000;
    return { result, status, lastRunSeconds };
  });
}

const KEY_A = 'auth-errors{error_type="auth",instance="a",instance_type="truenas"}';

describe('alert monitor loop (time skipping, 60 s default interval)', () => {
  it('notifies once per firing episode and once on resolution, across continue-as-new, every 60 s', async () => {
    const script = scriptedMonitor([
      { a: '0' },
      { a: '0' },
      { a: '1' },
      { a: '2' },
      { a: '2' },
      { a: '3' },
      { a: '3' },
      { a: '0' },
      { a: '0' },
    ]);
    const { result, status } = await runMonitor(script, { cyclesPerRun: 3 });

    expect(script.sent.map((s) => [s.status, s.key, s.webhook])).toEqual([
      ['firing', KEY_A, 'ops'],
      ['resolved', KEY_A, 'ops'],
    ]);
    // Three runs of three cycles: the alert opened in the first run and was carried through the second.
    const runs = [...new Set(script.evaluations.map((e) => e.runId))];
    expect(runs).toHaveLength(3);
    expect(script.evaluations.map((e) => runs.indexOf(e.runId))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // The runbook's 60 s between evaluations, also from one run to the next.
    const gaps = script.evaluations.slice(1).map((e, i) => (e.scheduledMs - script.evaluations[i].scheduledMs) / 1000);
    expect(gaps.every((g) => g >= 60 && g < 61)).toBe(true);

    expect(result).toMatchObject({
      procedure: 'alert-monitor',
      plan: false,
      cycles: 9,
      open: [],
      delivered: 2,
      dropped: 0,
      stoppedBy: 'script finished',
    });
    expect(result.resolved.map((r) => [r.key, r.value])).toEqual([[KEY_A, '3']]);
    const [firedAt, resolvedAt] = [result.resolved[0].since, result.resolved[0].resolvedAt].map((t) => Date.parse(t));
    expect((resolvedAt - firedAt) / 1000).toBeGreaterThanOrEqual(5 * 60);
    expect(result.evidence).toEqual([
      expect.objectContaining({ step: 'alerts.4', verdict: 'ok', details: expect.objectContaining({ check: 'auth-errors' }) }),
    ]);
    expect(status).toMatchObject({
      phase: 'stopped',
      cycles: 9,
      runCycles: 3,
      open: [],
      delivered: 2,
      outbox: [],
      stop: { reason: 'script finished' },
    });
    expect(status.deliveries.map((d) => [d.status, d.outcome])).toEqual([
      ['firing', 'sent'],
      ['resolved', 'sent'],
    ]);
  });

  it('retries a delivery within the cycle when it may pass, and in the next cycle, in order, when it was rejected', async () => {
    // 1st call: 503 (retried by Temporal at once) → sent; resolution: 400 → held, re-sent next cycle.
    const script = scriptedMonitor([{ a: '1' }, { a: '0' }, { a: '0' }, { a: '0' }], ['retryable', undefined, 'rejected']);
    const { result, status } = await runMonitor(script, {
      retry: { maximumAttempts: 3, initialIntervalSeconds: 1, maximumIntervalSeconds: 1 },
    });
    expect(script.deliveryCalls()).toBe(4);
    expect(script.sent.map((s) => s.status)).toEqual(['firing', 'resolved']);
    expect(result).toMatchObject({ delivered: 2, dropped: 0 });
    expect(status.outbox).toEqual([]);
  });

  it('drops a notification after deliveryCycles failed cycles and records it', async () => {
    const script = scriptedMonitor([{ a: '1' }, { a: '1' }, { a: '1' }], ['rejected', 'rejected', 'rejected']);
    const { result, status } = await runMonitor(script, { deliveryCycles: 2 });
    expect(script.sent).toEqual([]);
    expect(result).toMatchObject({ delivered: 0, dropped: 1 });
    expect(status.deliveries).toEqual([expect.objectContaining({ outcome: 'dropped', error: expect.stringContaining('WebhookRejected') })]);
    expect(status.open.map((a) => a.key)).toEqual([KEY_A]);
  });

  it('alerts about its own blindness after 3 unreachable cycles and holds the open alert meanwhile', async () => {
    const script = scriptedMonitor([{ a: '1' }, 'down', 'down', 'down', 'down', { a: '0' }]);
    const { result } = await runMonitor(script);
    expect(script.sent.map((s) => [s.status, s.key])).toEqual([
      ['firing', KEY_A],
      ['firing', `${GAP_CHECK}{}`],
      ['resolved', KEY_A],
      ['resolved', `${GAP_CHECK}{}`],
    ]);
    // The auth alert was held through the four blind cycles, not resolved and re-opened.
    const auth = result.resolved.find((r) => r.check === 'auth-errors')!;
    expect((Date.parse(auth.resolvedAt) - Date.parse(auth.since)) / 1000).toBeGreaterThanOrEqual(5 * 60);
  });

  it('plan mode evaluates once, sends nothing, waits for nothing, and shows the POSTs it would make', async () => {
    const script = scriptedMonitor([{ a: '1' }], [], false);
    const { result, lastRunSeconds } = await runMonitor(script, {
      plan: true,
      webhooks: [{ name: 'pd', format: 'pagerduty', routingKey: { env: 'PD_ROUTING_KEY' } }],
    });
    expect(lastRunSeconds).toBeLessThan(5);
    expect(script.sent).toEqual([]);
    expect(script.evaluations).toHaveLength(1);
    expect(result.plan).toBe(true);
    expect(result.planned).toHaveLength(1);
    expect(result.planned![0].action).toMatchObject({
      kind: 'http',
      method: 'POST',
      url: 'https://events.pagerduty.com/v2/enqueue',
      body: { routing_key: '<routing key from env:PD_ROUTING_KEY>', event_action: 'trigger', payload: { severity: 'critical' } },
    });
  });

  it('refuses bad input naming the field', async () => {
    const script = scriptedMonitor([{ a: '0' }]);
    const err = await runMonitor(script, { checks: ['auth-errors', 'no-such-check' as CheckId], intervalSeconds: -1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidAlertMonitorInput');
    expect(cause.message).toMatch(/checks\.1: .*intervalSeconds: /);
    expect(script.evaluations).toEqual([]);
  });
});
