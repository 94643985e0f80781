/**
 * What every procedure command does once its input is validated: start the workflow, print the UI link,
 * follow its evidence until it ends, print the result (or JSON), and set the exit code.
 */
import type { Settings } from './context.js';
import { connect } from './context.js';
import { followRun, uiLink } from './follow.js';

export interface RunProcedureOptions<R> {
  /** Workflow type name, as exported by workflows/index.ts. */
  workflowType: string;
  /** Short name used in the workflow id and messages, e.g. "kill-switch". */
  procedure: string;
  input: { plan: boolean };
  settings: Settings;
  /** Where the procedure acts (Pulse URL, repository, data dir), for the header line. */
  target: string;
  json: boolean;
  /** One line that sums up a successful result. */
  summarize: (result: R) => string;
}

export async function runProcedure<R extends { evidence: unknown[] }>(opts: RunProcedureOptions<R>): Promise<void> {
  const { client, uiUrl } = await connect(opts.settings);
  const plan = opts.input.plan;
  const workflowId = `${opts.procedure}-${plan ? 'plan-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const handle = await client.workflow.start(opts.workflowType, { taskQueue: opts.settings.temporal.taskQueue, workflowId, args: [opts.input] });
  const out = process.stdout;
  if (!opts.json) {
    out.write(`${plan ? 'PLAN (nothing will be changed): ' : ''}${opts.procedure} against ${opts.target}: workflow ${workflowId}\n`);
    const link = uiLink(uiUrl, opts.settings.temporal.namespace, workflowId);
    if (link) out.write(`Temporal UI: ${link}\n`);
  }
  const outcome = await followRun<R>(handle, { json: opts.json, out });
  if (opts.json) {
    out.write(`${JSON.stringify(outcome.ok ? outcome.result : { error: outcome.error, evidence: outcome.progress?.evidence }, null, 2)}\n`);
  } else if (outcome.ok) {
    out.write(`\n${plan ? 'Plan complete, nothing was changed: ' : ''}${opts.summarize(outcome.result)}\n`);
  } else {
    process.stderr.write(`\n${opts.procedure} failed: ${outcome.error}\n`);
  }
  await client.connection.close();
  process.exitCode = outcome.ok ? 0 : 1;
}
