/**
 * Scale on the production rehearsal's cluster (`npm run bench`; BENCH_PRODUCTION=0 skips it): N concurrent canary
 * rollouts at the runbook's defaults (a check every 60 s on a durable timer, the default gates and windows) against
 * one real Prometheus, on ONE pulse-runbooks worker process, raising N. Everything else (PostgreSQL, the four Temporal
 * services, Prometheus, the Pulse emulator) runs on the same machine, so the figures are those of a single 2-core host
 * carrying the whole cluster, a harsher setting than a worker host of its own.
 *
 * For each N, after starting the rollouts spread over one check interval and letting them run BENCH_PRODUCTION_MINUTES:
 *   - late checks: checks that started more than 5 s after their timer was due (timer start + 60 s), from history;
 *   - schedule-to-start p99 of the check activities and of the workflow tasks, from history;
 *   - the worker's peak RSS (/proc, sampled every 2 s);
 *   - PostgreSQL growth per rollout-day: both databases' size growth over the rollout-days run.
 * Figures only, no asserts. BENCH_PRODUCTION_N="50,200,500" picks the N values; raising stops once checks run late or
 * not at all (unless BENCH_PRODUCTION_ALL=1); RSS over 1 GiB is reported as a bend but does not stop it.
 * BENCH_PRODUCTION_MAX_CACHED sets the worker's PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS, BENCH_PRODUCTION_MAX_HEAP_MB its
 * NODE_OPTIONS=--max-old-space-size.
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { startProductionCluster, type ProductionCluster } from '../src/production/cluster.js';
import { REPO_ROOT } from '../src/production/versions.js';
import { productionClient, pulseForCluster } from './support/production.js';
import { CANARY_ROLLOUT_WORKFLOW, type CanaryRolloutWorkflow } from '../workflows/canary-rollout.messages.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ms = (t?: { seconds?: unknown; nanos?: number | null } | null) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const dur = (d?: { seconds?: unknown; nanos?: number | null } | null) => ms(d);
const p99 = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
};

export interface ScaleRow {
  n: number;
  checks: number;
  lateChecks: number;
  maxLateSeconds: number;
  activityScheduleToStartP99Ms: number;
  workflowTaskScheduleToStartP99Ms: number;
  workerRssMiB: number;
  pgBytesPerRolloutDay: number;
  historyBytesPerRolloutDay: number;
  bends: string[];
}

/** Check lateness and schedule-to-start from one run's history. */
export function historyFigures(events: HistoryEvent[]) {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const timerDue = new Map<string, number>();
  for (const e of events) {
    const a = e.timerStartedEventAttributes;
    if (a) timerDue.set(a.timerId!, ms(e.eventTime) + dur(a.startToFireTimeout));
  }
  const late: number[] = [];
  const activityS2S: number[] = [];
  const taskS2S: number[] = [];
  let lastFiredDue: number | undefined;
  for (const e of events) {
    if (e.timerFiredEventAttributes) lastFiredDue = timerDue.get(e.timerFiredEventAttributes.timerId!);
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const scheduled = byId.get(Number(started.scheduledEventId));
      if (scheduled?.activityTaskScheduledEventAttributes?.activityType?.name !== 'evaluateMetricChecks') continue;
      activityS2S.push(ms(e.eventTime) - ms(scheduled.eventTime));
      // A check that follows a fired timer: how long after the timer was due did it start?
      if (lastFiredDue !== undefined) late.push((ms(e.eventTime) - lastFiredDue) / 1000);
      lastFiredDue = undefined;
    }
    const task = e.workflowTaskStartedEventAttributes;
    if (task) {
      const scheduled = byId.get(Number(task.scheduledEventId));
      if (scheduled) taskS2S.push(ms(e.eventTime) - ms(scheduled.eventTime));
    }
  }
  return { late, activityS2S, taskS2S };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Both databases on disk, and the append-only event history in them (history_node, history_tree): the database size
 * also counts the dead rows of the constantly updated execution and timer tables, which vacuum reuses but never
 * returns, so a short run overstates the long-run growth; the history tables are what retention keeps.
 */
