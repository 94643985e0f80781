/** `pulse-runbook disable`: runbook §2 as a durable workflow, with progress while it waits; `--plan` changes nothing. */
import { Command } from 'commander';
import { DisableInputSchema } from '../config/disable.js';
import { parseOrExplain } from '../config/load.js';
import type { DisableResult } from '../../workflows/disable.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { addGlobalFlags, addPulseFlags } from './context.js';
import { addHostFlags, HOST_FIELD_NAMES, hostInputFromFlags } from './enable.js';
import { addRunFlags, procedureStart, runProcedure } from './run-procedure.js';
import { addPreflightFlag, preflightFrom } from './preflight.js';

export function disableCommand(): Command {
  const cmd = new Command('disable').description(
    'Disable TrueNAS: set the flag to false, restart Pulse, wait the staleness window, verify (runbook §2)',
  );
  addRunFlags(addPreflightFlag(addHostFlags(addPulseFlags(addGlobalFlags(cmd)))), {
    maxAttempts: 'attempts per step while Pulse or the host is unavailable',
    plan: 'print each step, the exact command or HTTP call and the file it would touch, without changing anything',
  })
    .option(
      '--flag-value <false|unset>',
      'write false (default; works on every Pulse line) or remove the line (disables only the Feb line: on v6 unset means ON)',
    )
    .option('--stale-seconds <n>', "Pulse's TrueNAS staleness threshold, waited after the restart (default 120)", Number)
    .option('--grace-seconds <n>', 'how long to keep watching after the window before failing (default 30)', Number)
    .option('--verify-every-seconds <n>', 'how often the resources are read during the grace period', Number)
    .action(async (flags) => {
      const { settings, pulse, base } = procedureStart(flags);
      const input = parseOrExplain(
        DisableInputSchema,
        {
          ...base,
          ...hostInputFromFlags(flags),
          ...(flags.flagValue !== undefined && { flagValue: flags.flagValue }),
          ...(flags.staleSeconds !== undefined && { staleThresholdSeconds: flags.staleSeconds }),
          ...(flags.graceSeconds !== undefined && { graceSeconds: flags.graceSeconds }),
          ...(flags.verifyEverySeconds !== undefined && { verifyEverySeconds: flags.verifyEverySeconds }),
        },
        'disable',
        {
          ...HOST_FIELD_NAMES,
          flagValue: '--flag-value',
          staleThresholdSeconds: '--stale-seconds',
          graceSeconds: '--grace-seconds',
          verifyEverySeconds: '--verify-every-seconds',
        },
      );
      await runProcedure<DisableResult>({
        workflowType: DISABLE_WORKFLOW,
        procedure: 'disable',
        input,
        settings,
        target: pulse.url,
        json: Boolean(flags.json),
        summarize: (r) => summarizeDisable(r, input.staleThresholdSeconds),
        preflight: preflightFrom(flags, { pulse: input.pulse, flag: input.flag, restart: input.restart, prefix: input.prefix }),
      });
    });
  return cmd;
}

export function summarizeDisable(r: DisableResult, stale?: number): string {
  if (r.plan) return `${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed.`;
  const window = stale === undefined ? 'the staleness window' : `the ${stale} s window`;
  const flag = `PULSE_ENABLE_TRUENAS=${r.flag?.valueAfter ?? '(unset)'} ${r.flag?.changed ? 'written to' : 'already in'} ${r.flag?.path}`;
  const restart = r.restarted ? `Pulse restarted at ${r.restartedAt}` : 'no restart was needed';
  const f = r.finalResources;
  const seen = !f
    ? 'no resource check'
    : f.total === 0
      ? `after ${window} no TrueNAS resource is listed (they vanished${r.before?.total ? `; ${r.before.total} before` : ''})`
      : `after ${window}: ${f.stale} stale, ${f.offline} offline, ${f.online} online`;
  const lines = (f?.resources ?? [])
    .slice(0, 10)
    .map(
      (x) =>
        `\n  ${x.name} (${x.type}): resource ${x.resourceStatus}, TrueNAS source ${x.truenasSourceStatus}${x.ageSeconds !== undefined ? `, last seen ${x.ageSeconds} s ago` : ''}`,
    );
  return `Disable complete: ${flag}; ${restart}; ${seen}.${lines.join('')}`;
}
