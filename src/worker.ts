/**
 * Builds the worker: the workflow bundle (from source under tsx, from dist when compiled, or a prebuilt bundle)
 * and every activity. One task queue serves all procedures.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import type { TemporalSettings } from './config/temporal.js';
import { workflowsPath } from './temporal/workflows-path.js';

export interface WorkerHandle {
  worker: Worker;
  connection: NativeConnection;
}

let runtimeInstalled = false;
/** Keeps the SDK's own logging at WARN (PULSE_RUNBOOKS_LOG_LEVEL to change), so progress stays readable. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.PULSE_RUNBOOKS_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed by the embedding program (a test harness): keep its choice.
  }
}

export async function createWorker(
  settings: TemporalSettings & { address: string },
  extra: Partial<WorkerOptions> = {},
): Promise<WorkerHandle> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: settings.address });
  const bundlePath = process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE;
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: workflowsPath() }),
    activities,
    ...extra,
  });
  return { worker, connection };
}
