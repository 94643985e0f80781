/**
 * `pulse-runbook alerts start|status|stop`: the long-running alert monitor (runbook "Alert Thresholds").
 * `start` starts it under a fixed workflow id (one monitor per id) and returns; `--plan` evaluates once and
 * prints what would be sent. `status` asks the running monitor (the `status` query); `stop` signals it and
 * waits for its summary. Webhook secrets are given as env var names, never as values on the command line.
 */
import { assertWorkersCanReadFor } from './codec-check.js';
import { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { AlertMonitorInputSchema, type AlertMonitorInput, type WebhookInput } from '../config/alerts.js';
import { ConfigError, parseOrExplain } from '../config/load.js';
import { CHECK_IDS, type CheckId } from '../prometheus/checks.js';
import type { AlertMonitorResult, AlertMonitorStatus } from '../../workflows/alert-monitor.js';
import {
  ALERT_MONITOR_WORKFLOW,
  alertMonitorStatusQuery,
  stopAlertMonitorSignal,
  type AlertMonitorWorkflow,
} from '../../workflows/alert-monitor.messages.js';
import { addGlobalFlags, connect, loadSettings, type Settings } from './context.js';
import { describeFailure, uiLink } from './follow.js';
import { renderAction } from './render.js';
import { actorOf, procedureSummary } from './run-procedure.js';

export const DEFAULT_MONITOR_ID = 'pulse-alert-monitor';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface AlertStartFlags {
  prometheusUrl?: string;
  prometheusTokenEnv?: string;
  prometheusTokenFile?: string;
  monitor?: string;
  pulseJob?: string;
  checks?: string;
  window?: string[];
  intervalSeconds?: number;
  repeatSeconds?: number;
  notifyResolved?: boolean;
  webhook?: string[];
  webhookBearerEnv?: string;
  slackWebhookEnv?: string[];
  pagerdutyRoutingKeyEnv?: string;
  plan?: boolean;
}

/** Builds the monitor's input from flags and the environment, checked by the workflow's own schema. */
export function alertInputFromFlags(flags: AlertStartFlags, env: NodeJS.ProcessEnv = process.env): AlertMonitorInput {
  const url = flags.prometheusUrl ?? env.PROMETHEUS_URL;
  if (!url)
    throw new ConfigError(
      '--prometheus-url / PROMETHEUS_URL: required; give the Prometheus base URL, e.g. --prometheus-url http://prometheus:9090',
    );
  const tokenEnv = flags.prometheusTokenEnv ?? env.PROMETHEUS_TOKEN_ENV;
  const tokenFile = flags.prometheusTokenFile ?? env.PROMETHEUS_TOKEN_FILE;
  const windows: Record<string, number> = {};
  for (const w of flags.window ?? []) {
    const m = /^([a-z0-9-]+)=(\d+(?:\.\d+)?)$/.exec(w);
    if (!m) throw new ConfigError(`--window ${w}: must be <check>=<seconds>, e.g. --window auth-errors=600`);
    if (!(CHECK_IDS as readonly string[]).includes(m[1]))
      throw new ConfigError(`--window ${w}: unknown check "${m[1]}"; known: ${CHECK_IDS.join(', ')}`);
    windows[m[1]] = Number(m[2]);
  }
  const webhooks: WebhookInput[] = [
    ...(flags.webhook ?? []).map((u, i) => ({
      name: `webhook-${i + 1}`,
      url: u,
      ...(flags.webhookBearerEnv ? { bearer: { env: flags.webhookBearerEnv } } : {}),
    })),
    ...(flags.slackWebhookEnv ?? []).map((v, i) => ({ name: `slack-${i + 1}`, format: 'slack' as const, urlFrom: { env: v } })),
    ...(flags.pagerdutyRoutingKeyEnv
      ? [{ name: 'pagerduty', format: 'pagerduty' as const, routingKey: { env: flags.pagerdutyRoutingKeyEnv } }]
      : []),
  ];
  const candidate = {
    prometheus: {
      url,
      ...(tokenEnv || tokenFile
        ? { token: Object.fromEntries(Object.entries({ env: tokenEnv, file: tokenFile }).filter(([, v]) => v)) }
        : {}),
    },
    ...(flags.monitor !== undefined && { monitor: flags.monitor }),
    ...(flags.pulseJob !== undefined && { pulseJob: flags.pulseJob }),
    ...(flags.checks !== undefined && {
      checks: flags.checks
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean) as CheckId[],
    }),
    windows,
    ...(flags.intervalSeconds !== undefined && { intervalSeconds: flags.intervalSeconds }),
    ...(flags.repeatSeconds !== undefined && { repeatIntervalSeconds: flags.repeatSeconds }),
    ...(flags.notifyResolved === false && { notifyResolved: false }),
    webhooks,
    plan: Boolean(flags.plan),
  };
  return parseOrExplain(AlertMonitorInputSchema, candidate, 'alerts start', {
    'prometheus.url': '--prometheus-url / PROMETHEUS_URL',
    'prometheus.token': '--prometheus-token-env / --prometheus-token-file',
    monitor: '--monitor',
    pulseJob: '--pulse-job',
    checks: '--checks',
    intervalSeconds: '--interval-seconds',
    repeatIntervalSeconds: '--repeat-seconds',
    webhooks: '--webhook / --webhook-bearer-env / --slack-webhook-env / --pagerduty-routing-key-env',
    ...Object.fromEntries(CHECK_IDS.map((c) => [`windows.${c}`, `--window ${c}=…`])),
  });
}

