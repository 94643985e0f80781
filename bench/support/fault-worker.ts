/**
 * The worker of the fault matrix (test/e2e/fault-matrix.test.ts): the production worker (src/worker.ts) with one
 * activity interceptor that SIGKILLs the process at an activity boundary: after an activity of the watched run has
 * done its work and before its completion reaches Temporal, once per activity (a mark file per run and activity id
 * says it was killed there). So every step of the run is lost once exactly where a crash hurts most: the side
 * effect happened, nobody heard. A retried attempt records when it started, for the time from kill to retry.
 *
 * Env: TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, FAULT_DIR (marks), FAULT_WORKFLOW_ID (the watched run's workflow
 * id), PULSE_RUNBOOKS_WORKFLOW_BUNDLE (a prebuilt bundle, so a new worker is up in a second or two).
 */
import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { createWorker } from '../../src/worker.js';

const dir = process.env.FAULT_DIR as string;
const watched = process.env.FAULT_WORKFLOW_ID as string;

function writeOnce(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch {
    return false;
  }
  writeSync(fd, content);
  fsyncSync(fd);
  closeSync(fd);
  return true;
}

class KillAtBoundary implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = Context.current().info;
    const run = info.workflowExecution;
    if (!run || run.workflowId !== watched) return next(input);
    const key = `${run.runId}-${info.activityId}`;
    if (info.attempt > 1 && existsSync(join(dir, `killed-${key}.json`))) {
      writeOnce(
        join(dir, `retried-${key}.json`),
        JSON.stringify({ activityId: info.activityId, activityType: info.activityType, attempt: info.attempt, at: Date.now() }),
      );
    }
    const result = await next(input);
    if (
      writeOnce(
        join(dir, `killed-${key}.json`),
        JSON.stringify({ activityId: info.activityId, activityType: info.activityType, attempt: info.attempt, at: Date.now() }),
      )
    ) {
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined);
    }
    return result;
  }
}

const { worker, connection } = await createWorker(
  { address: process.env.TEMPORAL_ADDRESS as string, namespace: 'default', taskQueue: process.env.TEMPORAL_TASK_QUEUE as string },
  {
    interceptors: { activity: [() => ({ inbound: new KillAtBoundary() })] },
    // No sticky queue: a workflow task never waits for a worker that died (each task replays the short history).
    maxCachedWorkflows: 0,
  },
);
process.stdout.write('fault worker polling\n');
process.once('SIGTERM', () => worker.shutdown());
await worker.run();
await connection.close();
