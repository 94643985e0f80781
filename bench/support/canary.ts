/**
 * Helpers for canary tests: the bundle with scripted children, a scripted `evaluateMetricChecks` activity whose
 * answers depend on the (skipped) time since the rollout started, judged by the real verdict code, and small
 * wrappers for the status query and updates.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from './bundle-cache.js';
import { startTimeSkipping, uniqueId } from './time-skipping.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import type { Evaluation } from '../../src/prometheus/alert-state.js';
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { evaluationOf, judge, judgeInstances } from '../../src/prometheus/verdict.js';
import type { EvaluateMetricChecksInput } from '../../activities/prometheus.js';
import type { CanaryStatus } from '../../workflows/canary-rollout.js';
import {
  CANARY_UPDATES,
  canaryStatusQuery,
  type CanaryUpdateName,
  type CanaryUpdateResult,
} from '../../workflows/canary-rollout.messages.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

export function canaryBundle(): Promise<{ code: string }> {
  return cachedWorkflowBundle({ workflowsPath: path.join(here, 'canary-workflows.ts') });
}

/** A healthy Pulse: values that pass every check (and a steady resource use). */
export const HEALTHY: Partial<Record<CheckId, string>> = {
  'error-rate': '0.01',
  'staleness-gauge-max': '62',
  'staleness-never-succeeded': '3',
  'staleness-last-success': '61',
  'auth-gate': '0',
  'abort-failure-rate': '0.01',
  'auth-errors': '0',
  'resource-memory': '100000000',
  'resource-cpu': '0.05',
  'staleness-warning': '30',
  'staleness-critical': '30',
};

/** Values per check: a number as Prometheus writes it, null for an empty result. */
export type ScriptValues = Partial<Record<CheckId, string | null>>;

/**
 * What Prometheus answers at `hours` since the rollout started: a value per check (fleet-wide), and for a fleet with
 * per-instance gates, `instances`: values per instance over HEALTHY (an instance not named is healthy). The script
 * sees the instances the workflow left out of the fleet-wide queries, as Prometheus would.
 */
export type MetricScript = (
  hours: number,
  seen: { exclude: string[] },
) => (ScriptValues & { instances?: Record<string, ScriptValues> }) | 'unreachable';

/**
 * The scripted activity. The time comes from the activity's scheduled timestamp, which is the test server's
 * (skipped) clock, so a script can say "error rate 20 % at hour 40". `calls` counts evaluations.
 */
export function scriptedMetrics(script: MetricScript, startedAt: () => number) {
  const calls = { count: 0 };
  async function evaluateMetricChecks(input: EvaluateMetricChecksInput): Promise<Evaluation> {
    calls.count += 1;
    const nowMs = Context.current().info.currentAttemptScheduledTimestampMs;
    const at = new Date(nowMs).toISOString();
    const hours = (nowMs - startedAt()) / HOUR;
    const answer = script(hours, { exclude: input.exclude?.values ?? [] });
    requests.push({ at: input.time ?? nowMs / 1000, exclude: input.exclude?.values ?? [], expected: input.perInstance?.expected ?? [] });
    if (answer === 'unreachable') {
      const { unanswered } = await import('../../src/prometheus/verdict.js');
      return {
        at,
        prometheusUrl: input.prometheus.url,
        reachable: false,
        results: input.checks.map((id) =>
          unanswered(id, checkQuery(id).query, at, { kind: 'unavailable', message: 'connect ECONNREFUSED' }, checkQuery(id).windowSeconds),
        ),
      };
    }
    const { instances, ...fleetWide } = answer;
    const values: ScriptValues = { ...HEALTHY, ...fleetWide };
    const per = input.perInstance;
    return {
      ...evaluationOf(input, at, true, (id, query, windowSeconds) => {
        const value = values[id];
        const samples =
          value === null || value === undefined ? [] : [{ labels: { instance: 'pulse-1:9091', job: 'pulse' }, time: nowMs / 1000, value }];
        return judge(id, query, { resultType: 'vector', samples }, at, windowSeconds);
      }),
      ...(per && {
        perInstance: per.checks.map((id) => {
          const { query, windowSeconds } = checkQuery(id, { windowSeconds: input.windows?.[id], job: input.job, by: per.label });
          const samples = per.expected.flatMap((name) => {
            const value = { ...HEALTHY, ...instances?.[name] }[id];
            return value === null || value === undefined ? [] : [{ labels: { [per.label]: name }, time: nowMs / 1000, value }];
          });
          return judgeInstances(id, query, { resultType: 'vector', samples }, at, per.label, per.expected, windowSeconds);
        }),
      }),
    };
  }
  /** What each evaluation was asked: its time (unix s), the instances left out fleet-wide, those judged on their own. */
  const requests: Array<{ at: number; exclude: string[]; expected: string[] }> = [];
  return { activities: { evaluateMetricChecks }, calls, requests };
}

/**
 * One scripted `evaluateMetricChecks` for a worker shared by many rollouts: each workflow id gets its own script
 * (`register` it before starting the run), timed from when it started, and keeps what its evaluations were asked.
 */
