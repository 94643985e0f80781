/**
 * The alert monitor end to end: the Pulse emulator (a real process, poller tick 1 s) polls a fake TrueNAS, a
 * real Prometheus 2.42 scrapes the emulator's metrics listener every second, the monitor workflow runs on the
 * real Temporal dev server with the real activities, and notifications go to a real HTTP receiver. When the
 * fake TrueNAS starts answering 401, Pulse counts error_type="auth"; the auth-error CRITICAL fires, exactly one
 * webhook is sent while it keeps firing, and when the 401s stop the resolution is recorded and notified. No
 * token or key reaches a payload or the workflow history.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import { sendAlertNotification } from '../../activities/notify.js';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import { ALERT_CHECK_IDS } from '../../src/prometheus/checks.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { PrometheusTargetSchema } from '../../src/config/prometheus-target.js';
import type { AlertMonitorResult } from '../../workflows/alert-monitor.js';
import { pulseWithConnections, temporalAddress, uniqueId, type PulseFixture } from '../support/e2e.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import {
  ALERT_MONITOR_WORKFLOW,
  alertMonitorStatusQuery,
  stopAlertMonitorSignal,
  type AlertMonitorWorkflow,
} from '../../workflows/alert-monitor.messages.js';

let fx: PulseFixture;
let prometheus: PrometheusProcess;
let receiver: WebhookReceiver;
let connection: Connection;
let native: NativeConnection;
const bearerEnv = `ALERT_E2E_BEARER_${randomBytes(4).toString('hex').toUpperCase()}`;
const bearer = randomBytes(24).toString('hex');

beforeAll(async () => {
  quietRuntime();
  process.env[bearerEnv] = bearer;
  fx = await pulseWithConnections(1);
  prometheus = await startPrometheus({ targets: [{ url: fx.emulator.metricsUrl, job: 'pulse' }], scrapeInterval: 1 });
  receiver = await startWebhookReceiver();
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
});
afterAll(async () => {
  await connection?.close();
  await native?.close();
  await receiver?.close();
  await prometheus?.stop();
  await fx?.stop();
  delete process.env[bearerEnv];
});

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('fires the auth CRITICAL once when the fake TrueNAS answers 401, and records the resolution when it stops', async () => {
  const client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 5000 });
  const target = PrometheusTargetSchema.parse({ url: prometheus.url, timeoutMs: 5000 });
  const connectionId = fx.ids[0];
  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Prometheus scrapes successful polls of our connection, under Pulse's own instance label (honor_labels).
  await until('Prometheus to scrape a successful poll', async () => {
    const r = await client.query(`pulse_monitor_poll_total{instance_type="truenas",result="success",instance="${connectionId}"}`);
    return r.resultType === 'vector' && r.samples.length > 0;
  });

  // Healthy Pulse: every alert row of the catalogue passes against the live data (short windows for a young TSDB).
  const healthy = await evaluateMetricChecks({
    prometheus: target,
    checks: [...ALERT_CHECK_IDS],
    windows: { 'consecutive-errors': 4, 'auth-errors': 10, 'connection-errors': 10, timeouts: 10, 'latency-p95': 15 },
  });
  expect(Object.fromEntries(healthy.results.map((r) => [r.check, r.verdict]))).toEqual(
    Object.fromEntries(ALERT_CHECK_IDS.map((c) => [c, 'pass'])),
  );
  expect(healthy.results.find((r) => r.check === 'staleness-warning')!.series.map((s) => s.labels.instance)).toEqual([connectionId]);

  phase('scraped+checked');
  const bundle = await cachedWorkflowBundle({ workflowsPath: path.resolve('workflows/alert-monitor.ts') });
  const taskQueue = uniqueId('alerts-e2e');
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: bundle,
    activities: { evaluateMetricChecks, sendAlertNotification },
  });
  const temporal = new Client({ connection });
  const workflowId = uniqueId('alert-monitor');

  await worker.runUntil(async () => {
    const handle = await temporal.workflow.start<AlertMonitorWorkflow>(ALERT_MONITOR_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [
        {
          monitor: 'e2e-truenas',
          prometheus: { url: prometheus.url, timeoutMs: 5000 },
          checks: ['auth-errors'],
          windows: { 'auth-errors': 10 },
          intervalSeconds: 1,
          webhooks: [{ name: 'receiver', url: receiver.url, bearer: { env: bearerEnv } }],
          retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
        },
      ],
    });
    const status = () => handle.query(alertMonitorStatusQuery);

    phase('bundled+started');
    // A few healthy cycles: nothing is sent.
    await until('two healthy cycles', async () => (await status()).cycles >= 2);
    phase('healthy cycles');
    expect((await status()).lastEvaluation?.checks[0]).toMatchObject({ check: 'auth-errors', verdict: 'pass' });
    expect(receiver.received).toHaveLength(0);

    // The TrueNAS API key is revoked: every call answers 401.
    const faultAt = Date.now();
    await fx.truenas.setFault({ status: 401 });
    const [fired] = await receiver.waitFor(1, () => true, 30_000);
    const fireSeconds = (Date.now() - faultAt) / 1000;
    expect(fired.json).toMatchObject({
      schema: 'pulse-runbooks.alert/v1',
      monitor: 'e2e-truenas',
      status: 'firing',
      severity: 'critical',
      alert: {
        check: 'auth-errors',
        metric: 'pulse_monitor_poll_errors_total{instance_type="truenas",error_type="auth"}',
        condition: 'Any increment',
        action: 'API key revoked or expired, immediate attention',
        labels: { instance: connectionId, error_type: 'auth', instance_type: 'truenas' },
        comparison: '>',
        threshold: 0,
      },
    });
    expect(Number(fired.json.alert.value)).toBeGreaterThan(0);
    expect(fired.json.alert.query).toContain('offset 10s');
    expect(fired.headers.authorization).toBe(`Bearer ${bearer}`);
    expect(fired.headers['idempotency-key']).toBe(fired.json.id);

    // It keeps firing for several more cycles: still exactly one webhook.
    const cyclesAtFire = (await status()).cycles;
    await until('three more cycles while firing', async () => (await status()).cycles >= cyclesAtFire + 3);
    const firing = await status();
    expect(firing.open.map((a) => [a.check, a.labels.instance, a.severity])).toEqual([['auth-errors', connectionId, 'critical']]);
    expect(receiver.received).toHaveLength(1);

    // The key works again: once the 10 s window holds no new auth error, the alert resolves.
    phase('fired+held');
    const clearedAt = Date.now();
    await fx.truenas.setFault(null);
    const [, resolved] = await receiver.waitFor(2, () => true, 40_000);
    const resolveSeconds = (Date.now() - clearedAt) / 1000;
    expect(resolved.json).toMatchObject({ status: 'resolved', alert: { check: 'auth-errors', labels: { instance: connectionId } } });
    expect(resolved.json.id).not.toBe(fired.json.id);
    // The receiver answers before the workflow records the delivery: wait for the record.
    const after = await until('the resolution delivery to be recorded', async () => {
      const s = await status();
      return s.deliveries.length === 2 && s;
    });
    expect(after.open).toEqual([]);
    expect(after.resolved).toEqual([
      expect.objectContaining({ check: 'auth-errors', since: fired.json.alert.since, resolvedAt: resolved.json.alert.resolvedAt }),
    ]);
    expect(after.deliveries.map((d) => [d.status, d.outcome])).toEqual([
      ['firing', 'sent'],
      ['resolved', 'sent'],
    ]);

    await handle.signal(stopAlertMonitorSignal, { reason: 'e2e done' });
    const result = (await handle.result()) as AlertMonitorResult;
    expect(result).toMatchObject({ procedure: 'alert-monitor', open: [], delivered: 2, dropped: 0, stoppedBy: 'e2e done' });
    expect(receiver.received).toHaveLength(2);

    // No secret anywhere: not the Pulse token, not the TrueNAS API key, not the webhook bearer.
    const truenasKey = String(fx.truenas.connection().apiKey);
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [fx.token, truenasKey, bearer]) {
      for (const r of receiver.received) expect(r.body).not.toContain(secret);
      expect(history).not.toContain(secret);
    }
    phase('resolved+stopped');
    process.stderr.write(
      `[alert e2e] webhook ${fireSeconds.toFixed(1)} s after the 401 fault, resolution ${resolveSeconds.toFixed(1)} s after it cleared; ${phases.join(', ')}\n`,
    );
  });
});
