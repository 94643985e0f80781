/**
 * Input of the alert monitor (runbook "Alert Thresholds"): where Prometheus is, which checks run with which
 * windows, how often, and where notifications go. Every window and interval is a parameter with the runbook's
 * default, so tests run the real defaults under time skipping and short windows against a live Prometheus.
 * Webhook secrets (a Slack URL, a bearer token, a PagerDuty routing key) are references to an env var or a
 * file on the worker's host, never values: the input lands in workflow history.
 */
import { z } from 'zod';
import { ALERT_CHECK_IDS, CHECK_IDS, DEFAULT_JOB } from '../prometheus/checks.js';
import { PrometheusTargetSchema } from './prometheus-target.js';
import { envNameSchema } from './env-name.js';
import { RetrySettingsSchema } from './retry.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A webhook secret (a Slack URL, a bearer token, a routing key) by reference: an env var's name or a file. */
const SecretRefSchema = z
  .object({
    env: envNameSchema('ALERT_WEBHOOK_SECRET', 'the secret').optional(),
    file: z.string().min(1, 'must be a file path').optional(),
  })
  .strict()
  .refine((r) => !(r.env && r.file), { error: 'give either env or file, not both' })
  .refine((r) => Boolean(r.env || r.file), { error: 'give env (a variable name) or file (a path)' });

const httpUrl = (example: string) =>
  z.url(`must be a URL such as ${example}`).refine((u) => /^https?:\/\//.test(u), `must start with http:// or https://, e.g. ${example}`);

export const WebhookSchema = z
  .object({
    /** Names the destination in status, logs and errors (the URL may be secret). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
      .optional(),
    /** json: the generic payload; slack: Slack-compatible {"text": …}; pagerduty: PagerDuty Events API v2. */
    format: z.enum(['json', 'slack', 'pagerduty']).default('json'),
    /** A URL that is not secret: credentials in it are refused (they belong in urlFrom, read on the worker). */
    url: httpUrl('https://hooks.example/alerts')
      .refine((u) => !/^https?:\/\/[^/?#]*@/i.test(u), {
        error:
          "must not contain a user or password (user:pass@host): put the whole URL in an env var on the worker's host and pass its name (--slack-webhook-env, or urlFrom in the input), or use --webhook-bearer-env for a token",
      })
      .optional(),
    /** A URL that is itself a secret (Slack incoming webhooks), read on the worker's host. */
    urlFrom: SecretRefSchema.optional(),
    /** Sent as `Authorization: Bearer <value>`, read on the worker's host. */
    bearer: SecretRefSchema.optional(),
    /** PagerDuty integration (routing) key, read on the worker's host; required for format pagerduty. */
    routingKey: SecretRefSchema.optional(),
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.url && w.urlFrom) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url or urlFrom, not both' });
    if (!w.url && !w.urlFrom && w.format !== 'pagerduty')
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required: give url, or urlFrom for a secret URL' });
    if (w.format === 'pagerduty' && !w.routingKey)
      ctx.addIssue({
        code: 'custom',
        path: ['routingKey'],
        message: 'required for format pagerduty: the env var or file holding the integration key',
      });
  })
  .transform((w) => (w.format === 'pagerduty' && !w.url && !w.urlFrom ? { ...w, url: PAGERDUTY_EVENTS_URL } : w));

export type Webhook = z.infer<typeof WebhookSchema> & { name: string };
export type WebhookInput = z.input<typeof WebhookSchema>;

const seconds = (max: number) => z.number().positive().max(max);

export const AlertMonitorInputSchema = z
  .object({
    /** A name for this monitor, carried in every notification (e.g. "truenas-prod"). */
    monitor: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
      .default('truenas-alerts'),
    prometheus: PrometheusTargetSchema,
    /** The Prometheus job that scrapes Pulse's metrics listener. */
    pulseJob: z.string().min(1).default(DEFAULT_JOB),
    /** Which checks to evaluate; default every alert check (the table's rows and the scrape guard). */
    checks: z
      .array(z.enum(CHECK_IDS))
      .min(1, 'name at least one check')
      .default([...ALERT_CHECK_IDS]),
    /** Window per check in seconds, overriding the runbook's (e.g. {"auth-errors": 30} in tests). */
    windows: z.partialRecord(z.enum(CHECK_IDS), seconds(7 * 86_400)).default({}),
    /** Durable timer between evaluations. */
    intervalSeconds: seconds(86_400).default(60),
    /** Re-send a still-firing alert after this long; 0 = never (one notification per firing episode). */
    repeatIntervalSeconds: z
      .number()
      .min(0)
      .max(30 * 86_400)
      .default(4 * 3600),
    /** Send a notification when an alert resolves (it is recorded as resolved either way). */
    notifyResolved: z.boolean().default(true),
    /** Consecutive cycles with Prometheus unreachable before the monitor alerts about its own blindness. */
    gapAfterCycles: z.number().int().min(1).max(1000).default(3),
    webhooks: z.array(WebhookSchema).max(20).default([]),
    /** Cycles after which the run continues as new (also when Temporal suggests it), carrying the alert state. */
    cyclesPerRun: z.number().int().min(1).max(10_000).default(200),
    /** Cycles a notification is retried (after the activity's own retries) before it is dropped and recorded. */
    deliveryCycles: z.number().int().min(1).max(1000).default(10),
    /** Plan mode: evaluate once, list what would be sent, send nothing. */
    plan: z.boolean().default(false),
    /** Retries of one webhook delivery within a cycle. */
    retry: RetrySettingsSchema.default({ maximumAttempts: 5, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
    /** The alert state carried across continue-as-new; not set by people. */
    state: z
      .custom<import('../prometheus/alert-state.js').MonitorState>(
        (v) => typeof v === 'object' && v !== null && Array.isArray((v as { open?: unknown }).open),
        'must be a monitor state',
      )
      .optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    const names = new Set<string>();
    input.webhooks.forEach((w, i) => {
      const name = w.name ?? `webhook-${i + 1}`;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `duplicate webhook name "${name}"` });
      names.add(name);
    });
  })
  .transform((input) => ({ ...input, webhooks: input.webhooks.map((w, i) => ({ ...w, name: w.name ?? `webhook-${i + 1}` }) as Webhook) }));

export type AlertMonitorInput = z.infer<typeof AlertMonitorInputSchema>;
export type AlertMonitorInputRaw = z.input<typeof AlertMonitorInputSchema>;
