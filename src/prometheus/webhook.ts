/**
 * The one webhook sender of the project: every notification (alert monitor, incident record) is one JSON POST
 * through `postWebhook`. It classifies the answer the same way for both, so Temporal's activity retries mean the
 * same thing everywhere: 2xx is delivered; 408, 429, 5xx and no answer may pass on a retry ('unavailable');
 * any other 4xx will not (the URL or the key is wrong: 'rejected'); a destination that cannot even be read is
 * 'config'. Every attempt of one notification carries the same Idempotency-Key, so a receiver can drop the
 * duplicate a retry after a lost answer sends.
 *
 * Secrets stay where they belong: the URL (when it is itself a secret), a bearer header, PagerDuty's routing key.
 * They are masked in every error, and masked in the body too unless the body must carry them; errors name the
 * webhook, and show its URL only when the URL is not a secret.
 *
 * `deliver` is the alert monitor's use of it: secrets read by reference, body per destination format.
 */
import { request } from 'undici';
import { MASK, scrub } from '../runbook/redact.js';
import type { AlertNotification } from './alert-state.js';
import { payloadFor, type PayloadFormat } from './notification.js';
import { readSecretRef, type SecretRef } from './secret-ref.js';

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
    /** What happened without the webhook's name: "answered 503: …", "no answer within 300 ms"; secrets masked. */
    readonly detail: string = message,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

export interface WebhookPost {
  /** Names the destination in errors. */
  name: string;
  url: string;
  /** The URL is itself a secret (a chat webhook's key in its path, or read by reference): never shown, masked part by part. */
  secretUrl: boolean;
  body: Record<string, unknown>;
  /** Same on every attempt of one notification. */
  idempotencyKey?: string;
  /** Extra headers (e.g. authorization); their values belong in `secrets`. */
  headers?: Record<string, string>;
  /** Values that appear only where they belong (URL, headers): masked in errors and in the body. */
  secrets?: string[];
  /** Values the body must carry (PagerDuty's routing_key): masked in errors only. */
  bodySecrets?: string[];
  timeoutMs: number;
  userAgent: string;
}

export interface WebhookAnswer {
  status: number;
  ms: number;
}

/**
 * Every part of a URL that could be its secret (path segments and query values of `minSegment` characters or
 * more, user info), longest first. Errors mask every segment of 8+; a body only token-like ones (16+), so a
 * word such as "services" in a message survives.
 */
export function urlSecrets(url: string, minSegment = 8): string[] {
  try {
    const u = new URL(url);
    const parts = [url, u.pathname + u.search, u.pathname, u.search.slice(1), u.username, u.password];
    for (const segment of [
      ...u.pathname.split('/'),
      ...u.search
        .slice(1)
        .split('&')
        .flatMap((kv) => kv.split('=')),
    ]) {
      if (segment.length >= minSegment) parts.push(segment);
    }
    return parts.filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  } catch {
    return [url];
  }
}

/** Masks secrets inside every string of a JSON value (keys included), leaving its shape intact. */
export function scrubDeep<T>(value: T, secrets: string[]): T {
  if (typeof value === 'string') return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [scrub(k, secrets), scrubDeep(v, secrets)]),
    ) as T;
  }
  return value;
}

export async function postWebhook(post: WebhookPost): Promise<WebhookAnswer> {
  const where = post.secretUrl ? `webhook ${post.name}` : `webhook ${post.name} (${post.url})`;
  const usable = (list: string[]) => list.filter((s) => s.length >= 4 && s !== MASK).sort((a, b) => b.length - a.length);
  const bodyMasked = usable([...(post.secrets ?? []), ...(post.secretUrl ? urlSecrets(post.url, 16) : [])]);
  const errorMasked = usable([...(post.secrets ?? []), ...(post.secretUrl ? urlSecrets(post.url) : []), ...(post.bodySecrets ?? [])]);
  const fail = (kind: WebhookErrorKind, detail: string, status?: number, sep = ': ') => {
    const clean = scrub(detail, errorMasked);
    return new WebhookError(scrub(`${where}${sep}${clean}`, errorMasked), kind, status, clean);
  };
  if (!/^https?:\/\//.test(post.url))
    throw fail('config', `the URL${post.secretUrl ? ' read from its reference' : ''} does not start with http:// or https://`);

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': post.userAgent,
    ...(post.idempotencyKey ? { 'idempotency-key': post.idempotencyKey } : {}),
    ...post.headers,
  };
  const started = Date.now();
  let status: number;
  let text: string;
  try {
    const res = await request(post.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(scrubDeep(post.body, bodyMasked)),
      signal: AbortSignal.timeout(post.timeoutMs),
      headersTimeout: post.timeoutMs,
      bodyTimeout: post.timeoutMs,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    // Only the kind of failure is reported: a transport error's own message can hold the URL.
    const e = err as { name?: string; code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    throw fail(
      'unavailable',
      e.name === 'TimeoutError' || e.name === 'AbortError'
        ? `no answer within ${post.timeoutMs} ms`
        : `network error${code ? ` ${code}` : ''}`,
    );
  }
  if (status >= 200 && status < 300) return { status, ms: Date.now() - started };
  const retryable = status === 408 || status === 429 || status >= 500;
  throw fail(retryable ? 'unavailable' : 'rejected', `answered ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`, status, ' ');
}

export interface Delivery {
  webhook: string;
  id: string;
  status: number;
  ms: number;
}

/** An alert webhook as deliver reads it; src/config/alerts.ts's WebhookSchema checks it at the edge. */
export interface WebhookDestination {
  name: string;
  format: PayloadFormat;
  url?: string;
  urlFrom?: SecretRef;
  bearer?: SecretRef;
  routingKey?: SecretRef;
  timeoutMs: number;
}

/** One alert notification to one alert webhook: its secrets read by reference, its body per format. */
export async function deliver(
  webhook: WebhookDestination,
  notification: AlertNotification,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Delivery> {
  let url: string;
  let bearer: string | undefined;
  let routingKey: string | undefined;
  try {
    url = webhook.urlFrom ? await readSecretRef(webhook.urlFrom, `webhook ${webhook.name} URL`, env) : (webhook.url as string);
    if (webhook.bearer) bearer = await readSecretRef(webhook.bearer, `webhook ${webhook.name} bearer token`, env);
    if (webhook.routingKey) routingKey = await readSecretRef(webhook.routingKey, `webhook ${webhook.name} routing key`, env);
  } catch (err) {
    throw new WebhookError((err as Error).message, 'config');
  }
  const answer = await postWebhook({
    name: webhook.name,
    url,
    secretUrl: Boolean(webhook.urlFrom),
    body: payloadFor(webhook.format, notification, routingKey),
    idempotencyKey: notification.id,
    ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
    secrets: [bearer, ...(webhook.urlFrom ? [url] : [])].filter((s): s is string => Boolean(s)),
    bodySecrets: routingKey ? [routingKey] : [],
    timeoutMs: webhook.timeoutMs,
    userAgent: 'pulse-runbooks-alert-monitor',
  });
  return { webhook: webhook.name, id: notification.id, status: answer.status, ms: answer.ms };
}
