/**
 * What every procedure command does once its input is validated: start the workflow, print the UI link,
 * follow its evidence until it ends, print the result (or JSON), and set the exit code.
 *
 * Every run it starts carries a static summary for the Web UI's list of runs, "<procedure> on <Pulse URL> by
 * <actor>", and static details with the target; they are payloads, so the codec encrypts them like the input.
 */
import { userInfo } from 'node:os';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { INCIDENT_ID_PREFIX, OPENS_INCIDENT_MEMO_KEY } from '../../workflows/incident.messages.js';
import type { WorkflowName } from '../../workflows/procedure.messages.js';
import type { Command } from 'commander';
import type { PulseTarget } from '../config/pulse-target.js';
import type { GlobalFlags, Settings } from './context.js';
import { connect, loadSettings, requirePulseTarget } from './context.js';
import { assertWorkersCanRead } from './codec-check.js';
import { CliExit, EXIT } from './exit-codes.js';
import { followRun, uiLink, type FollowOutcome } from './follow.js';
import { describeRunning, procedureWorkflowId, runningOnTarget, type RunningRun } from './target-lock.js';
import { runPreflight, type PreflightRequest } from './preflight.js';

/** The flags every procedure command ends with: attempts per step, plan mode, and JSON output. */
export function addRunFlags(cmd: Command, text: { maxAttempts: string; plan: string }): Command {
  return cmd
    .option('--max-attempts <n>', text.maxAttempts, Number)
    .option('--plan', text.plan)
    .option('--json', 'print the result as JSON');
}

export interface RunFlags extends GlobalFlags {
  pulseUrl?: string;
  tokenEnv?: string;
  tokenFile?: string;
  plan?: boolean;
  maxAttempts?: number;
}

/** The input's field that --max-attempts fills, for refusals that name the flag. */
export const RUN_FIELD_NAMES = { 'retry.maximumAttempts': '--max-attempts' };

/**
 * Where every procedure command starts: its settings, the Pulse target, and the input fields the run flags give
 * (`pulse`, `plan`, and `retry` from --max-attempts).
 */
export function procedureStart(flags: RunFlags): {
  settings: Settings;
  pulse: PulseTarget;
  base: { pulse: PulseTarget; plan: boolean; retry?: { maximumAttempts: number } };
} {
  const settings = loadSettings(flags);
  const pulse = requirePulseTarget(flags, settings);
  const retry = flags.maxAttempts === undefined ? {} : { retry: { maximumAttempts: flags.maxAttempts } };
  return { settings, pulse, base: { pulse, plan: Boolean(flags.plan), ...retry } };
}

