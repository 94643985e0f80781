/**
 * The incident webhook activity against a real HTTP server on 127.0.0.1: the JSON it posts, which answers are
 * retried (5xx, 429, no answer) and which are not (other 4xx), and that the URL, which may hold a secret, never
 * appears in an error.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { notifyIncidentWebhook, type IncidentMessage } from '../../activities/incident-notify.js';
import { freePort } from '../../src/temporal/dev-server.js';

const SECRET_PATH = '/services/T000/B000/XyZsecretWebhookToken123';

let server: Server;
let base: string;
let answer = 200;
const received: Array<{ method?: string; url?: string; type?: string; body: unknown }> = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body: JSON.parse(data) });
      res.statusCode = answer;
      res.end(answer === 200 ? 'ok' : `nope ${req.url}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received.length = 0;
  answer = 200;
});

const message: IncidentMessage = {
  incidentId: 'incident-1',
  title: 'TrueNAS data stale',
  severity: 'P1',
  owner: 'Pulse Operations',
  status: 'open',
  kind: 'page',
  to: 'Pulse Operations',
  reason: 'P1: page Pulse Operations immediately',
  at: '2026-11-27T18:00:00.000Z',
};

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('notifyIncidentWebhook', () => {
  it('POSTs the incident as JSON with a chat-friendly text line', async () => {
    const r = await notifyIncidentWebhook({ target: { name: 'ops-chat', url: `${base}/hook` }, message, timeoutMs: 5000 });
    expect(r).toEqual({ target: 'ops-chat', httpStatus: 200 });
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/hook',
        type: 'application/json',
        body: {
          text: '[P1] PAGE Pulse Operations: TrueNAS data stale (incident-1); P1: page Pulse Operations immediately',
          incident: message,
        },
      },
    ]);
  });

  it('reads the URL from an env var, and never reports it', async () => {
    process.env.INCIDENT_TEST_HOOK = `${base}${SECRET_PATH}`;
    try {
      await notifyIncidentWebhook({ target: { name: 'slack', urlEnv: 'INCIDENT_TEST_HOOK' }, message, timeoutMs: 5000 });
      expect(received[0].url).toBe(SECRET_PATH);
      answer = 503;
      const err = await failure(
        notifyIncidentWebhook({ target: { name: 'slack', urlEnv: 'INCIDENT_TEST_HOOK' }, message, timeoutMs: 5000 }),
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect([err.type, err.nonRetryable]).toEqual(['NotificationUnavailable', false]);
      expect(err.message).toMatch(/^webhook slack: answered HTTP 503/);
      expect(err.message).not.toContain('XyZsecretWebhookToken123');
    } finally {
      delete process.env.INCIDENT_TEST_HOOK;
    }
  });

  it('a missing env var is not retried and names the variable', async () => {
    const err = await failure(
      notifyIncidentWebhook({ target: { name: 'slack', urlEnv: 'INCIDENT_HOOK_NOT_SET' }, message, timeoutMs: 5000 }),
    );
    expect([err.type, err.nonRetryable]).toEqual(['NotificationTargetUnavailable', true]);
    expect(err.message).toContain('INCIDENT_HOOK_NOT_SET is not set');
  });

  it.each([
    [400, 'NotificationRejected', true],
    [404, 'NotificationRejected', true],
    [408, 'NotificationUnavailable', false],
    [429, 'NotificationUnavailable', false],
    [500, 'NotificationUnavailable', false],
  ])('HTTP %i → %s (nonRetryable %s)', async (status, type, nonRetryable) => {
    answer = status;
    const err = await failure(notifyIncidentWebhook({ target: { name: 'hook', url: `${base}/h` }, message, timeoutMs: 5000 }));
    expect([err.type, err.nonRetryable, (err.details?.[0] as { httpStatus: number }).httpStatus]).toEqual([type, nonRetryable, status]);
  });

  it('no answer (nothing listening) is retryable and does not show the URL', async () => {
    const port = await freePort();
    const err = await failure(
      notifyIncidentWebhook({ target: { name: 'gone', url: `http://127.0.0.1:${port}${SECRET_PATH}` }, message, timeoutMs: 2000 }),
    );
    expect([err.type, err.nonRetryable]).toEqual(['NotificationUnavailable', false]);
    expect(err.message).toMatch(/^webhook gone: no answer/);
    expect(err.message).not.toContain(SECRET_PATH);
  });
});
