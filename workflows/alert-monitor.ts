/**
 * The alert monitor: evaluates the runbook's Alert Thresholds (src/prometheus/checks.ts) against Prometheus on a
 * durable timer, keeps the open alerts, and notifies webhooks once per firing episode and once on resolution.
 *
 * - Each cycle: one activity evaluates every configured check at one instant; the pure rule in alert-state.ts
 *   decides what starts firing, keeps firing (no new notification until the repeat interval), resolves, or is
 *   held because the evaluation could not tell ('inconclusive' never opens or resolves anything).
 * - Notifications go through an outbox in the workflow state: one activity per webhook and notification, with
 *   retries; what still fails is retried next cycle, in order, and dropped (recorded) after `deliveryCycles`.
 * - The run continues as new after `cyclesPerRun` cycles or when Temporal suggests it, carrying the state, so
 *   history stays small and an alert that fires across runs is still notified once.
 * - `status` query: open and resolved alerts, the last evaluation, the outbox. `stop` signal: ends after the
 *   current cycle (open alerts are reported, not resolved: stopping is not recovery).
 * - Plan mode: one evaluation, and the notifications that would be sent, as HTTP actions; nothing is sent.
 * - The Web UI trail: current details say what the monitor does or waits for and which alerts are open; the
 *   evaluation, each notification and the wait between cycles carry summaries named after the runbook rows
 *   (alerts.1-7, alerts.scrape).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as notifyActivities from '../activities/notify.js';
import type * as prometheusActivities from '../activities/prometheus.js';
import { AlertMonitorInputSchema, type AlertMonitorInput, type AlertMonitorInputRaw, type Webhook } from '../src/config/alerts.js';
import {
  applyEvaluation,
  enqueue,
  initialState,
  markDelivered,
  markFailed,
  type AlertNotification,
  type AlertSnapshot,
  type DeliveryRecord,
  type Evaluation,
  type EvaluationSummary,
  type MonitorState,
  type ResolvedAlert,
} from '../src/prometheus/alert-state.js';
import { CHECKS, type CheckId } from '../src/prometheus/checks.js';
import { payloadFor } from '../src/prometheus/notification.js';
import { checkEvidence } from '../src/prometheus/verdict.js';
import type { Action, Evidence } from '../src/runbook/evidence.js';
import { alertMonitorStatusQuery, stopAlertMonitorSignal } from './alert-monitor.messages.js';
import { activityOptions } from './support/activity-options.js';
import { evaluateOrInconclusive, failureMessage } from './support/evaluate-checks.js';
import { parseWorkflowInput } from './support/parse-input.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../src/config/retry.js';
import { keywordAttributes } from '../src/temporal/search-attributes.js';

export interface AlertMonitorStatus {
  monitor: string;
  phase: 'running' | 'stopped';
  monitorStartedAt: string;
  runStartedAt: string;
  /** Cycles over all runs, and in this run. */
  cycles: number;
  runCycles: number;
  intervalSeconds: number;
  /** When the next evaluation is due, while the monitor waits. */
  nextEvaluationAt?: string;
  prometheusUrl: string;
  checks: CheckId[];
  open: AlertSnapshot[];
  resolved: ResolvedAlert[];
  outbox: Array<{ id: string; webhook: string; status: AlertNotification['status']; tries: number; lastError?: string }>;
  delivered: number;
  dropped: number;
  deliveries: DeliveryRecord[];
  lastEvaluation?: EvaluationSummary;
  stop?: { reason: string; at: string };
}

export interface PlannedNotification {
  webhook: string;
  notification: AlertNotification;
  action: Action;
}

export interface AlertMonitorResult {
  procedure: 'alert-monitor';
  plan: boolean;
  monitor: string;
  startedAt: string;
  finishedAt: string;
  /** The last evaluation, one piece of evidence per check. */
  evidence: Evidence[];
  cycles: number;
  open: AlertSnapshot[];
  resolved: ResolvedAlert[];
  delivered: number;
  dropped: number;
  stoppedBy?: string;
  /** Plan mode: what would be sent. */
  planned?: PlannedNotification[];
}

const INVALID_INPUT = 'InvalidAlertMonitorInput';
/** Healthy series carried per check and cycle: enough to show values in `status`, small for a large fleet. */
const PASSING_SERIES_KEPT = 20;