const SEVERITY = { critical: 'CRITICAL', warning: 'WARNING' } as const;
const MARK = { pass: '✔', fail: '✘', inconclusive: '?' } as const;

function labelsText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).filter((k) => !['job', 'instance_type', 'error_type', 'result'].includes(k));
  return keys.length ? ` {${keys.map((k) => `${k}=${labels[k]}`).join(', ')}}` : '';
}

/** Plain-text status for people at a terminal. */
export function renderStatus(s: AlertMonitorStatus): string {
  const lines = [
    `Alert monitor ${s.monitor}: ${s.phase}, ${s.cycles} evaluation(s) since ${s.monitorStartedAt}, every ${s.intervalSeconds} s; Prometheus ${s.prometheusUrl}`,
  ];
  if (s.nextEvaluationAt) lines.push(`Next evaluation at ${s.nextEvaluationAt}`);
  if (s.lastEvaluation) {
    lines.push(`Last evaluation ${s.lastEvaluation.at}${s.lastEvaluation.reachable ? '' : ' (Prometheus unreachable)'}:`);
    for (const c of s.lastEvaluation.checks) lines.push(`  ${MARK[c.verdict]} ${c.check}: ${c.reason}`);
  }
  lines.push(s.open.length ? `Open alerts (${s.open.length}):` : 'No open alerts.');
  for (const a of s.open)
    lines.push(
      `  ${SEVERITY[a.severity]} ${a.check}${labelsText(a.labels)}: value ${a.value} ${a.comparison} ${a.threshold} since ${a.since}. Action: ${a.action}`,
    );
  const recent = s.resolved.slice(-5);
  if (recent.length) lines.push(`Recently resolved (${recent.length} of ${s.resolved.length}):`);
  for (const r of recent) lines.push(`  ${r.check}${labelsText(r.labels)}: ${r.since} → ${r.resolvedAt}`);
  lines.push(`Notifications: ${s.delivered} delivered, ${s.dropped} dropped, ${s.outbox.length} pending`);
  for (const o of s.outbox)
    lines.push(`  pending ${o.status} → ${o.webhook} (${o.tries} failed cycle(s)${o.lastError ? `: ${o.lastError}` : ''})`);
  if (s.stop) lines.push(`Stop requested at ${s.stop.at}: ${s.stop.reason}`);
  return lines.join('\n');
}

async function withClient<T>(settings: Settings, fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  const connected = await connect(settings);
  try {
    return await fn(connected);
  } finally {
    await connected.client.connection.close();
  }
}

