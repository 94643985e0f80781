/**
 * Notification side effects: one POST of one alert notification to one webhook, through the project's one
 * webhook sender (src/prometheus/webhook.ts, shared with the incident's notifyIncidentWebhook). Temporal retries
 * the activity while the webhook may recover (no answer, 408, 429, 5xx); a rejection (other 4xx) or a broken
 * destination setting is not retried. Every attempt carries the same Idempotency-Key. The activity name stays:
 * running alert monitors have it in their history.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Webhook } from '../src/config/alerts.js';
import type { AlertNotification } from '../src/prometheus/alert-state.js';
import { deliver, WEBHOOK_FAILURE_TYPES, WebhookError, type Delivery } from '../src/prometheus/webhook.js';
import { keptAlive } from './support/heartbeat.js';

export interface SendAlertNotificationInput {
  webhook: Webhook;
  notification: AlertNotification;
}

export async function sendAlertNotification(input: SendAlertNotificationInput): Promise<Delivery> {
  // Heartbeats while it runs: a lost worker is noticed by the heartbeat timeout (activities/support/heartbeat.ts).
  return keptAlive(() => sendAlertNotificationNow(input));
}

async function sendAlertNotificationNow(input: SendAlertNotificationInput): Promise<Delivery> {
  try {
    return await deliver(input.webhook, input.notification);
  } catch (err) {
    if (err instanceof WebhookError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: WEBHOOK_FAILURE_TYPES[err.kind],
        nonRetryable: !err.retryable,
        details: [{ status: err.status }],
      });
    }
    throw err;
  }
}
