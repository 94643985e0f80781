/**
 * Notifications: the destination and monitor schemas, the three payload formats (generic JSON, Slack-compatible,
 * PagerDuty Events v2), and delivery to a real local HTTP receiver: idempotency key, bearer and secret URL read
 * by reference, retryable vs rejected answers, and no secret in any payload or error.
 */
import { createServer } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sendAlertNotification } from '../../activities/notify.js';
import { AlertMonitorInputSchema, PAGERDUTY_EVENTS_URL, WebhookSchema, type Webhook } from '../../src/config/alerts.js';
import { applyEvaluation, initialState, type AlertNotification } from '../../src/prometheus/alert-state.js';
import { ALERT_CHECK_IDS, checkQuery } from '../../src/prometheus/checks.js';
import { dedupKey, genericPayload, pagerDutyPayload, PAYLOAD_SCHEMA, slackPayload } from '../../src/prometheus/notification.js';
import { deliver, WebhookError } from '../../src/prometheus/webhook.js';
import { judge } from '../../src/prometheus/verdict.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

function notifications(values: Record<string, string>, extraLabels: Record<string, string> = {}): AlertNotification[] {
  const state = initialState('2026-03-01T10:00:00.000Z');
  const { query } = checkQuery('auth-errors');
  const samples = Object.entries(values).map(([instance, value]) => ({
    labels: { instance, instance_type: 'truenas', error_type: 'auth', job: 'pulse', ...extraLabels },
    time: 0,
    value,
  }));
  const opts = { monitor: 'truenas-prod', repeatIntervalSeconds: 0, gapAfterCycles: 3, notifyResolved: true };
  const firing = applyEvaluation(
    state,
    {
      at: '',
      prometheusUrl: 'http://prom:9090',
      reachable: true,
      results: [judge('auth-errors', query, { resultType: 'vector', samples }, '')],
    },
    { ...opts, at: '2026-03-01T10:01:00.000Z' },
  );
  const resolved = applyEvaluation(
    state,
    {
      at: '',
      prometheusUrl: 'http://prom:9090',
      reachable: true,
      results: [judge('auth-errors', query, { resultType: 'vector', samples: [] }, '')],
    },
    { ...opts, at: '2026-03-01T10:09:00.000Z' },
  );
  return [...firing, ...resolved];
}

const webhook = (raw: Record<string, unknown>): Webhook => ({ name: 'hook', ...WebhookSchema.parse(raw) }) as Webhook;

describe('schemas', () => {
  it('monitor input: the runbook defaults, every alert check, webhook names assigned', () => {
    const input = AlertMonitorInputSchema.parse({
      prometheus: { url: 'http://prom:9090/' },
      webhooks: [{ url: 'https://hooks.example/a' }, { format: 'pagerduty', routingKey: { env: 'PD_KEY' } }],
    });
    expect(input).toMatchObject({
      intervalSeconds: 60,
      repeatIntervalSeconds: 14_400,
      gapAfterCycles: 3,
      notifyResolved: true,
      pulseJob: 'pulse',
      windows: {},
      plan: false,
    });
    expect(input.prometheus.url).toBe('http://prom:9090');
    expect(input.checks).toEqual([...ALERT_CHECK_IDS]);
    expect(input.webhooks.map((w) => [w.name, w.format, w.url])).toEqual([
      ['webhook-1', 'json', 'https://hooks.example/a'],
      ['webhook-2', 'pagerduty', PAGERDUTY_EVENTS_URL],
    ]);
    // Parsing the parsed input again (continue-as-new) changes nothing.
    expect(AlertMonitorInputSchema.parse(input)).toEqual(input);
  });

  it('names the wrong field', () => {
    const bad = AlertMonitorInputSchema.safeParse({
      prometheus: { url: 'http://prom:9090' },
      checks: ['auth-errors', 'nope'],
      windows: { timeouts: -5 },
      webhooks: [
        { format: 'slack' },
        { format: 'pagerduty', url: 'https://x.example' },
        { name: 'a', url: 'https://a.example' },
        { name: 'a', url: 'https://b.example' },
      ],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^checks\.1: /),
        expect.stringMatching(/^windows\.timeouts: /),
        expect.stringMatching(/^webhooks\.0\.url: required/),
        expect.stringMatching(/^webhooks\.1\.routingKey: required for format pagerduty/),
      ]),
    );
    const dup = AlertMonitorInputSchema.safeParse({
      prometheus: { url: 'http://prom:9090' },
      webhooks: [
        { name: 'a', url: 'https://a.example' },
        { name: 'a', url: 'https://b.example' },
      ],
    });
    expect(dup.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['webhooks.1.name: duplicate webhook name "a"']);
  });
});

