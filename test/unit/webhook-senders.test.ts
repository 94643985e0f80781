/**
 * The incident's and the alert monitor's notifications leave through one webhook sender (postWebhook): the same
 * answer means the same retry decision for both activities, every attempt of one notification carries the same
 * Idempotency-Key, and a secret (a secret URL's token, a bearer) that found its way into a message is masked in
 * the body, while PagerDuty's routing key, which its API needs in the body, is kept. Against a real HTTP
 * receiver on 127.0.0.1; no Temporal server is needed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { notifyIncidentWebhook, type IncidentMessage } from '../../activities/incident-notify.js';
import { sendAlertNotification } from '../../activities/notify.js';
import { WebhookSchema, type Webhook } from '../../src/config/alerts.js';
import { applyEvaluation, initialState, type AlertNotification } from '../../src/prometheus/alert-state.js';
import { checkQuery } from '../../src/prometheus/checks.js';
import { judge } from '../../src/prometheus/verdict.js';
import { MASK } from '../../src/runbook/redact.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const TOKEN = 'T0KENxq81bz4RvW2mLk9pA7c';

let receiver: WebhookReceiver;
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const message = (extra: Partial<IncidentMessage> = {}): IncidentMessage => ({
  incidentId: 'incident-for-ks-1',
  title: 'kill-switch executed: ks-1',
  severity: 'P2',
  owner: 'Pulse Operations',
  status: 'containing',
  kind: 'assign',
  to: 'Pulse Operations',
  reason: 'P2: assigned to Pulse Operations',
  at: '2026-03-01T10:00:00.000Z',
  ...extra,
});

function alertNotification(instance: string): AlertNotification {
  const { query } = checkQuery('auth-errors');
  const samples = [{ labels: { instance, instance_type: 'truenas', error_type: 'auth', job: 'pulse' }, time: 0, value: '1' }];
  const [firing] = applyEvaluation(
    initialState('2026-03-01T10:00:00.000Z'),
    {
      at: '',
      prometheusUrl: 'http://prom:9090',
      reachable: true,
      results: [judge('auth-errors', query, { resultType: 'vector', samples }, '')],
    },
    { monitor: 'truenas-prod', repeatIntervalSeconds: 0, gapAfterCycles: 3, notifyResolved: true, at: '2026-03-01T10:01:00.000Z' },
  );
  return firing;
}

const alertWebhook = (raw: Record<string, unknown>): Webhook => ({ name: 'hook', ...WebhookSchema.parse(raw) }) as Webhook;

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('one webhook sender for incidents and alerts', () => {
  const env = new MockActivityEnvironment();
  const incident = (url: string, m = message()) =>
    env.run(notifyIncidentWebhook, { target: { name: 'ops-chat', url }, message: m, timeoutMs: 5000 });
  const alert = (raw: Record<string, unknown>, n = alertNotification('conn-1')) =>
    env.run(sendAlertNotification, { webhook: alertWebhook(raw), notification: n });

  it.each([
    [502, true],
    [429, true],
    [408, true],
    [401, false],
    [404, false],
  ])('HTTP %i: both activities decide the same (retryable %s)', async (status, retryable) => {
    receiver.failNext(1, status);
    const i = await failureOf(incident(receiver.url));
    receiver.failNext(1, status);
    const a = await failureOf(alert({ url: receiver.url }));
    expect([i.nonRetryable, a.nonRetryable]).toEqual([!retryable, !retryable]);
    expect([i.type, a.type]).toEqual(
      retryable ? ['NotificationUnavailable', 'WebhookUnavailable'] : ['NotificationRejected', 'WebhookRejected'],
    );
  });

  it('every attempt of one incident notification carries the same Idempotency-Key; another notification another one', async () => {
    receiver.failNext(1, 503);
    await failureOf(incident(receiver.url));
    await incident(receiver.url); // the retry
    await incident(receiver.url, message({ kind: 'escalation', to: 'Engineering' }));
    const keys = receiver.received.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toBe('incident-for-ks-1/assign/Pulse Operations/2026-03-01T10:00:00.000Z');
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(receiver.received.map((r) => r.headers['user-agent'])).toEqual(Array(3).fill('pulse-runbooks/incident'));
  });

  it("a secret URL's token pasted into an incident message is masked in the body; the URL still receives it", async () => {
    const url = `${receiver.url}/services/${TOKEN}`;
    await incident(url, message({ title: `hook is ${url}`, reason: `token ${TOKEN}` }));
    const [got] = receiver.received;
    expect(got.path).toBe(`/hook/services/${TOKEN}`);
    expect(got.body).not.toContain(TOKEN);
    expect(got.json.incident.reason).toBe(`token ${MASK}`);
    // A word of the URL's path that is no token stays readable.
    expect(got.json.incident.title).toContain('hook is');
  });

  it('an alert body never carries the bearer, even in a label; PagerDuty keeps the routing key its API needs', async () => {
    process.env.LINK_NOTIFY_BEARER = TOKEN;
    process.env.LINK_NOTIFY_ROUTING = 'R0UTINGkey0123456789';
    try {
      await alert({ url: receiver.url, bearer: { env: 'LINK_NOTIFY_BEARER' } }, alertNotification(`conn-${TOKEN}`));
      await alert({ url: receiver.url, format: 'pagerduty', routingKey: { env: 'LINK_NOTIFY_ROUTING' } });
    } finally {
      delete process.env.LINK_NOTIFY_BEARER;
      delete process.env.LINK_NOTIFY_ROUTING;
    }
    const [generic, pagerduty] = receiver.received;
    expect(generic.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(generic.body).not.toContain(TOKEN);
    expect(generic.json.alert.labels.instance).toBe(`conn-${MASK}`);
    expect(pagerduty.json.routing_key).toBe('R0UTINGkey0123456789');
    expect(pagerduty.headers['idempotency-key']).toEqual(expect.any(String));
  });
});
