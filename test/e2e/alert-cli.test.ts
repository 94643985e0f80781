/**
 * `pulse-runbook alerts start|status|stop` as a person runs it (the real entry point, test/support/cli-host.ts), against the Temporal dev
 * server and a worker serving the alert monitor, a real Prometheus that scrapes nothing, and a real webhook
 * receiver: the plan shows the POST it would make and sends nothing; start returns at once; status shows the
 * open alert (no `up` series for the pulse job); a second start with the same id is refused; stop prints the
 * summary. Bad flags are refused naming the flag.
 */
import path from 'node:path';
import { runCli } from '../support/cli-host.js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import { sendAlertNotification } from '../../activities/notify.js';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import { temporalAddress, uniqueId } from '../support/e2e.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { alertMonitorStatusQuery } from '../../workflows/alert-monitor.messages.js';

let prometheus: PrometheusProcess;
let receiver: WebhookReceiver;
let native: NativeConnection;
let connection: Connection;

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(['alerts', ...args], { env: { PROMETHEUS_URL: '', ...env }, timeoutMs: 60_000 });
}

beforeAll(async () => {
  quietRuntime();
  prometheus = await startPrometheus();
  receiver = await startWebhookReceiver();
  native = await NativeConnection.connect({ address: temporalAddress() });
  connection = await Connection.connect({ address: temporalAddress() });
});
afterAll(async () => {
  await connection?.close();
  await native?.close();
  await receiver?.close();
  await prometheus?.stop();
});

it('refuses bad flags, naming them, before contacting Temporal', async () => {
  const none = await cli(['start'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(none.exitCode).toBe(2);
  expect(none.stderr).toContain('--prometheus-url / PROMETHEUS_URL: required');
  const bad = await cli(['start', '--prometheus-url', 'http://p:9090', '--window', 'nope=5', '--interval-seconds', '-1'], {
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain('--window nope=5: unknown check "nope"');
  const interval = await cli(['start', '--prometheus-url', 'http://p:9090', '--interval-seconds', '-1'], {
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  expect(interval.stderr).toMatch(/alerts start --interval-seconds: /);
});

it('plans, starts, reports status, refuses a second start and stops', async () => {
  const bundle = await cachedWorkflowBundle({ workflowsPath: path.resolve('workflows/alert-monitor.ts') });
  const taskQueue = uniqueId('alerts-cli');
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: bundle,
    activities: { evaluateMetricChecks, sendAlertNotification },
  });
  const id = uniqueId('alerts-cli-monitor');
  const env = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: taskQueue };
  const common = ['--prometheus-url', prometheus.url, '--checks', 'pulse-scrape,auth-errors', '--webhook', receiver.url];

  await worker.runUntil(async () => {
    const plan = await cli(['start', '--plan', '--id', id, ...common], env);
    expect(plan.stderr).toBe('');
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('PLAN (nothing was sent)');
    expect(plan.stdout).toMatch(/✘ up\{job="<pulse job>"\} Pulse metrics listener not scraped/);
    expect(plan.stdout).toMatch(/✔ pulse_monitor_poll_errors_total\{instance_type="truenas",error_type="auth"\} Any increment/);
    expect(plan.stdout).toContain(`→ webhook-1: POST ${receiver.url}`);
    expect(receiver.received).toHaveLength(0);

    const start = await cli(['start', '--id', id, '--interval-seconds', '1', ...common], env);
    expect(start.stderr).toBe('');
    expect(start.stdout).toContain(
      `Alert monitor truenas-alerts started: workflow ${id}, checks pulse-scrape, auth-errors, every 1 s, 1 webhook(s)`,
    );
    const [fired] = await receiver.waitFor(1);
    expect(fired.json).toMatchObject({ status: 'firing', alert: { check: 'pulse-scrape', value: '(no series)' } });
    // The receiver answers before the workflow records the delivery: wait for the record.
    const handle = new Client({ connection }).workflow.getHandle(id);
    for (let i = 0; (await handle.query(alertMonitorStatusQuery)).delivered < 1; i++) {
      if (i > 100) throw new Error('the delivery was never recorded');
      await new Promise((r) => setTimeout(r, 100));
    }

    const status = await cli(['status', '--id', id], env);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/Alert monitor truenas-alerts: running, \d+ evaluation\(s\)/);
    expect(status.stdout).toContain('WARNING pulse-scrape: value (no series) < 1');
    expect(status.stdout).toMatch(/Notifications: 1 delivered, 0 dropped, 0 pending/);
    const json = JSON.parse((await cli(['status', '--id', id, '--json'], env)).stdout);
    expect(json.open).toHaveLength(1);

    const again = await cli(['start', '--id', id, ...common], env);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`--id ${id}: a monitor with this id is already running`);

    const stop = await cli(['stop', '--id', id, '--reason', 'maintenance'], env);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toMatch(
      /Alert monitor truenas-alerts stopped \(maintenance\) after \d+ evaluation\(s\): 1 alert\(s\) still open, 0 resolved, 1 notification\(s\) delivered, 0 dropped\./,
    );
    expect(receiver.received).toHaveLength(1);

    const missing = await cli(['status', '--id', `${id}-nope`], env);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no monitor with this id');
  });
});
