/**
 * Helpers for the tests on the production rehearsal's cluster (test/production/): a client that encrypts like the
 * CLI with the cluster's key file, a Pulse emulator that accepts the token the workers read, a Prometheus scraping
 * it, updates that survive a server restart without being applied twice, and what a run's history says about its
 * timers and checks.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import { spawnEmulator, type EmulatorProcess } from '../../src/emulator/process.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import type { ProductionCluster } from '../../src/production/cluster.js';
import { PulseClient } from '../../src/pulse/client.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import type { CanaryStatus } from '../../workflows/canary-rollout.js';
import {
  CANARY_UPDATES,
  canaryStatusQuery,
  type CanaryUpdateName,
  type CanaryUpdateResult,
} from '../../workflows/canary-rollout.messages.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { pollCanaryStatus } from './canary.js';

export async function productionClient(cluster: ProductionCluster): Promise<Client> {
  const connection = await Connection.connect({ address: cluster.address });
  return new Client({ connection, namespace: cluster.namespace, dataConverter: loadCodec(cluster.secretFiles.codec_keys).dataConverter });
}

export interface PulseFixture {
  emulator: EmulatorProcess;
  truenas: FakeTrueNAS;
  pulse: PulseClient;
  prometheus: PrometheusProcess;
  /** Adds `n` connections to the fake TrueNAS and lets the poller see them. */
  addConnections(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** An emulator (real process) that accepts the cluster's Pulse token, a fake TrueNAS, and a Prometheus scraping it. */
export async function pulseForCluster(cluster: ProductionCluster, opts: { scrapeInterval?: number } = {}): Promise<PulseFixture> {
  const truenas = await startFakeTrueNAS({ apiKey: 'rehearsal-truenas-key' });
  const emulator = await spawnEmulator({
    enableTrueNAS: 'true',
    tickSeconds: 1,
    staleSeconds: 2,
    tokens: [{ token: cluster.pulseToken, scopes: ['*'] }],
  });
  const pulse = await PulseClient.create({ url: emulator.url, token: { file: cluster.secretFiles.pulse_token }, timeoutMs: 5000 });
  const prometheus = await startPrometheus({
    targets: [{ url: emulator.metricsUrl, job: 'pulse' }],
    scrapeInterval: opts.scrapeInterval ?? 1,
  });
  let added = 0;
  return {
    emulator,
    truenas,
    pulse,
    prometheus,
    async addConnections(n) {
      for (let i = 0; i < n; i++) await pulse.addConnection(truenas.connection({ name: `nas-${++added}` }));
      await emulator.control.tick();
    },
    async stop() {
      await pulse.close();
      await prometheus.stop();
      await emulator.stop();
      await truenas.close();
    },
  };
}

/** A rollout with short gates on live metrics: phase 1 exits after 20 s with 8 s green, checks every 2 s. */
export function shortCanaryInput(prometheusUrl: string, overrides: Partial<CanaryInputRaw> = {}): CanaryInputRaw {
  const w = 10;
  return {
    rollout: 'rehearsal',
    startedBy: 'rita',
    prometheus: { url: prometheusUrl, timeoutMs: 5000 },
    checkEverySeconds: 2,
    windows: {
      'error-rate': w,
      'staleness-gauge-max': w,
      'staleness-never-succeeded': w,
      'staleness-last-success': w,
      'auth-gate': w,
      'auth-errors': w,
      'abort-failure-rate': 5,
      'resource-memory': w,
      'resource-cpu': w,
    },
    phase1: { minSeconds: 20, greenSeconds: 8, instances: [] },
    phase2: { minSeconds: 3600, quietSeconds: 1800 },
    approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
    ...overrides,
  } as CanaryInputRaw;
}

export async function canaryStatus(handle: WorkflowHandle): Promise<CanaryStatus> {
  return handle.query(canaryStatusQuery);
}

/** Polls the status query (retrying while the cluster is recovering) until `until` holds. */
export async function statusUntil(
  handle: WorkflowHandle,
  what: string,
  until: (s: CanaryStatus) => boolean,
  timeoutMs: number,
): Promise<CanaryStatus> {
  return pollCanaryStatus(handle, until, {
    timeoutMs,
    everyMs: 250,
    timedOut: (last) =>
      `canary: ${what} not within ${timeoutMs / 1000} s; last status ${last.status ? JSON.stringify({ phase: last.status.phase, status: last.status.status, cycles: last.status.cycles, missing: last.status.missing }) : `error ${String(last.error)}`}`,
  });
}

/**
 * An update sent until the server answers, always under the same update id: a retry after a lost answer is the
 * same update to the server, never a second one. A refusal by the workflow's validator is final and thrown.
 */
export async function durableUpdate<N extends CanaryUpdateName>(
  handle: WorkflowHandle,
  name: N,
  payload: Record<string, unknown>,
  timeoutMs = 90_000,
): Promise<{ result: CanaryUpdateResult<N>; attempts: number }> {
  const update = CANARY_UPDATES[name] as UpdateDefinition<CanaryUpdateResult<N>, [unknown]>;
  const updateId = `${name}-${randomUUID()}`;
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return { result: await handle.executeUpdate(update, { args: [payload], updateId }), attempts };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const eventMs = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** What a canary run's history says about its checks and timers. */
export function checkTimeline(events: HistoryEvent[]) {
  const checks = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluateMetricChecks').map(eventMs);
  const started = events.filter((e) => e.timerStartedEventAttributes).map((e) => e.timerStartedEventAttributes!.timerId!);
  const fired = events.filter((e) => e.timerFiredEventAttributes).map((e) => e.timerFiredEventAttributes!.timerId!);
  const firedTwice = fired.filter((id, i) => fired.indexOf(id) !== i);
  const firedUnstarted = fired.filter((id) => !started.includes(id));
  const gaps = checks.slice(1).map((t, i) => (t - checks[i]) / 1000);
  return {
    checks: checks.length,
    timersStarted: started.length,
    timersFired: fired.length,
    firedTwice,
    firedUnstarted,
    /** Seconds between consecutive checks. */
    minGapSeconds: gaps.length ? Math.min(...gaps) : undefined,
    /**
     * More checks than the interval's grid has slots between the first and the last would mean a timer fired twice.
     * (Checks fall on the rollout's grid: one that ran late after an outage can be followed by the next grid check
     * in less than an interval, so the smallest gap says nothing; the count does.)
     */
    extraChecks: (intervalSeconds: number) =>
      checks.length ? checks.length - (Math.round((checks[checks.length - 1] - checks[0]) / 1000 / intervalSeconds) + 1) : 0,
    workflowTaskFailures: events.filter((e) => e.workflowTaskFailedEventAttributes).length,
    markers: events.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName!),
  };
}

/** Every event of a run's history. */
export async function historyEvents(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}