export interface RunProcedureOptions<R> {
  /** Workflow type name, from the procedure's contract (workflows/<name>.messages.ts). */
  workflowType: WorkflowName;
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
  /** How long to keep reconnecting to Temporal while following (default DEFAULT_RECONNECT_SECONDS). */
  reconnectForSeconds?: number;
  /** The doctor's checks run before a destructive run starts (src/cli/preflight.ts); not for plans or a run followed. */
  preflight?: PreflightRequest;
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

/** The id of a plan run: timestamped, never shared (a plan changes nothing and takes no lock). */
function planWorkflowId(procedure: string): string {
  return `${procedure}-plan-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

export async function runProcedure<R extends { evidence: unknown[] }>(opts: RunProcedureOptions<R>): Promise<void> {
  const connected = await connect(opts.settings);
  const { client, uiUrl } = connected;
  const { namespace, taskQueue } = opts.settings.temporal;
  const plan = opts.input.plan;
  const actor = opts.actor ?? actorOf(connected);
  const out = process.stdout;
  try {
    // Before anything is written to Temporal: would the worker be able to read this run, and we its result?
    await assertWorkersCanRead(client, namespace, taskQueue, connected.codec);

    const pulseUrl = opts.input.pulse?.url;
    let workflowId = planWorkflowId(opts.procedure);
    let attached: RunningRun | undefined;
    if (!plan && pulseUrl) {
      workflowId = procedureWorkflowId(opts.procedure, pulseUrl);
      const running = await runningOnTarget(client, pulseUrl);
      const other = running.find((r) => r.workflowId !== workflowId);
      if (other) {
        throw new CliExit(
          `refused: ${describeRunning(other)} is running on ${pulseUrl}, and only one procedure runs on a Pulse at a time. ` +
            `Wait for it to end (pulse-runbook follow ${other.workflowId}) or stop it, then start ${opts.procedure} again. Nothing was started.`,
          EXIT.busy,
        );
      }
      attached = running.find((r) => r.workflowId === workflowId);
    }

    // Before anything changes: the doctor's checks for this procedure's settings (a plan changes nothing anyway).
    const preflightNote =
      !attached && !plan && opts.preflight
        ? await runPreflight(client.connection, opts.settings, opts.preflight, {
            procedure: opts.procedure,
            json: opts.json,
            identity: connected.identity,
          })
        : undefined;

    let runId: string;
    if (attached) {
      runId = attached.runId;
    } else {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      try {
        const handle = await client.workflow.start(opts.workflowType, {
          taskQueue,
          workflowId,
          args: [opts.input],
          // A second start of the same procedure on the same Pulse cannot start a second run (src/cli/target-lock.ts).
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          // This run's own incident record: the workflow id is shared by every run of it on this Pulse. (A plan has
          // an id of its own and opens no record: no memo, so a client without the key can still describe it.)
          ...(!plan && { memo: { [OPENS_INCIDENT_MEMO_KEY]: `${INCIDENT_ID_PREFIX}for-${opts.procedure}-${stamp}` } }),
          // What the Web UI lists for the run, before a worker has picked it up (the workflow's current details follow).
          staticSummary: procedureSummary(opts.procedure, plan, pulseUrl ?? opts.target, actor),
          staticDetails: `Target: ${withoutUrlCredentials(opts.target)}\n\nStarted with \`pulse-runbook ${opts.procedure}\` by ${actor}${plan ? ' as a plan: nothing is changed' : ''}.${preflightNote ? `\n\n${preflightNote}` : ''}`,
        });
        runId = handle.firstExecutionRunId;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Started by someone else between our look and our start: the same procedure, so follow that run.
        const d = await client.workflow.getHandle(workflowId).describe();
        attached = { workflowId, runId: d.runId, workflowType: opts.workflowType, startTime: d.startTime, procedure: opts.procedure };
        runId = d.runId;
      }
    }

    if (attached && !opts.json) {
      process.stderr.write(
        `${opts.procedure} is already running on ${pulseUrl}: ${describeRunning(attached)}. ` +
          'Following that run instead of starting a second one (it runs with its own input; your flags were not applied).\n',
      );
    }
    if (!opts.json) {
      out.write(`${plan ? 'PLAN (nothing will be changed): ' : ''}${opts.procedure} against ${opts.target}: workflow ${workflowId}\n`);
      const link = uiLink(uiUrl, namespace, workflowId, attached ? runId : undefined);
      if (link) out.write(`Temporal UI: ${link}\n`);
    }
    const outcome = await followRun<R>(
      { client: await connected.reconnect(), address: connected.address, reconnect: connected.reconnect },
      { workflowId, runId },
      { json: opts.json, out, reconnectForSeconds: opts.reconnectForSeconds ?? opts.settings.reconnectForSeconds },
    );
    reportOutcome(outcome, {
      procedure: opts.procedure,
      plan,
      json: opts.json,
      summarize: opts.summarize,
      followCommand: followCommandLine(workflowId, runId, opts.settings),
    });
  } finally {
    await connected.client.connection.close().catch(() => undefined);
  }
}

/** `pulse-runbook follow <id> --run-id <run> [--temporal-address …]`: how to pick a run up again. */
export function followCommandLine(workflowId: string, runId: string, settings: Settings): string {
  const address = settings.temporal.address ? ` --temporal-address ${settings.temporal.address}` : '';
  return `pulse-runbook follow ${workflowId} --run-id ${runId}${address}`;
}

/** Prints how a followed run ended and sets the exit code (src/cli/exit-codes.ts). */
export function reportOutcome<R>(
  outcome: FollowOutcome<R>,
  opts: { procedure: string; plan: boolean; json: boolean; summarize: (result: R) => string; followCommand: string },
): void {
  const out = process.stdout;
  switch (outcome.kind) {
    case 'completed':
      out.write(
        opts.json
          ? `${JSON.stringify(outcome.result, null, 2)}\n`
          : `\n${opts.plan ? 'Plan complete, nothing was changed: ' : ''}${opts.summarize(outcome.result)}\n`,
      );
      process.exitCode = EXIT.ok;
      return;
    case 'failed':
      if (opts.json) out.write(`${JSON.stringify({ error: outcome.error, evidence: outcome.progress?.evidence }, null, 2)}\n`);
      else process.stderr.write(`\n${opts.procedure} failed: ${outcome.error}\n`);
      process.exitCode = EXIT.failed;
      return;
    case 'lost-contact': {
      const text =
        `gave up reconnecting to Temporal after ${outcome.lostForSeconds} s (${outcome.error}). The ${opts.procedure} run was NOT reported failed: ` +
        `it goes on on the server. Follow it with: ${opts.followCommand}`;
      if (opts.json) out.write(`${JSON.stringify({ lostContact: true, error: text }, null, 2)}\n`);
      process.stderr.write(`\n${text}\n`);
      process.exitCode = EXIT.lostContact;
      return;
    }
    case 'unreadable':
      if (opts.json) out.write(`${JSON.stringify({ status: outcome.status, error: outcome.error }, null, 2)}\n`);
      process.stderr.write(`\n${opts.procedure}: ${outcome.error}\n`);
      process.exitCode = outcome.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
      return;
  }
}
