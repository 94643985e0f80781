/** `pulse-runbook kill-switch`: runbook §3 as a durable workflow, with progress; `--plan` changes nothing. */
import { Command } from 'commander';
import { KillSwitchInputSchema } from '../config/kill-switch.js';
import { parseOrExplain } from '../config/load.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import { addGlobalFlags, addPulseFlags } from './context.js';
import { addIncidentRolesFlag, incidentLinkFromFlags, INCIDENT_ROLES_FLAG } from './incident-roles-flag.js';
import { addRunFlags, procedureStart, RUN_FIELD_NAMES, runProcedure } from './run-procedure.js';
import { addPreflightFlag, preflightFrom } from './preflight.js';

export function killSwitchCommand(): Command {
  const cmd = new Command('kill-switch').description(
    'Immediately deactivate TrueNAS by deleting every connection (runbook §3; no restart)',
  );
  addRunFlags(addPreflightFlag(addIncidentRolesFlag(addPulseFlags(addGlobalFlags(cmd)))), {
    maxAttempts: 'attempts per Pulse call while Pulse is unavailable',
    plan: 'print the exact steps and HTTP calls without changing anything (only read-only GETs are made)',
  })
    .option('--tick-seconds <n>', "Pulse's poller interval", Number)
    .option('--stale-seconds <n>', "Pulse's TrueNAS staleness threshold", Number)
    .option('--verify-every-seconds <n>', 'how often the resources are read while waiting', Number)
    .action(async (flags) => {
      const { settings, pulse, base } = procedureStart(flags);
      const incident = incidentLinkFromFlags(flags);
      const input = parseOrExplain(
        KillSwitchInputSchema,
        {
          ...base,
          ...(flags.tickSeconds !== undefined && { tickSeconds: flags.tickSeconds }),
          ...(flags.staleSeconds !== undefined && { staleThresholdSeconds: flags.staleSeconds }),
          ...(flags.verifyEverySeconds !== undefined && { verifyEverySeconds: flags.verifyEverySeconds }),
          ...(incident && { incident }),
        },
        'kill-switch',
        {
          tickSeconds: '--tick-seconds',
          staleThresholdSeconds: '--stale-seconds',
          verifyEverySeconds: '--verify-every-seconds',
          ...RUN_FIELD_NAMES,
          'incident.roles': INCIDENT_ROLES_FLAG,
        },
      );
      await runProcedure<KillSwitchResult>({
        workflowType: KILL_SWITCH_WORKFLOW,
        procedure: 'kill-switch',
        input,
        settings,
        target: pulse.url,
        json: Boolean(flags.json),
        summarize: summarizeKillSwitch,
        preflight: preflightFrom(flags, { pulse: input.pulse }),
      });
    });
  return cmd;
}

export function summarizeKillSwitch(r: KillSwitchResult): string {
  return r.plan
    ? `${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed.`
    : `Kill-Switch complete: ${r.deleted.length} deleted, ${r.alreadyGone.length} already gone; TrueNAS resources online: ${r.finalResources?.online ?? 0}.`;
}
