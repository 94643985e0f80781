/**
 * `pulse-runbook follow <workflow id>`: pick a procedure run up again (after the CLI that started it lost contact
 * with Temporal and gave up, from another terminal, or from a script) and follow it to its end, with the same
 * output and exit codes as the command that started it.
 */
import { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ConfigError } from '../config/load.js';
import { addGlobalFlags, connect, loadSettings } from './context.js';
import { followRun, uiLink } from './follow.js';
import { followCommandLine, reportOutcome } from './run-procedure.js';
import { summarizeCleanup } from './cleanup.js';
import { summarizeDisable } from './disable.js';
import { summarizeEnable } from './enable.js';
import { summarizeKillSwitch } from './kill-switch.js';
import { summarizeRollback } from './rollback.js';

/** Workflow type -> the CLI's procedure name and its one-line summary of a result. */
const PROCEDURES: Record<string, { procedure: string; summarize: (r: never) => string }> = {
  killSwitch: { procedure: 'kill-switch', summarize: summarizeKillSwitch },
  enable: { procedure: 'enable', summarize: summarizeEnable },
  disable: { procedure: 'disable', summarize: (r) => summarizeDisable(r) },
  codeRollback: { procedure: 'code-rollback', summarize: summarizeRollback },
  dataCleanup: { procedure: 'data-cleanup', summarize: summarizeCleanup },
};

export function followCommand(): Command {
  const cmd = new Command('follow')
    .description('Follow a procedure run to its end (e.g. after the command that started it lost contact with Temporal)')
    .argument('<workflow-id>', "the run's workflow id, as the starting command printed it (e.g. kill-switch@pulse:7655)")
    .option('--run-id <id>', 'a particular run of that workflow id (default: the latest)')
    .option('--json', 'print the result as JSON');
  addGlobalFlags(cmd).action(async (workflowId: string, flags) => {
    const settings = loadSettings(flags);
    const connected = await connect(settings);
    try {
      let described;
      try {
        described = await connected.client.workflow.getHandle(workflowId, flags.runId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          throw new ConfigError(
            `follow ${workflowId}: no such run in namespace ${settings.temporal.namespace} on ${connected.address}; give the workflow id the starting command printed (and --temporal-address / --namespace if it ran elsewhere)`,
          );
        }
        throw err;
      }
      const known = PROCEDURES[described.type];
      const procedure = known?.procedure ?? described.type;
      if (!flags.json) {
        process.stdout.write(`Following ${procedure} ${workflowId} (run ${described.runId}, ${described.status.name.toLowerCase()})\n`);
        const link = uiLink(connected.uiUrl, settings.temporal.namespace, workflowId, described.runId);
        if (link) process.stdout.write(`Temporal UI: ${link}\n`);
      }
      const outcome = await followRun<{ plan?: boolean }>(
        { client: await connected.reconnect(), address: connected.address, reconnect: connected.reconnect },
        { workflowId, runId: described.runId },
        { json: Boolean(flags.json), out: process.stdout, reconnectForSeconds: settings.reconnectForSeconds },
      );
      reportOutcome(outcome, {
        procedure,
        plan: outcome.kind === 'completed' ? Boolean(outcome.result?.plan) : false,
        json: Boolean(flags.json),
        summarize: (r) => (known ? known.summarize(r as never) : `${procedure} completed.`),
        followCommand: followCommandLine(workflowId, described.runId, settings),
      });
    } finally {
      await connected.client.connection.close().catch(() => undefined);
    }
  });
  return cmd;
}