export function scriptedMetricsPerWorkflow() {
  const runs = new Map<string, { script: MetricScript; startedAt: number; metrics?: ReturnType<typeof scriptedMetrics> }>();
  return {
    register(workflowId: string, script: MetricScript, startedAt: number): void {
      runs.set(workflowId, { script, startedAt });
    },
    /** What the evaluations of a run were asked (see scriptedMetrics' requests). */
    requestsOf(workflowId: string) {
      return runs.get(workflowId)?.metrics?.requests ?? [];
    },
    activities: {
      async evaluateMetricChecks(input: EvaluateMetricChecksInput): Promise<Evaluation> {
        const id = Context.current().info.workflowExecution!.workflowId;
        const run = runs.get(id);
        if (!run) throw new Error(`no metric script for ${id}`);
        run.metrics ??= scriptedMetrics(run.script, () => run.startedAt);
        return run.metrics.activities.evaluateMetricChecks(input);
      },
    },
  };
}

export function canaryInput(overrides: Partial<CanaryInputRaw> = {}): CanaryInputRaw {
  return {
    startedBy: 'rita',
    prometheus: { url: 'http://prometheus.example:9090' },
    approvers: { phase1: ['sam', 'olga'], phase2: ['sam', 'olga', 'rita'], phase3: ['sam'] },
    phase1: {
      instances: [
        {
          name: 'dev-1',
          enable: { pulse: { url: 'http://dev-1:7655', token: { env: 'PULSE_TOKEN' } }, restart: { kind: 'command', argv: ['true'] } },
          disable: { pulse: { url: 'http://dev-1:7655', token: { env: 'PULSE_TOKEN' } }, restart: { kind: 'command', argv: ['true'] } },
        },
        { name: 'dev-2', contact: 'ops@example.com' },
      ],
    },
    ...overrides,
  } as CanaryInputRaw;
}

export async function statusWhen(
  handle: WorkflowHandle,
  until: (s: CanaryStatus) => boolean = () => true,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<CanaryStatus> {
  return pollCanaryStatus(handle, until, {
    timeoutMs,
    everyMs,
    failFast: true,
    timedOut: (last) =>
      `the canary status did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last.status ? { phase: last.status.phase, status: last.status.status, missing: last.status.missing, waitingFor: last.status.waitingFor } : String(last.error))}`,
  });
}

/**
 * Queries the canary's status until `until` holds, every `everyMs`. A query that fails is tried again; with
 * `failFast`, a run that is no longer running (it failed, e.g. refused its input) ends the wait at once with why.
 */
export async function pollCanaryStatus(
  handle: WorkflowHandle,
  until: (s: CanaryStatus) => boolean,
  opts: {
    timeoutMs: number;
    everyMs: number;
    failFast?: boolean;
    timedOut: (last: { status?: CanaryStatus; error?: unknown }) => string;
  },
): Promise<CanaryStatus> {
  const deadline = Date.now() + opts.timeoutMs;
  const last: { status?: CanaryStatus; error?: unknown } = {};
  for (;;) {
    try {
      last.status = await handle.query(canaryStatusQuery);
      if (until(last.status)) return last.status;
    } catch (err) {
      last.error = err;
      const description = opts.failFast ? await handle.describe().catch(() => undefined) : undefined;
      if (description && description.status.name !== 'RUNNING') {
        const outcome = await handle.result().then(
          () => 'completed',
          (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
        );
        throw new Error(`the canary run is ${description.status.name}: ${outcome}`, { cause: err });
      }
    }
    if (Date.now() > deadline) throw new Error(opts.timedOut(last));
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}

/** Sends one update by its name in the contract (workflows/canary-rollout.messages.ts); answers what it answers. */
export function canaryUpdate<N extends CanaryUpdateName>(
  handle: WorkflowHandle,
  name: N,
  payload: Record<string, unknown>,
): Promise<CanaryUpdateResult<N>> {
  const update = CANARY_UPDATES[name] as UpdateDefinition<CanaryUpdateResult<N>, [unknown]>;
  return handle.executeUpdate(update, { args: [payload] });
}

/**
 * A rollout file for the CLI tests: short gates, one retry, and a Prometheus URL nobody answers (the checks are
 * inconclusive, so the run stays in phase 1 while people act on it). A fresh name each call.
 */
export function writeShortRolloutFile(dir: string, prometheusPort: number): string {
  const file = path.join(dir, `rollout-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      prometheus: { url: `http://127.0.0.1:${prometheusPort}`, timeoutMs: 2000 },
      approvers: { phase1: ['sam', 'olga'], phase2: ['sam'], phase3: ['sam'] },
      phase1: { instances: [], minSeconds: 5, greenSeconds: 2 },
      phase2: { minSeconds: 10, quietSeconds: 5 },
      retry: { maximumAttempts: 1, initialIntervalSeconds: 1, maximumIntervalSeconds: 1 },
    }),
  );
  return file;
}

/**
 * The time-skipping server and one worker with the real canary workflows and a scripted metrics activity per
 * workflow id, for a whole test file (registers its beforeAll/afterAll). `env()` is the server once it has started.
 */
export function canaryTestWorker(queuePrefix: string) {
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const taskQueue = uniqueId(queuePrefix);
  const metrics = scriptedMetricsPerWorkflow();
  beforeAll(async () => {
    env = await startTimeSkipping();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await canaryBundle(),
      activities: metrics.activities,
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  return { env: () => env!, taskQueue, metrics };
}
