/** Helpers for the incident tests: the test-only bundle, polling the record, sending updates. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import type { IncidentRecord } from '../../src/incident/types.js';
import { startTimeSkipping, uniqueId } from '../../bench/support/time-skipping.js';
import type { IncidentUpdateName } from '../../src/config/incident.js';
import { INCIDENT_UPDATES, incidentRecordQuery } from '../../workflows/incident.messages.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** incident + killSwitch + test stand-ins (see incident-workflows.ts), bundled once per source tree. */
export function incidentBundle(): Promise<{ code: string }> {
  return cachedWorkflowBundle({ workflowsPath: path.join(here, 'incident-workflows.ts') });
}

/**
 * One time-skipping server and one worker on the incident bundle for the whole test file (registered as
 * beforeAll/afterAll). `env` is usable inside tests and hooks, once beforeAll has run.
 */
export function incidentServerForFile(name: string): { readonly env: TestWorkflowEnvironment; readonly taskQueue: string } {
  const taskQueue = uniqueId(name);
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    env = await startTimeSkipping();
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await incidentBundle() });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  return {
    taskQueue,
    get env() {
      if (!env) throw new Error('the time-skipping server is not started yet: use server.env inside tests and hooks');
      return env;
    },
  };
}

/** Queries the record until `until` holds (the worker may not have processed the latest event yet). */
export async function recordWhen(
  handle: WorkflowHandle,
  until: (r: IncidentRecord) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<IncidentRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentRecord | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await handle.query(incidentRecordQuery);
      if (until(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the incident record did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last ?? String(lastError))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends one update by its name in the contract (workflows/incident.messages.ts). */
export function update(handle: WorkflowHandle, name: IncidentUpdateName, payload: Record<string, unknown>) {
  return handle.executeUpdate(INCIDENT_UPDATES[name], { args: [payload] });
}

export const MINUTE = 60_000;