describe('payload formats', () => {
  const [firing, resolved] = notifications({ 'conn-1': '1' });

  it('generic JSON: the metric, the query, the value, the severity and the runbook action', () => {
    const p = genericPayload(firing) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(p).toMatchObject({ schema: PAYLOAD_SCHEMA, monitor: 'truenas-prod', status: 'firing', severity: 'critical', id: firing.id });
    expect(p.alert).toMatchObject({
      check: 'auth-errors',
      metric: 'pulse_monitor_poll_errors_total{instance_type="truenas",error_type="auth"}',
      value: '1',
      comparison: '>',
      threshold: 0,
      action: 'API key revoked or expired, immediate attention',
      labels: { instance: 'conn-1' },
    });
    expect(p.alert.query).toContain('offset 5m');
    expect(p.summary).toBe(
      '[CRITICAL] auth-errors firing (instance=conn-1): pulse_monitor_poll_errors_total{instance_type="truenas",error_type="auth"} Any increment, value 1 > 0. Action: API key revoked or expired, immediate attention',
    );
    expect((genericPayload(resolved) as any).summary).toMatch(/^\[RESOLVED\] auth-errors resolved \(instance=conn-1\)/); // eslint-disable-line @typescript-eslint/no-explicit-any
  });

  it('Slack-compatible: one text field', () => {
    const p = slackPayload(firing) as { text: string };
    expect(Object.keys(p)).toEqual(['text']);
    expect(p.text).toMatch(/^:rotating_light: \*\[CRITICAL\] auth-errors firing/);
    expect(p.text).toContain('Alert Thresholds, row 4');
  });

  it('PagerDuty Events v2: trigger and resolve share the dedup key; long keys stay within 255 characters', () => {
    const trigger = pagerDutyPayload(firing, 'R0UTING') as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const resolve = pagerDutyPayload(resolved, 'R0UTING');
    expect(trigger).toMatchObject({
      routing_key: 'R0UTING',
      event_action: 'trigger',
      payload: { severity: 'critical', source: 'conn-1', class: 'auth-errors', component: 'truenas' },
    });
    expect(resolve).toEqual({ routing_key: 'R0UTING', event_action: 'resolve', dedup_key: trigger.dedup_key });
    const [long] = notifications({ ['x'.repeat(400)]: '1' });
    expect(dedupKey(long).length).toBeLessThanOrEqual(255);
    expect(dedupKey(long)).not.toBe(dedupKey(notifications({ ['x'.repeat(399)]: '1' })[0]));
  });

  it('redacts secret-looking fields, even if a label were named like one', () => {
    const [leaky] = notifications({ 'conn-1': '1' }, { token: 'label-secret-value' });
    for (const body of [genericPayload(leaky), slackPayload(leaky), pagerDutyPayload(leaky, 'K')]) {
      expect(JSON.stringify(body)).not.toContain('label-secret-value');
    }
  });
});

describe('delivery to a real HTTP receiver', () => {
  let receiver: WebhookReceiver;
  const [firing] = notifications({ 'conn-1': '1' });
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('POSTs the JSON with the idempotency key and a bearer read by reference; nothing secret in the body', async () => {
    const env = { HOOK_BEARER: 'bearer-secret-123456' };
    const delivery = await deliver(webhook({ url: receiver.url, bearer: { env: 'HOOK_BEARER' } }), firing, env);
    expect(delivery).toMatchObject({ webhook: 'hook', id: firing.id, status: 200 });
    const [got] = receiver.received;
    expect(got.method).toBe('POST');
    expect(got.headers['idempotency-key']).toBe(firing.id);
    expect(got.headers.authorization).toBe('Bearer bearer-secret-123456');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.json).toMatchObject({ status: 'firing', alert: { check: 'auth-errors' } });
    expect(got.body).not.toContain('bearer-secret-123456');
  });

  it('reads a secret URL by reference and never names it in errors', async () => {
    const secretUrl = `${receiver.url}/T000/B000/very-secret-path`;
    receiver.failNext(1, 404);
    const err = await deliver(webhook({ format: 'slack', urlFrom: { env: 'SLACK_URL' } }), firing, { SLACK_URL: secretUrl }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebhookError);
    expect(err).toMatchObject({ kind: 'rejected', status: 404, retryable: false });
    expect((err as Error).message).not.toContain('very-secret-path');
    expect((err as Error).message).toMatch(/^webhook hook answered 404/);
    await deliver(webhook({ format: 'slack', urlFrom: { env: 'SLACK_URL' } }), firing, { SLACK_URL: secretUrl });
    expect(receiver.received[1].path).toBe('/hook/T000/B000/very-secret-path');
    expect(Object.keys(receiver.received[1].json)).toEqual(['text']);
  });

  it('classifies 503 and 429 as retryable, 400 as rejected, a missing reference as a config error', async () => {
    for (const [status, kind] of [
      [503, 'unavailable'],
      [429, 'unavailable'],
      [408, 'unavailable'],
      [400, 'rejected'],
    ] as const) {
      receiver.failNext(1, status);
      await expect(deliver(webhook({ url: receiver.url }), firing)).rejects.toMatchObject({ kind, status });
    }
    await expect(deliver(webhook({ url: receiver.url, bearer: { env: 'NOT_SET_ANYWHERE' } }), firing, {})).rejects.toMatchObject({
      kind: 'config',
      message: expect.stringContaining('NOT_SET_ANYWHERE is not set'),
    });
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const hung = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      const url = `http://127.0.0.1:${(hung.address() as { port: number }).port}/hook`;
      const err = await deliver(webhook({ url, timeoutMs: 300 }), firing).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('no answer within 300 ms') });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });

  it('the activity maps outcomes to failure types Temporal retries (or not)', async () => {
    const env = new MockActivityEnvironment();
    const ok: Awaited<ReturnType<typeof sendAlertNotification>> = await env.run(sendAlertNotification, {
      webhook: webhook({ url: receiver.url }),
      notification: firing,
    });
    expect(ok.status).toBe(200);
    receiver.failNext(1, 502);
    const retryable = (await env
      .run(sendAlertNotification, { webhook: webhook({ url: receiver.url }), notification: firing })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(retryable).toBeInstanceOf(ApplicationFailure);
    expect({ type: retryable.type, nonRetryable: retryable.nonRetryable }).toEqual({ type: 'WebhookUnavailable', nonRetryable: false });
    receiver.failNext(1, 401);
    const rejected = (await env
      .run(sendAlertNotification, { webhook: webhook({ url: receiver.url }), notification: firing })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect({ type: rejected.type, nonRetryable: rejected.nonRetryable }).toEqual({ type: 'WebhookRejected', nonRetryable: true });
  });
});
