/**
 * Runs a procedure while its worker is SIGKILLed at every activity boundary (bench/support/fault-worker.ts): two
 * worker processes poll the run's task queue, and a new one is started as soon as one dies, so a retry never waits
 * for a process to start (as with a standby worker in production). Returns where it was killed and when each
 * retried attempt started. The boundaries are not listed anywhere: they are whatever activities the
 * workflow schedules, and the caller checks against the run's history that every one of them was hit.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { workflowBundle } from './time-skipping.js';
import { spawnLong, type LongProcess } from './long-process.js';
import { nodeArgsFor } from '../../src/host/node-entry.js';

const WORKER = path.resolve('bench/support/fault-worker.ts');

export interface Boundary {
  activityId: string;
  activityType: string;
  attempt: number;
  at: number;
}

export interface MatrixOutcome<T> {
  value: T;
  kills: Boundary[];
  retries: Boundary[];
  /** Per kill: ms from the SIGKILL to the start of the retried attempt. */
  killToRetryMs: number[];
  workerStarts: number;
}

let bundleFile: Promise<string> | undefined;
/** The workflows bundled once for every fault worker (a worker that bundles itself takes seconds to start). */
function prebuiltBundle(): Promise<string> {
  bundleFile ??= (async () => {
    const { code } = await workflowBundle();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fault-bundle-')), 'workflows.js');
    writeFileSync(file, code);
    return file;
  })();
  return bundleFile;
}

/** Removes the bundle file written for the fault workers (call once the last matrix of the process has run). */
export async function removeFaultBundle(): Promise<void> {
  if (!bundleFile) return;
  const file = await bundleFile;
  bundleFile = undefined;
  rmSync(path.dirname(file), { recursive: true, force: true });
}

export async function withKillingWorkers<T>(
  opts: { address: string; taskQueue: string; workflowId: string; env?: Record<string, string> },
  fn: () => Promise<T>,
): Promise<MatrixOutcome<T>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fault-matrix-'));
  const env = {
    ...opts.env,
    TEMPORAL_ADDRESS: opts.address,
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    FAULT_DIR: dir,
    FAULT_WORKFLOW_ID: opts.workflowId,
    PULSE_RUNBOOKS_WORKFLOW_BUNDLE: await prebuiltBundle(),
    PULSE_RUNBOOKS_CODEC_KEYS_FILE: '',
  };
  // A new worker after every kill, dozens a run: compiled when dist/ is fresh (about half the CPU of tsx per start).
  const workerArgs = await nodeArgsFor(WORKER);
  let stopping = false;
  let starts = 0;
  const live = new Set<LongProcess>();
  const start = () => {
    starts += 1;
    const p = spawnLong(process.execPath, workerArgs, env);
    live.add(p);
    void p.child.then(() => {
      live.delete(p);
      if (!stopping) start();
    });
  };
  start();
  start();
  try {
    const value = await fn();
    const read = (prefix: string) =>
      readdirSync(dir)
        .filter((f) => f.startsWith(prefix))
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Boundary);
    const kills = read('killed-').sort((a, b) => a.at - b.at);
    const retries = read('retried-');
    const killToRetryMs = kills.flatMap((k) => {
      const r = retries.find((x) => x.activityId === k.activityId);
      return r ? [r.at - k.at] : [];
    });
    return { value, kills, retries, killToRetryMs, workerStarts: starts };
  } finally {
    stopping = true;
    await Promise.all([...live].map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The activity ids and types the run scheduled, from its history: the boundaries the matrix must have hit. */
export async function scheduledActivities(handle: WorkflowHandle): Promise<Array<{ activityId: string; activityType: string }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
      ? [
          {
            activityId: e.activityTaskScheduledEventAttributes?.activityId ?? '',
            activityType: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '',
          },
        ]
      : [],
  );
}

/** The heartbeat timeout of every activity the run scheduled, in seconds (undefined when none was set). */
export async function heartbeatTimeouts(handle: WorkflowHandle): Promise<Array<number | undefined>> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a) return [];
    const t = a.heartbeatTimeout;
    return [t ? Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9 : undefined];
  });
}