function startCommand(): Command {
  const cmd = new Command('start').description('Start the alert monitor (Alert Thresholds against Prometheus, webhook notifications)');
  addGlobalFlags(cmd)
    .option('--id <workflowId>', 'workflow id of the monitor (one monitor per id)', DEFAULT_MONITOR_ID)
    .option('--prometheus-url <url>', 'Prometheus base URL, e.g. http://prometheus:9090 (or PROMETHEUS_URL)')
    .option('--prometheus-token-env <name>', 'env var holding a bearer token for Prometheus')
    .option('--prometheus-token-file <path>', 'file holding a bearer token for Prometheus')
    .option('--monitor <name>', 'name carried in every notification (default truenas-alerts)')
    .option('--pulse-job <name>', 'the Prometheus job that scrapes Pulse (default pulse)')
    .option('--checks <list>', `comma-separated checks (default: every alert check); known: ${CHECK_IDS.join(', ')}`)
    .option('--window <check=seconds>', 'override a check window, repeatable', collect)
    .option('--interval-seconds <n>', 'seconds between evaluations (default 60)', Number)
    .option('--repeat-seconds <n>', 're-send a still-firing alert after this long; 0 = never (default 14400)', Number)
    .option('--no-notify-resolved', 'record resolutions without notifying')
    .option('--webhook <url>', 'generic JSON webhook, repeatable', collect)
    .option('--webhook-bearer-env <name>', 'env var (on the worker) holding a bearer token for the --webhook URLs')
    .option('--slack-webhook-env <name>', 'env var (on the worker) holding a Slack-compatible webhook URL, repeatable', collect)
    .option('--pagerduty-routing-key-env <name>', 'env var (on the worker) holding a PagerDuty Events v2 routing key')
    .option('--plan', 'evaluate once and print what would be sent; send nothing')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      const input = alertInputFromFlags(flags);
      await withClient(settings, async (connected) => {
        const { client, uiUrl } = connected;
        const out = process.stdout;
        const workflowId = input.plan ? `${flags.id}-plan-${new Date().toISOString().replace(/[:.]/g, '-')}` : flags.id;
        let handle;
        try {
          await assertWorkersCanReadFor(client, settings);
          handle = await client.workflow.start<AlertMonitorWorkflow>(ALERT_MONITOR_WORKFLOW, {
            taskQueue: settings.temporal.taskQueue,
            workflowId,
            args: [input],
            // The Web UI's one line for the run; the monitor's current details say what it does and which alerts are open.
            staticSummary: procedureSummary(`alert-monitor ${input.monitor}`, input.plan, input.prometheus.url, actorOf(connected)),
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            throw new ConfigError(
              `--id ${workflowId}: a monitor with this id is already running; see \`pulse-runbook alerts status --id ${workflowId}\`, stop it first, or choose another --id`,
            );
          }
          throw err;
        }
        const link = uiLink(uiUrl, settings.temporal.namespace, workflowId);
        if (!input.plan) {
          if (flags.json) out.write(`${JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, ui: link }, null, 2)}\n`);
          else {
            out.write(
              `Alert monitor ${input.monitor} started: workflow ${workflowId}, checks ${input.checks.join(', ')}, every ${input.intervalSeconds} s, ${input.webhooks.length} webhook(s)\n`,
            );
            if (link) out.write(`Temporal UI: ${link}\n`);
            out.write(`Status: pulse-runbook alerts status --id ${workflowId}    Stop: pulse-runbook alerts stop --id ${workflowId}\n`);
          }
          return;
        }
        try {
          const result = (await handle.result()) as AlertMonitorResult;
          if (flags.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
          else {
            out.write('PLAN (nothing was sent):\n');
            for (const e of result.evidence) out.write(`  ${e.verdict === 'ok' ? '✔' : e.verdict === 'failed' ? '✘' : '?'} ${e.summary}\n`);
            out.write(result.planned?.length ? `Would send ${result.planned.length} notification(s):\n` : 'Would send no notification.\n');
            for (const p of result.planned ?? []) out.write(`  → ${p.webhook}: ${renderAction(p.action)}\n`);
          }
        } catch (err) {
          process.stderr.write(`alerts start --plan failed: ${describeFailure(err)}\n`);
          process.exitCode = 1;
        }
      });
    });
  return cmd;
}

function statusCommand(): Command {
  const cmd = new Command('status').description('Show the running monitor: open alerts, last evaluation, notifications');
  addGlobalFlags(cmd)
    .option('--id <workflowId>', 'workflow id of the monitor', DEFAULT_MONITOR_ID)
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      await withClient(settings, async ({ client }) => {
        let status: AlertMonitorStatus;
        try {
          status = await client.workflow.getHandle(flags.id).query(alertMonitorStatusQuery);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            throw new ConfigError(`--id ${flags.id}: no monitor with this id; start one with \`pulse-runbook alerts start\``);
          throw err;
        }
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status)}\n`);
      });
    });
  return cmd;
}

function stopCommand(): Command {
  const cmd = new Command('stop').description('Stop the monitor after its current evaluation (open alerts are reported, not resolved)');
  addGlobalFlags(cmd)
    .option('--id <workflowId>', 'workflow id of the monitor', DEFAULT_MONITOR_ID)
    .option('--reason <text>', 'recorded with the stop', 'stopped from the CLI')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      await withClient(settings, async ({ client }) => {
        const handle = client.workflow.getHandle(flags.id);
        try {
          await handle.signal(stopAlertMonitorSignal, { reason: flags.reason });
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new ConfigError(`--id ${flags.id}: no running monitor with this id`);
          throw err;
        }
        const result = (await handle.result()) as AlertMonitorResult;
        if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(
            `Alert monitor ${result.monitor} stopped (${result.stoppedBy ?? 'stopped'}) after ${result.cycles} evaluation(s): ${result.open.length} alert(s) still open, ` +
              `${result.resolved.length} resolved, ${result.delivered} notification(s) delivered, ${result.dropped} dropped.\n`,
          );
        }
      });
    });
  return cmd;
}

export function alertsCommand(): Command {
  return new Command('alerts')
    .description("Alert monitor for the runbook's Alert Thresholds (Prometheus → webhooks)")
    .addCommand(startCommand())
    .addCommand(statusCommand())
    .addCommand(stopCommand());
}
