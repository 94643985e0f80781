/** `pulse-runbook kill-switch`: runbook §3 as a durable workflow, with progress; `--plan` changes nothing. */
import { Command } from 'commander';
import { KillSwitchInputSchema } from '../config/kill-switch.js';
import { parseOrExplain } from '../config/load.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import { addGlobalFlags, addPulseFlags, connect, loadSettings, requirePulseTarget } from './context.js';
import { followRun, uiLink } from './follow.js';

export function killSwitchCommand(): Command {
  const cmd = new Command('kill-switch').description('Immediately deactivate TrueNAS by deleting every connection (runbook §3; no restart)');
  addPulseFlags(addGlobalFlags(cmd))
    .option('--plan', 'print the exact steps and HTTP calls without changing anything (only read-only GETs are made)')
    .option('--tick-seconds <n>', "Pulse's poller interval", Number)
    .option('--stale-seconds <n>', "Pulse's TrueNAS staleness threshold", Number)
    .option('--verify-every-seconds <n>', 'how often the resources are read while waiting', Number)
    .option('--max-attempts <n>', 'attempts per Pulse call while Pulse is unavailable', Number)
    .option('--json', 'print the result as JSON')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      const pulse = requirePulseTarget(flags, settings);
      const input = parseOrExplain(
        KillSwitchInputSchema,
        {
          pulse,
          plan: Boolean(flags.plan),
          ...(flags.tickSeconds !== undefined && { tickSeconds: flags.tickSeconds }),
          ...(flags.staleSeconds !== undefined && { staleThresholdSeconds: flags.staleSeconds }),
          ...(flags.verifyEverySeconds !== undefined && { verifyEverySeconds: flags.verifyEverySeconds }),
          ...(flags.maxAttempts !== undefined && { retry: { maximumAttempts: flags.maxAttempts } }),
        },
        'kill-switch',
        { tickSeconds: '--tick-seconds', staleThresholdSeconds: '--stale-seconds', verifyEverySeconds: '--verify-every-seconds', 'retry.maximumAttempts': '--max-attempts' },
      );
      const { client, uiUrl } = await connect(settings);
      const workflowId = `kill-switch-${input.plan ? 'plan-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const handle = await client.workflow.start('killSwitch', { taskQueue: settings.temporal.taskQueue, workflowId, args: [input] });
      const out = process.stdout;
      if (!flags.json) {
        out.write(`${input.plan ? 'PLAN (nothing will be changed)' : 'Kill-Switch'} against ${pulse.url}: workflow ${workflowId}\n`);
        const link = uiLink(uiUrl, settings.temporal.namespace, workflowId);
        if (link) out.write(`Temporal UI: ${link}\n`);
      }
      const outcome = await followRun<KillSwitchResult>(handle, { json: Boolean(flags.json), out });
      if (flags.json) {
        out.write(`${JSON.stringify(outcome.ok ? outcome.result : { error: outcome.error, evidence: outcome.progress?.evidence }, null, 2)}\n`);
      } else if (outcome.ok) {
        const r = outcome.result;
        out.write(
          input.plan
            ? `\nPlan complete: ${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed; nothing was changed.\n`
            : `\nKill-Switch complete: ${r.deleted.length} deleted, ${r.alreadyGone.length} already gone; TrueNAS resources online: ${r.finalResources?.online ?? 0}.\n`,
        );
      } else {
        process.stderr.write(`\nKill-Switch failed: ${outcome.error}\n`);
      }
      await client.connection.close();
      process.exitCode = outcome.ok ? 0 : 1;
    });
  return cmd;
}
