/**
 * The trail a Kill-Switch and the alert monitor leave for the Temporal Web UI (issue 6), read back the way the UI
 * reads it, on the real time-skipping server with scripted activities (bench/support/incident-link-procedures.ts):
 * - every activity-scheduled and timer-started event carries a summary named after its runbook step;
 * - the run's current details (the `__temporal_workflow_metadata` query) say which step it is on and what it
 *   waits for while it waits, and how it ended afterwards, also when it failed.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type * as notifyActivities from '../../activities/notify.js';
import type * as prometheusActivities from '../../activities/prometheus.js';
import type { AlertNotification } from '../../src/prometheus/alert-state.js';
import { checkQuery } from '../../src/prometheus/checks.js';
import { judge } from '../../src/prometheus/verdict.js';
import { INCIDENT_MEMO_KEY } from '../../workflows/incident.messages.js';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import { RUNBOOK_STEPS } from '../../src/runbook/steps.js';
import { scriptedKillSwitch, type ScriptedActivities } from '../../bench/support/incident-link-procedures.js';
import { startTimeSkipping, uniqueId, workflowBundle } from '../../bench/support/time-skipping.js';
import { ALERT_MONITOR_WORKFLOW, stopAlertMonitorSignal, type AlertMonitorWorkflow } from '../../workflows/alert-monitor.messages.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(async () => {
  await env?.teardown();
});

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const { EventType } = proto.temporal.api.enums.v1;

/** The summary the UI shows for an event: its user metadata, decoded like any payload (plain JSON here: no codec). */
function summaryOf(event: HistoryEvent): string | undefined {
  const payload = event.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
}

function scheduled(events: HistoryEvent[]): Array<{ activity: string; summary?: string }> {
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => ({ activity: e.activityTaskScheduledEventAttributes!.activityType!.name!, summary: summaryOf(e) }));
}

function timers(events: HistoryEvent[]): Array<{ seconds: number; summary?: string }> {
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
    .map((e) => ({ seconds: Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds), summary: summaryOf(e) }));
}

