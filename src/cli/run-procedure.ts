/**
 * What every procedure command does once its input is validated: start the workflow, print the UI link,
 * follow its evidence until it ends, print the result (or JSON), and set the exit code.
 *
 * Every run it starts carries a static summary for the Web UI's list of runs, "<procedure> on <Pulse URL> by
 * <actor>", and static details with the target; they are payloads, so the codec encrypts them like the input.
 */
import { userInfo } from 'node:os';
import type { Settings } from './context.js';
import { connect } from './context.js';
import { followRun, uiLink } from './follow.js';

export interface RunProcedureOptions<R> {
  /** Workflow type name, as exported by workflows/index.ts. */
  workflowType: string;
  /** Short name used in the workflow id and messages, e.g. "kill-switch". */
  procedure: string;
  input: { plan: boolean; pulse?: { url: string } };
  settings: Settings;
  /** Where the procedure acts (Pulse URL, repository, data dir), for the header line. */
  target: string;
  json: boolean;
  /** One line that sums up a successful result. */
  summarize: (result: R) => string;
  /** Who starts the run, for the UI's summary; default the actor connect() resolved, else the OS user. */
  actor?: string;
}

/**
 * Who the connected client acts as: the actor connect() resolved (src/identity: a verified token's subject, else
 * the OS user) when it resolves one, else the OS user.
 */
export function actorOf(connected: object): string {
  return (connected as { identity?: { actor?: string } }).identity?.actor || osActor();
}

/** The OS user running the CLI: what the run's summary names when no other identity is given. */
export function osActor(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** Drops user:password@ from any URL in the text: a URL may carry credentials, a summary must not. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1');
}

/** The one-line static summary of a run the CLI starts: "kill-switch on http://pulse:7655 by alice" (plans say so). */
export function procedureSummary(procedure: string, plan: boolean, where: string, actor: string): string {
  return withoutUrlCredentials(`${procedure}${plan ? ' plan' : ''} on ${where} by ${actor}`).replace(/\s+/g, ' ');
}

export async function runProcedure<R extends { evidence: unknown[] }>(opts: RunProcedureOptions<R>): Promise<void> {
  const connected = await connect(opts.settings);
  const { client, uiUrl } = connected;
  const plan = opts.input.plan;
  const workflowId = `${opts.procedure}-${plan ? 'plan-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const actor = opts.actor ?? actorOf(connected);
  const handle = await client.workflow.start(opts.workflowType, {
    taskQueue: opts.settings.temporal.taskQueue,
    workflowId,
    args: [opts.input],
    // What the Web UI lists for the run, before a worker has picked it up (the workflow's current details follow).
    staticSummary: procedureSummary(opts.procedure, plan, opts.input.pulse?.url ?? opts.target, actor),
    staticDetails: `Target: ${withoutUrlCredentials(opts.target)}\n\nStarted with \`pulse-runbook ${opts.procedure}\` by ${actor}${plan ? ' as a plan: nothing is changed' : ''}.`,
  });
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