export async function alertMonitor(raw: AlertMonitorInputRaw): Promise<AlertMonitorResult> {
  const input: AlertMonitorInput = parseWorkflowInput(AlertMonitorInputSchema, raw, 'alert-monitor', INVALID_INPUT);
  const runStartedAt = new Date().toISOString();
  const state: MonitorState = input.state ?? initialState(runStartedAt);
  let stop: { reason: string; at: string } | undefined;
  let phase: AlertMonitorStatus['phase'] = 'running';
  let runCycles = 0;
  let nextEvaluationAt: string | undefined;
  let lastEvaluation: Evaluation | undefined;

  const rows = rowsOf(input.checks);
  const prometheus = proxyActivities<typeof prometheusActivities>({
    // All queries run in parallel, each bounded by the client's timeout.
    startToCloseTimeout: `${Math.ceil((2 * input.prometheus.timeoutMs) / 1000) + 10} seconds`,
    // The activity heartbeats while it runs: a lost worker is noticed after this, not the whole timeout.
    heartbeatTimeout: `${DEFAULT_HEARTBEAT_TIMEOUT_SECONDS} seconds`,
    retry: { maximumAttempts: 3, initialInterval: '1 second', maximumInterval: '10 seconds' },
    summary: `${rows}: evaluate ${input.checks.length} Alert Thresholds check(s) at one instant`,
  });
  const maxWebhookTimeoutMs = Math.max(10_000, ...input.webhooks.map((w) => w.timeoutMs));
  const notifyOptions = activityOptions(input.retry, Math.ceil((2 * maxWebhookTimeoutMs) / 1000) + 5);
  /** The SDK fixes a summary per proxy: one per notification, named after the alert's runbook row. */
  const notify = (webhook: string, n: AlertNotification) =>
    proxyActivities<typeof notifyActivities>({
      ...notifyOptions,
      summary: `${rowOf(n.alert.check)}: notify ${webhook} that ${n.alert.check} is ${n.status}${n.repeat ? ' (reminder)' : ''}`,
    });

  /** The run's current details in the Web UI: what the monitor does now and which alerts are open. */
  const details = (doing: string) => {
    const open = state.open.length
      ? `${state.open.length} open alert(s): ${state.open
          .slice(0, 5)
          .map((a) => `${rowOf(a.check)} ${a.check} (${a.severity}) since ${a.since}`)
          .join('; ')}${state.open.length > 5 ? '; …' : ''}`
      : 'No open alert.';
    setCurrentDetails(`Alert monitor ${input.monitor}${input.plan ? ' (plan: nothing is sent)' : ''}: ${doing}\n\n${open}`);
  };

  setHandler(alertMonitorStatusQuery, () => ({
    monitor: input.monitor,
    phase,
    monitorStartedAt: state.monitorStartedAt,
    runStartedAt,
    cycles: state.cycles,
    runCycles,
    intervalSeconds: input.intervalSeconds,
    nextEvaluationAt,
    prometheusUrl: input.prometheus.url,
    checks: input.checks,
    open: state.open,
    resolved: state.resolved,
    outbox: state.outbox.map((e) => ({
      id: e.notification.id,
      webhook: e.webhook,
      status: e.notification.status,
      tries: e.tries,
      lastError: e.lastError,
    })),
    delivered: state.delivered,
    dropped: state.dropped,
    deliveries: state.deliveries,
    lastEvaluation: state.lastEvaluation,
    stop,
  }));
  setHandler(stopAlertMonitorSignal, (arg) => {
    stop ??= { reason: arg?.reason ?? 'stop signal', at: new Date().toISOString() };
  });

  let searchStatus = '';
  const publishStatus = (word: string) => {
    if (word === searchStatus) return;
    searchStatus = word;
    upsertSearchAttributes(keywordAttributes({ RunbookProcedure: 'alert-monitor', RunbookStatus: word }));
  };
  publishStatus(input.plan ? 'planning' : state.open.length ? 'firing' : 'running');

  /** One evaluation; a failed activity (not Prometheus: it returns inconclusive itself) counts as "could not look". */
  const evaluate = async (): Promise<Evaluation> => {
    details(`evaluating ${rows} (cycle ${state.cycles + 1}).`);
    return evaluateOrInconclusive(prometheus, {
      prometheus: input.prometheus,
      checks: input.checks,
      windows: input.windows,
      job: input.pulseJob,
      maxPassingSeries: PASSING_SERIES_KEPT,
    });
  };

  const applyOptions = (at: string) => ({
    at,
    monitor: input.monitor,
    repeatIntervalSeconds: input.repeatIntervalSeconds,
    gapAfterCycles: input.gapAfterCycles,
    notifyResolved: input.notifyResolved,
  });

  const result = (planned?: PlannedNotification[]): AlertMonitorResult => ({
    procedure: 'alert-monitor',
    plan: input.plan,
    monitor: input.monitor,
    startedAt: state.monitorStartedAt,
    finishedAt: new Date().toISOString(),
    evidence: (lastEvaluation?.results ?? []).map((r) => checkEvidence(r, undefined, input.prometheus.url)),
    cycles: state.cycles,
    open: state.open,
    resolved: state.resolved,
    delivered: state.delivered,
    dropped: state.dropped,
    stoppedBy: stop?.reason,
    ...(planned ? { planned } : {}),
  });

  if (input.plan) {
    lastEvaluation = await evaluate();
    const notifications = applyEvaluation(state, lastEvaluation, applyOptions(new Date().toISOString()));
    const planned = notifications.flatMap((n) =>
      input.webhooks.map((w) => ({ webhook: w.name, notification: n, action: plannedPost(w, n) })),
    );
    phase = 'stopped';
    details(`planned: ${planned.length} notification(s) would be sent; nothing was sent.`);
    return result(planned);
  }

  /** Sends what the outbox holds: per webhook in order (a failure holds the rest for the next cycle), webhooks in parallel. */
  const deliverOutbox = async () => {
    const names = [...new Set(state.outbox.map((e) => e.webhook))];
    await Promise.all(
      names.map(async (name) => {
        const webhook = input.webhooks.find((w) => w.name === name);
        for (const entry of state.outbox.filter((e) => e.webhook === name)) {
          if (!webhook) {
            markFailed(state, entry, new Date().toISOString(), `webhook ${name} is no longer configured`, 1);
            continue;
          }
          try {
            await notify(name, entry.notification).sendAlertNotification({ webhook, notification: entry.notification });
            markDelivered(state, entry, new Date().toISOString());
          } catch (err) {
            markFailed(state, entry, new Date().toISOString(), failureMessage(err), input.deliveryCycles);
            break;
          }
        }
      }),
    );
  };

  for (;;) {
    lastEvaluation = await evaluate();
    const notifications = applyEvaluation(state, lastEvaluation, applyOptions(new Date().toISOString()));
    enqueue(
      state,
      notifications,
      input.webhooks.map((w) => w.name),
    );
    await deliverOutbox();
    runCycles += 1;
    publishStatus(state.open.length ? 'firing' : 'running');
    if (stop) break;
    nextEvaluationAt = new Date(Date.now() + input.intervalSeconds * 1000).toISOString();
    details(`waiting for the next evaluation at ${nextEvaluationAt} (every ${input.intervalSeconds} s) or a stop signal.`);
    await condition(() => stop !== undefined, input.intervalSeconds * 1000, {
      summary: `${rows}: next evaluation in ${input.intervalSeconds} s`,
    });
    nextEvaluationAt = undefined;
    if (stop) break;
    // After the wait, so the next run starts with its evaluation exactly one interval after this run's last.
    if (runCycles >= input.cyclesPerRun || workflowInfo().continueAsNewSuggested) {
      // A signal or query handler may still run; the state goes to the next run only when they are done.
      await condition(allHandlersFinished);
      if (!stop) await continueAsNew<typeof alertMonitor>({ ...input, state });
      break;
    }
  }

  phase = 'stopped';
  publishStatus('stopped');
  details(`stopped (${stop?.reason ?? 'stop signal'}) after ${state.cycles} cycle(s); open alerts are reported, not resolved.`);
  await condition(allHandlersFinished);
  return result();
}

/**
 * The runbook row (step id) of a check, e.g. alerts.2. The monitor's own gap alert (Prometheus unreachable) has no
 * row: it is filed under alerts.scrape, the guard every row depends on.
 */
function rowOf(check: CheckId | string): string {
  return (CHECKS as Record<string, { source: { step: string } } | undefined>)[check]?.source.step ?? 'alerts.scrape';
}

/** The runbook rows a set of checks covers, in order and once each: "alerts.1, alerts.2, alerts.scrape". */
function rowsOf(checks: readonly CheckId[]): string {
  return [...new Set(checks.map(rowOf))].join(', ');
}

function refText(ref: { env?: string; file?: string }): string {
  return ref.env ? `env:${ref.env}` : `file:${ref.file}`;
}

/** The POST a webhook would receive, with secrets shown as where they would be read from. */
function plannedPost(w: Webhook, n: AlertNotification): Action {
  const url = w.url ?? `<URL from ${refText(w.urlFrom ?? {})}>`;
  const body = payloadFor(w.format, n, w.routingKey ? `<routing key from ${refText(w.routingKey)}>` : undefined);
  return { kind: 'http', method: 'POST', url, body, expect: '2xx' };
}