const currentDetails = async (handle: WorkflowHandle) =>
  (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails;

const step = (id: keyof typeof RUNBOOK_STEPS) => `${id}: ${RUNBOOK_STEPS[id].title}`;

/** A deferred the scripted activity waits on, so the test can look at the run while it is inside a step. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  return { open, opened, reached, arrived };
}

async function runKillSwitch(activities: ScriptedActivities, during?: (handle: WorkflowHandle) => Promise<void>) {
  const taskQueue = uniqueId('ui-trail');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
  const input = KillSwitchInputSchema.parse({ pulse: { url: 'http://pulse.invalid:7655', token: { env: 'PULSE_TOKEN' } } });
  return worker.runUntil(async () => {
    // Started as an incident's containment (memo), so it opens no incident child: on this test server a child that
    // outlives its parent keeps the time-skipping lock (see kill-switch-timing.test.ts). The link is tested there.
    const handle = await env.client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('ks-trail'),
      args: [input],
      memo: { [INCIDENT_MEMO_KEY]: 'incident-ui-trail-test' },
    });
    // Waiting on the result is what lets the test server skip time (the 60 s tick), also while `during` looks.
    const result = handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    if (during) await during(handle);
    const outcome = await result;
    const history = await handle.fetchHistory();
    return { handle, outcome, events: history.events ?? [], details: await currentDetails(handle) };
  });
}

describe('Kill-Switch trail in the Web UI', () => {
  it('names every activity and timer after its runbook step, and the current details follow the run', async () => {
    const script = scriptedKillSwitch({ ids: ['c1', 'c2'], goneAtCheck: 2 });
    const atStep5 = gate();
    const check = script.activities.checkTrueNASResources!;
    let checks = 0;
    script.activities.checkTrueNASResources = async (args) => {
      if (++checks === 1) {
        atStep5.reached();
        await atStep5.opened;
      }
      return check(args);
    };
    let whileWaiting: string | undefined;
    const { outcome, events, details } = await runKillSwitch(script.activities, async (handle) => {
      await atStep5.arrived;
      whileWaiting = await currentDetails(handle);
      atStep5.open();
    });
    expect(outcome).toBeUndefined();

    expect(scheduled(events)).toEqual([
      { activity: 'listConnections', summary: step('kill-switch.1') },
      { activity: 'deleteConnection', summary: step('kill-switch.2') },
      { activity: 'deleteConnection', summary: step('kill-switch.2') },
      { activity: 'verifyNoConnections', summary: step('kill-switch.4') },
      { activity: 'checkTrueNASResources', summary: step('kill-switch.5') },
      { activity: 'checkTrueNASResources', summary: step('kill-switch.5') },
    ]);
    expect(timers(events)).toEqual([
      { seconds: 60, summary: 'kill-switch.3: wait for the next poller tick (60 s)' },
      { seconds: 10, summary: 'kill-switch.5: next check in 10 s, waiting for TrueNAS resources to turn stale or vanish (up to 120 s)' },
    ]);

    // While step 5 checks the resources, the details name the step and what it waits for.
    expect(whileWaiting).toMatch(
      /^kill-switch, step kill-switch\.5: Verify the TrueNAS source is stale or its resources are gone \(within 120 s\)\n\n/,
    );
    expect(whileWaiting).toMatch(
      /Waiting for TrueNAS resources to turn stale or vanish \(up to 120 s\) \(since \d{4}-\d\d-\d\dT[\d:.]+Z\)\.$/,
    );
    // Afterwards they say how it ended (6 steps, escalation.3 left to the incident that started it).
    expect(details).toMatch(/^kill-switch completed: \d+ evidence record\(s\)\.$/);
  });

  it('a failed run says at which step it stopped', async () => {
    const script = scriptedKillSwitch({ ids: ['c1'] });
    script.activities.verifyNoConnections = async () => {
      throw ApplicationFailure.create({
        message: 'connection c1 is still listed (scripted)',
        type: 'ConnectionsRemain',
        nonRetryable: true,
      });
    };
    const { outcome, details, events } = await runKillSwitch(script.activities);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(details).toBe(
      `kill-switch failed at ${step('kill-switch.4')}. The failure and the evidence are in the result and the \`progress\` query.`,
    );
    expect(scheduled(events).map((e) => e.summary)).toEqual([step('kill-switch.1'), step('kill-switch.2'), step('kill-switch.4')]);
  });
});

describe('alert monitor trail in the Web UI', () => {
  it('names the evaluation, the notification and the wait after the Alert Thresholds row, and says what it waits for', async () => {
    const prometheus: Partial<typeof prometheusActivities> = {
      async evaluateMetricChecks(input) {
        const at = new Date().toISOString();
        const { query } = checkQuery('auth-errors');
        const samples = [{ labels: { instance: 'nas-a', instance_type: 'truenas', error_type: 'auth' }, time: 0, value: '1' }];
        return {
          at,
          prometheusUrl: input.prometheus.url,
          reachable: true,
          results: [judge('auth-errors', query, { resultType: 'vector', samples }, at)],
        };
      },
    };
    const notify: Partial<typeof notifyActivities> = {
      async sendAlertNotification({ webhook, notification }: { webhook: { name: string }; notification: AlertNotification }) {
        return { webhook: webhook.name, id: notification.id, status: 200, ms: 1 };
      },
    };
    const taskQueue = uniqueId('ui-trail-alerts');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...prometheus, ...notify },
    });
    const { waiting, finished, events } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<AlertMonitorWorkflow>(ALERT_MONITOR_WORKFLOW, {
        taskQueue,
        workflowId: uniqueId('alert-monitor-trail'),
        args: [
          {
            prometheus: { url: 'http://prometheus.invalid:9090' },
            checks: ['auth-errors'],
            webhooks: [{ name: 'ops', url: 'http://hooks.invalid/alerts' }],
          },
        ],
      });
      // Nobody waits on the result yet, so the server does not skip the 60 s wait: the run is seen inside it.
      let details: string | undefined;
      for (let i = 0; i < 200 && !details?.includes('waiting for the next evaluation'); i++) {
        details = await currentDetails(handle);
        if (!details?.includes('waiting for the next evaluation')) await new Promise((r) => setTimeout(r, 50));
      }
      await handle.signal(stopAlertMonitorSignal, { reason: 'trail test done' });
      await handle.result();
      return { waiting: details, finished: await currentDetails(handle), events: (await handle.fetchHistory()).events ?? [] };
    });

    expect(scheduled(events)).toEqual([
      { activity: 'evaluateMetricChecks', summary: 'alerts.4: evaluate 1 Alert Thresholds check(s) at one instant' },
      { activity: 'sendAlertNotification', summary: 'alerts.4: notify ops that auth-errors is firing' },
    ]);
    expect(timers(events)).toEqual([{ seconds: 60, summary: 'alerts.4: next evaluation in 60 s' }]);
    expect(waiting).toMatch(
      /^Alert monitor truenas-alerts: waiting for the next evaluation at \S+Z \(every 60 s\) or a stop signal\.\n\n1 open alert\(s\): alerts\.4 auth-errors \(\w+\) since \S+Z$/,
    );
    expect(finished).toMatch(
      /^Alert monitor truenas-alerts: stopped \(trail test done\) after 1 cycle\(s\); open alerts are reported, not resolved\.\n\n1 open alert\(s\): alerts\.4/,
    );
  });
});
