/**
 * Delivers one incident notification (page, notify, assign, escalation) to one webhook as a generic JSON POST,
 * through the project's one webhook sender (src/prometheus/webhook.ts postWebhook, shared with the alert
 * monitor's sendAlertNotification). Temporal retries the activity: no answer, a timeout, 408, 429 or a 5xx is
 * retryable; any other 4xx is not (the receiver refused the message, and sending it again cannot help). Every
 * attempt carries the same Idempotency-Key.
 *
 * The webhook URL may carry a secret (Slack and Teams put one in the path), so it can be read from an env var on
 * the worker's host, it is treated as a secret either way, and it never appears in a message, a result, the
 * body or the record: only the target's name does. The body carries the incident's public facts only.
 *
 * The activity name and its failure types are kept as they were: running incidents have them in their history.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { NotificationTarget } from '../src/config/incident.js';
import { postWebhook, WebhookError } from '../src/prometheus/webhook.js';
import { readSecretRef } from '../src/prometheus/secret-ref.js';
import { redact } from '../src/runbook/redact.js';
import { keptAlive } from './support/heartbeat.js';

export const NOTIFY_FAILURE_TYPES = {
  targetUnavailable: 'NotificationTargetUnavailable',
  rejected: 'NotificationRejected',
  unavailable: 'NotificationUnavailable',
} as const;

export interface IncidentMessage {
  incidentId: string;
  title: string;
  severity: string;
  owner: string;
  status: string;
  kind: 'page' | 'notify' | 'assign' | 'escalation';
  to: string;
  reason: string;
  at: string;
}

export interface IncidentWebhookInput {
  target: NotificationTarget;
  message: IncidentMessage;
  timeoutMs: number;
}

export interface IncidentWebhookResult {
  target: string;
  httpStatus: number;
}

/** The body most chat webhooks accept (`text`) plus the structured facts for anything else. */
export function webhookBody(message: IncidentMessage): Record<string, unknown> {
  const verb = { page: 'PAGE', notify: 'NOTIFY', assign: 'ASSIGNED', escalation: 'ESCALATION' }[message.kind];
  return redact({
    text: `[${message.severity}] ${verb} ${message.to}: ${message.title} (${message.incidentId}); ${message.reason}`,
    incident: message,
  });
}

/** One notification is one (incident, kind, recipient, time): its retries share the key. */
export function incidentIdempotencyKey(message: IncidentMessage): string {
  return `${message.incidentId}/${message.kind}/${message.to}/${message.at}`;
}

async function resolveUrl(target: NotificationTarget): Promise<string> {
  if (target.url) return target.url;
  try {
    return await readSecretRef({ env: target.urlEnv }, `webhook ${target.name} URL`);
  } catch (err) {
    throw ApplicationFailure.create({ message: (err as Error).message, type: NOTIFY_FAILURE_TYPES.targetUnavailable, nonRetryable: true });
  }
}

export async function notifyIncidentWebhook(input: IncidentWebhookInput): Promise<IncidentWebhookResult> {
  // Heartbeats while it runs: a lost worker is noticed by the heartbeat timeout (activities/support/heartbeat.ts).
  return keptAlive(() => notifyIncidentWebhookNow(input));
}

async function notifyIncidentWebhookNow(input: IncidentWebhookInput): Promise<IncidentWebhookResult> {
  const name = input.target.name;
  const url = await resolveUrl(input.target);
  try {
    const answer = await postWebhook({
      name,
      url,
      secretUrl: true,
      body: webhookBody(input.message),
      idempotencyKey: incidentIdempotencyKey(input.message),
      timeoutMs: input.timeoutMs,
      userAgent: 'pulse-runbooks/incident',
    });
    return { target: name, httpStatus: answer.status };
  } catch (err) {
    if (!(err instanceof WebhookError)) throw err;
    if (err.kind === 'config') {
      throw ApplicationFailure.create({ message: err.message, type: NOTIFY_FAILURE_TYPES.targetUnavailable, nonRetryable: true });
    }
    const answered = err.status !== undefined;
    throw ApplicationFailure.create({
      message: answered
        ? `webhook ${name}: answered HTTP ${err.detail.replace(/^answered /, '')}`
        : `webhook ${name}: no answer (${err.detail})`,
      type: err.kind === 'rejected' ? NOTIFY_FAILURE_TYPES.rejected : NOTIFY_FAILURE_TYPES.unavailable,
      nonRetryable: !err.retryable,
      ...(answered ? { details: [{ httpStatus: err.status }] } : {}),
    });
  }
}
