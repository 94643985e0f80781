/**
 * Delivers one incident notification (page, notify, assign, escalation) to one webhook as a generic JSON POST.
 * Temporal retries the activity: a network error, a timeout, 408, 429 or a 5xx is retryable; any other 4xx is
 * not (the receiver refused the message, and sending it again cannot help).
 *
 * The webhook URL may carry a secret (Slack and Teams put one in the path), so it can be read from an env var on
 * the worker's host, and it never appears in a message, a result or the record: only the target's name does.
 * The body carries the incident's public facts only.
 */
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { NotificationTarget } from '../src/config/incident.js';
import { excerpt, scrub } from '../src/runbook/redact.js';

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

function resolveUrl(target: NotificationTarget): string {
  if (target.url) return target.url;
  const value = target.urlEnv ? process.env[target.urlEnv] : undefined;
  if (!value) {
    throw ApplicationFailure.create({
      message: `webhook ${target.name}: the environment variable ${target.urlEnv} is not set on the worker's host`,
      type: NOTIFY_FAILURE_TYPES.targetUnavailable,
      nonRetryable: true,
    });
  }
  return value;
}

/** The body most chat webhooks accept (`text`) plus the structured facts for anything else. */
export function webhookBody(message: IncidentMessage): Record<string, unknown> {
  const verb = { page: 'PAGE', notify: 'NOTIFY', assign: 'ASSIGNED', escalation: 'ESCALATION' }[message.kind];
  return {
    text: `[${message.severity}] ${verb} ${message.to}: ${message.title} (${message.incidentId}); ${message.reason}`,
    incident: message,
  };
}

/** Every part of a webhook URL that could be its secret, for scrubbing echoes of it out of messages. */
function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const parts = [url, u.pathname + u.search, u.pathname, u.search.slice(1), u.username, u.password];
    for (const segment of [...u.pathname.split('/'), ...u.search.slice(1).split('&').flatMap((kv) => kv.split('='))]) {
      if (segment.length >= 8) parts.push(segment);
    }
    return parts.filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  } catch {
    return [url];
  }
}

export async function notifyIncidentWebhook(input: IncidentWebhookInput): Promise<IncidentWebhookResult> {
  const url = resolveUrl(input.target);
  const name = input.target.name;
  const secrets = urlSecrets(url);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'pulse-runbooks/incident' },
      body: JSON.stringify(webhookBody(input.message)),
      signal: AbortSignal.timeout(input.timeoutMs),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    // The message of a transport error can contain the URL; only the target's name is reported.
    const reason = scrub((err as Error).message ?? String(err), secrets);
    throw ApplicationFailure.create({
      message: `webhook ${name}: no answer (${excerpt(reason, 200)})`,
      type: NOTIFY_FAILURE_TYPES.unavailable,
    });
  }
  if (status >= 200 && status < 300) return { target: name, httpStatus: status };
  const retryable = status === 408 || status === 429 || status >= 500;
  throw ApplicationFailure.create({
    message: `webhook ${name}: answered HTTP ${status}: ${excerpt(scrub(text, secrets), 200)}`,
    type: retryable ? NOTIFY_FAILURE_TYPES.unavailable : NOTIFY_FAILURE_TYPES.rejected,
    nonRetryable: !retryable,
    details: [{ httpStatus: status }],
  });
}
