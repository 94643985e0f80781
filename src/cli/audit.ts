/**
 * `pulse-runbook audit`: the recorded human actions across runs (who, what, when, evidence), read from workflow
 * history (src/audit/events.ts says why history), decoded with the configured codec key file.
 *
 *   pulse-runbook audit [--since 24h|2026-11-26] [--workflow-id ID] [--procedure NAME] [--actor NAME] [--json|--jsonl]
 */
import { Command } from 'commander';
import { AuditFilterError, collectAuditEvents, parseSince, workflowTypeOf, type AuditFilters } from '../audit/collect.js';
import { renderAudit, type AuditFormat } from '../audit/render.js';
import { ConfigError } from '../config/load.js';
import { addGlobalFlags, connect, loadSettings, type GlobalFlags } from './context.js';

interface AuditFlags extends GlobalFlags {
  since?: string;
  workflowId?: string;
  procedure?: string;
  actor?: string;
  json?: boolean;
  jsonl?: boolean;
  maxRuns: number;
}

/** Checks the flags before Temporal is contacted; errors name the flag. */
export function auditFiltersFromFlags(flags: AuditFlags, now: Date = new Date()): { filters: AuditFilters; format: AuditFormat } {
  try {
    if (flags.json && flags.jsonl) throw new AuditFilterError('audit --json / --jsonl: give one of them');
    if (!Number.isInteger(flags.maxRuns) || flags.maxRuns < 1)
      throw new AuditFilterError('audit --max-runs: must be a whole number of at least 1');
    if (flags.procedure) workflowTypeOf(flags.procedure);
    const filters: AuditFilters = {
      ...(flags.since !== undefined && { since: parseSince(flags.since, now) }),
      ...(flags.workflowId && { workflowId: flags.workflowId }),
      ...(flags.procedure && { procedure: flags.procedure }),
      ...(flags.actor && { actor: flags.actor }),
      maxRuns: flags.maxRuns,
    };
    return { filters, format: flags.jsonl ? 'jsonl' : flags.json ? 'json' : 'table' };
  } catch (err) {
    if (err instanceof AuditFilterError) throw new ConfigError(err.message);
    throw err;
  }
}

export function auditCommand(): Command {
  return addGlobalFlags(
    new Command('audit').description('List recorded human actions across runs (who, what, when, evidence), from workflow history'),
  )
    .option('--since <when>', 'only actions since: an ISO date/time or a duration back from now (30m, 24h, 7d)')
    .option('--workflow-id <id>', 'only this workflow (all its runs)')
    .option(
      '--procedure <name>',
      'only this procedure: kill-switch, enable, disable, code-rollback, data-cleanup, incident, alert-monitor, canary-rollout',
    )
    .option('--actor <name>', 'only actions by this person')
    .option('--json', 'print a JSON array')
    .option('--jsonl', 'print one JSON object per line (for a log pipeline)')
    .option('--max-runs <n>', 'read at most this many runs, newest first', Number, 500)
    .action(async (flags: AuditFlags) => {
      const { filters, format } = auditFiltersFromFlags(flags);
      const settings = loadSettings(flags);
      const { client } = await connect(settings);
      try {
        const { events, runs, truncated } = await collectAuditEvents(client, filters);
        process.stdout.write(renderAudit(events, format));
        if (truncated)
          process.stderr.write(
            `audit: stopped after ${runs} runs (--max-runs); narrow with --since, --procedure or --workflow-id, or raise --max-runs\n`,
          );
      } finally {
        await client.connection.close();
      }
    });
}
