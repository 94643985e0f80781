/**
 * Delivers one notification to one webhook: reads the destination's secrets by reference, builds the body for
 * its format, POSTs it with the notification id as `Idempotency-Key` (a retry after a lost answer repeats the
 * same key, so the receiver can drop the duplicate) and classifies the outcome. 2xx is delivered; 408, 429 and
 * 5xx or no answer may pass (retryable); any other 4xx will not (the URL or the key is wrong). Errors name the
 * webhook, never a secret URL or key.
 */
import { request } from 'undici';
import type { Webhook } from '../config/alerts.js';
import { scrub } from '../runbook/redact.js';
import type { AlertNotification } from './alert-state.js';
import { payloadFor } from './notification.js';
import { readSecretRef } from './secret-ref.js';

export type WebhookErrorKind = 'rejected' | 'unavailable' | 'config';

/** The ApplicationFailure type of each outcome (activities/notify.ts); only 'unavailable' is retried. */
export const WEBHOOK_FAILURE_TYPES: Record<WebhookErrorKind, string> = {
  rejected: 'WebhookRejected',
  unavailable: 'WebhookUnavailable',
  config: 'WebhookConfigError',
};

export class WebhookError extends Error {
  constructor(
    message: string,
    readonly kind: WebhookErrorKind,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

export interface Delivery {
  webhook: string;
  id: string;
  status: number;
  ms: number;
}

export async function deliver(webhook: Webhook, notification: AlertNotification, env: NodeJS.ProcessEnv = process.env): Promise<Delivery> {
  const secrets: string[] = [];
  let url: string;
  let bearer: string | undefined;
  let routingKey: string | undefined;
  try {
    url = webhook.urlFrom ? await readSecretRef(webhook.urlFrom, `webhook ${webhook.name} URL`, env) : (webhook.url as string);
    if (webhook.urlFrom) secrets.push(url);
    if (webhook.bearer) secrets.push((bearer = await readSecretRef(webhook.bearer, `webhook ${webhook.name} bearer token`, env)));
    if (webhook.routingKey) secrets.push((routingKey = await readSecretRef(webhook.routingKey, `webhook ${webhook.name} routing key`, env)));
  } catch (err) {
    throw new WebhookError((err as Error).message, 'config');
  }
  if (!/^https?:\/\//.test(url)) throw new WebhookError(`webhook ${webhook.name}: the URL read from its reference does not start with http:// or https://`, 'config');
  const where = webhook.urlFrom ? `webhook ${webhook.name}` : `webhook ${webhook.name} (${url})`;
  const body = JSON.stringify(payloadFor(webhook.format, notification, routingKey));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'pulse-runbooks-alert-monitor',
    'idempotency-key': notification.id,
  };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const started = Date.now();
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(webhook.timeoutMs),
      headersTimeout: webhook.timeoutMs,
      bodyTimeout: webhook.timeoutMs,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    const what = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${webhook.timeoutMs} ms` : `network error${code ? ` ${code}` : ''}`;
    throw new WebhookError(scrub(`${where}: ${what}`, secrets), 'unavailable');
  }
  if (status >= 200 && status < 300) return { webhook: webhook.name, id: notification.id, status, ms: Date.now() - started };
  const retryable = status === 408 || status === 429 || status >= 500;
  throw new WebhookError(scrub(`${where} answered ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`, secrets), retryable ? 'unavailable' : 'rejected', status);
}