async function pgBytes(cluster: ProductionCluster): Promise<{ total: number; history: number }> {
  const total = (await cluster.postgres.databaseSize('temporal')) + (await cluster.postgres.databaseSize('temporal_visibility'));
  const [history] = await cluster.postgres.query(
    "SELECT pg_total_relation_size('history_node') + pg_total_relation_size('history_tree')",
    'temporal',
  );
  return { total, history: Number(history) };
}

async function runN(cluster: ProductionCluster, client: Client, prometheusUrl: string, n: number, minutes: number): Promise<ScaleRow> {
  const worker = cluster.workers[0];
  const sizeBefore = await pgBytes(cluster);
  const ids: string[] = [];
  const startedAt: number[] = [];
  let peakRss = rssMiB(worker.pid);
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssMiB(worker.pid));
    } catch {
      // the worker died: the row says so through its checks
    }
  }, 2000);
  const tag = `bench-scale-${n}-${Date.now()}`;
  const spreadMs = 60_000;
  // Spread the starts over one check interval, as rollouts started by different teams would be.
  for (let i = 0; i < n; i++) {
    const due = (i * spreadMs) / n;
    const since = startedAt.length ? Date.now() - startedAt[0] : 0;
    if (due > since) await new Promise((r) => setTimeout(r, due - since));
    const workflowId = `${tag}-${i}`;
    await client.workflow.start<CanaryRolloutWorkflow>(CANARY_ROLLOUT_WORKFLOW, {
      taskQueue: cluster.taskQueue,
      workflowId,
      args: [
        {
          rollout: `scale-${i}`,
          startedBy: 'bench',
          prometheus: { url: prometheusUrl, timeoutMs: 10_000 },
          phase1: { instances: [] },
          approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
        },
      ],
    });
    ids.push(workflowId);
    startedAt.push(Date.now());
  }
  process.stderr.write(
    `[bench] N=${n}: ${n} rollouts started in ${((Date.now() - startedAt[0]) / 1000).toFixed(0)} s; running ${minutes} min\n`,
  );
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  const end = Date.now();
  clearInterval(sampler);
  const sizeAfter = await pgBytes(cluster);

  const late: number[] = [];
  const activityS2S: number[] = [];
  const taskS2S: number[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = await Promise.all(
      ids.slice(i, i + 25).map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events ?? []),
    );
    for (const events of batch) {
      const f = historyFigures(events);
      late.push(...f.late);
      activityS2S.push(...f.activityS2S);
      taskS2S.push(...f.taskS2S);
    }
  }
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) =>
        client.workflow
          .getHandle(id)
          .terminate('bench: end of this N')
          .catch(() => undefined),
      ),
    );
  }
  const rolloutDays = startedAt.reduce((sum, t) => sum + (end - t), 0) / 86_400_000;
  const lateChecks = late.filter((s) => s > 5).length;
  const row: ScaleRow = {
    n,
    checks: activityS2S.length,
    lateChecks,
    maxLateSeconds: late.length ? Math.max(...late) : NaN,
    activityScheduleToStartP99Ms: p99(activityS2S),
    workflowTaskScheduleToStartP99Ms: p99(taskS2S),
    workerRssMiB: peakRss,
    pgBytesPerRolloutDay: (sizeAfter.total - sizeBefore.total) / rolloutDays,
    historyBytesPerRolloutDay: (sizeAfter.history - sizeBefore.history) / rolloutDays,
    bends: [],
  };
  // Each rollout checks at its start and every 60 s after; far fewer completed checks means checks did not run at all.
  const expected = startedAt.reduce((sum, t) => sum + 1 + Math.floor((end - t) / 60_000), 0);
  if (row.checks < 0.9 * expected) row.bends.push(`only ${row.checks} of about ${expected} checks ran`);
  if (lateChecks > 0) row.bends.push(`${lateChecks} checks more than 5 s late`);
  if (row.workerRssMiB > 1024) row.bends.push('worker RSS over 1 GiB');
  return row;
}

