/**
 * One procedure per Pulse at a time. Two Kill-Switches started at once on one Pulse both ran and opened two
 * incident records for one event; a Disable restarting Pulse under a running Enable would be worse.
 *
 * - Same procedure, same Pulse: the run's workflow id is `<procedure>@<host:port>`, started with the conflict
 *   policy FAIL. Temporal lets only one run of an id be open, so a second start cannot start a second run, however
 *   close together they come; it attaches to (follows) the running one instead.
 * - Another procedure on the same Pulse: every other procedure's id is described first (strongly consistent), and
 *   runs that other workflows started there (an incident's containment, a canary's Enable) are found through the
 *   PulseTarget search attribute (visibility, eventually consistent: a run started a second earlier may be missed).
 *   The start is refused with that run's id (exit 4).
 * Plans change nothing, take no lock and keep a timestamped id of their own.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { listRuns } from '../temporal/list-runs.js';
import { CODE_ROLLBACK_WORKFLOW } from '../../workflows/code-rollback.messages.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import type { WorkflowName } from '../../workflows/procedure.messages.js';

/** The procedure names runProcedure uses (workflow ids, messages) and their workflow types: each acts on one Pulse. */
export const PROCEDURE_TYPES: Record<string, WorkflowName> = {
  'kill-switch': KILL_SWITCH_WORKFLOW,
  enable: ENABLE_WORKFLOW,
  disable: DISABLE_WORKFLOW,
  'code-rollback': CODE_ROLLBACK_WORKFLOW,
  'data-cleanup': DATA_CLEANUP_WORKFLOW,
};

/** `kill-switch@pulse.example:7655`: the one id a procedure's runs on one Pulse share. */
export function procedureWorkflowId(procedure: string, pulseUrl: string): string {
  const url = new URL(pulseUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${procedure}@${url.hostname}:${port}`;
}

export interface RunningRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  startTime?: Date;
  /** The CLI procedure name, when the run is one of ours. */
  procedure?: string;
}

/** Open runs that act on `pulseUrl`, other than plans. */
export async function runningOnTarget(client: Client, pulseUrl: string): Promise<RunningRun[]> {
  const found = new Map<string, RunningRun>();
  for (const [procedure, workflowType] of Object.entries(PROCEDURE_TYPES)) {
    const workflowId = procedureWorkflowId(procedure, pulseUrl);
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      if (d.status.name === 'RUNNING')
        found.set(workflowId, { workflowId, runId: d.runId, workflowType, startTime: d.startTime, procedure });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  const query = `PulseTarget = ${JSON.stringify(pulseUrl)} AND ExecutionStatus = "Running"`;
  for await (const run of listRuns(client, query)) {
    if (found.has(run.workflowId) || /-plan-/.test(run.workflowId)) continue;
    const procedure = Object.entries(PROCEDURE_TYPES).find(([, t]) => t === run.type)?.[0];
    found.set(run.workflowId, {
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.type,
      startTime: run.startTime,
      procedure,
    });
  }
  return [...found.values()];
}

export function describeRunning(run: RunningRun): string {
  return `${run.procedure ?? run.workflowType} ${run.workflowId} (run ${run.runId}${run.startTime ? `, started ${run.startTime.toISOString()}` : ''})`;
}
