/**
 * The bodies of alert notifications: a generic JSON document, a Slack-compatible message ({"text": …}, which
 * Slack, Mattermost, Rocket.Chat and Teams' Slack-compatible endpoints accept) and a PagerDuty Events API v2
 * event. Built only from the alert (catalogue text, PromQL, labels and values from Prometheus) and passed
 * through redact(), so a secret-looking field can never ride along. The one credential a body may carry is
 * PagerDuty's routing_key, which its API requires in the body; it is read on the worker and added last.
 * Pure: the workflow uses it to show plans.
 */
import { redact } from '../runbook/redact.js';
import type { AlertNotification } from './alert-state.js';

export const PAYLOAD_SCHEMA = 'pulse-runbooks.alert/v1';
export type PayloadFormat = 'json' | 'slack' | 'pagerduty';

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).filter((k) => k !== 'job' && k !== 'instance_type' && k !== 'result' && k !== 'error_type');
  return keys.length
    ? ` (${keys
        .sort()
        .map((k) => `${k}=${labels[k]}`)
        .join(', ')})`
    : '';
}

/** One line for people: "[CRITICAL] auth-errors firing (instance=…): 1 > 0, Any increment. Action: …". */
export function summaryLine(n: AlertNotification): string {
  const a = n.alert;
  const head =
    n.status === 'resolved'
      ? `[RESOLVED] ${a.check} resolved`
      : `[${a.severity.toUpperCase()}] ${a.check} ${n.repeat ? 'still firing' : 'firing'}`;
  const rule = n.status === 'resolved' ? `last value ${a.value}` : `value ${a.value} ${a.comparison} ${a.threshold}`;
  return `${head}${labelText(a.labels)}: ${a.metric} ${a.condition}, ${rule}. Action: ${a.action}`;
}

/** PagerDuty dedup keys are at most 255 characters; long keys keep their start and gain a hash. */
export function dedupKey(n: AlertNotification): string {
  const key = `${n.monitor}/${n.alert.key}`;
  if (key.length <= 255) return key;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `${key.slice(0, 240)}#${h.toString(16).padStart(8, '0')}`;
}

export function genericPayload(n: AlertNotification): Record<string, unknown> {
  return redact({
    schema: PAYLOAD_SCHEMA,
    id: n.id,
    monitor: n.monitor,
    status: n.status,
    repeat: n.repeat,
    at: n.at,
    severity: n.alert.severity,
    summary: summaryLine(n),
    alert: n.alert,
  });
}

export function slackPayload(n: AlertNotification): Record<string, unknown> {
  const a = n.alert;
  const icon = n.status === 'resolved' ? ':white_check_mark:' : a.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const lines = [
    `${icon} *${summaryLine(n)}*`,
    `Since ${a.since}${a.resolvedAt ? `, resolved ${a.resolvedAt}` : ''} · ${a.reference} · monitor ${n.monitor}`,
    a.query ? `Query: \`${a.query}\`` : '',
  ].filter(Boolean);
  return redact({ text: lines.join('\n') });
}

export function pagerDutyPayload(n: AlertNotification, routingKey: string): Record<string, unknown> {
  const base = { event_action: n.status === 'resolved' ? 'resolve' : 'trigger', dedup_key: dedupKey(n) };
  if (n.status === 'resolved') return { routing_key: routingKey, ...base };
  const body = redact({
    ...base,
    payload: {
      summary: summaryLine(n).slice(0, 1024),
      source: Object.values(n.alert.labels).length ? (n.alert.labels.instance ?? n.monitor) : n.monitor,
      severity: n.alert.severity,
      timestamp: n.at,
      component: 'truenas',
      group: 'pulse',
      class: n.alert.check,
      custom_details: { ...n.alert, monitor: n.monitor, notification: n.id },
    },
  });
  return { routing_key: routingKey, ...body };
}

/** The body for a destination format; `routingKey` only for PagerDuty. */
export function payloadFor(format: PayloadFormat, n: AlertNotification, routingKey?: string): Record<string, unknown> {
  if (format === 'slack') return slackPayload(n);
  if (format === 'pagerduty') return pagerDutyPayload(n, routingKey ?? '<routing key>');
  return genericPayload(n);
}