export function scaleTable(rows: ScaleRow[]): string {
  const head =
    '| N rollouts | checks run | checks > 5 s late (max) | check activity schedule-to-start p99 | workflow task schedule-to-start p99 | worker RSS peak | PostgreSQL per rollout-day (of it event history) |';
  const lines = rows.map(
    (r) =>
      `| ${r.n} | ${r.checks} | ${r.lateChecks} (${r.maxLateSeconds.toFixed(1)} s) | ${r.activityScheduleToStartP99Ms} ms | ${r.workflowTaskScheduleToStartP99Ms} ms | ${r.workerRssMiB.toFixed(0)} MiB | ${(r.pgBytesPerRolloutDay / 1048576).toFixed(1)} MiB (${(r.historyBytesPerRolloutDay / 1048576).toFixed(1)} MiB) |` +
      (r.bends.length ? ` bends: ${r.bends.join('; ')}` : ''),
  );
  return [head, '|---|---|---|---|---|---|---|', ...lines].join('\n');
}

export async function productionScale(): Promise<ScaleRow[]> {
  const ns = (process.env.BENCH_PRODUCTION_N ?? '50,200,500')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((x) => x > 0);
  const minutes = Number(process.env.BENCH_PRODUCTION_MINUTES ?? 3);
  await execa('bash', [`${REPO_ROOT}/scripts/install-prometheus.sh`], { stderr: 'inherit' });
  // The worker's cache of runs (PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS): the SDK's default unless BENCH_PRODUCTION_MAX_CACHED.
  // BENCH_PRODUCTION_MAX_HEAP_MB caps the worker's V8 heap (NODE_OPTIONS=--max-old-space-size), so garbage is collected
  // before RSS grows past it; with the SDK's default cache (sized for lighter workflows) it needs a cache cap too.
  const maxCached = process.env.BENCH_PRODUCTION_MAX_CACHED;
  const maxHeap = process.env.BENCH_PRODUCTION_MAX_HEAP_MB;
  const workerEnv: Record<string, string> = {};
  if (maxCached) workerEnv.PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS = maxCached;
  if (maxHeap) workerEnv.NODE_OPTIONS = `--max-old-space-size=${maxHeap}`;
  const cluster = await startProductionCluster({ workers: 1, workerEnv });
  const client = await productionClient(cluster);
  const fixture = await pulseForCluster(cluster, { scrapeInterval: 15 });
  await fixture.addConnections(1);
  const rows: ScaleRow[] = [];
  try {
    for (const n of ns) {
      const row = await runN(cluster, client, fixture.prometheus.url, n, minutes);
      rows.push(row);
      process.stderr.write(`[bench] ${scaleTable([row]).split('\n').at(-1)}\n`);
      // Memory over the goal is reported, but only checks that run late or not at all stop the raising.
      if (row.bends.some((b) => !b.includes('RSS')) && process.env.BENCH_PRODUCTION_ALL !== '1') break;
    }
  } finally {
    await client.connection.close();
    await fixture.stop();
    await cluster.stop();
  }
  console.log(
    `production cluster scale: canary rollouts at a check every 60 s, one worker process (cache of runs: ${maxCached ?? 'the SDK default'}${maxHeap ? `, V8 heap ${maxHeap} MB` : ''}), the whole cluster on this ${(await import('node:os')).cpus().length}-core host, ${minutes} min per N:\n${scaleTable(rows)}`,
  );
  const bent = rows.find((r) => r.bends.length);
  console.log(bent ? `bends at N=${bent.n}: ${bent.bends.join('; ')}` : `no bend up to N=${rows.at(-1)?.n}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await productionScale();
