/**
 * `pulse-runbook cleanup`: runbook §5 as a durable workflow, with progress. `--plan` inspects the files (lstat,
 * sha256) and removes nothing. The worker does the file work on its own host.
 */
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config/cleanup.js';
import { DataCleanupInputSchema } from '../config/data-cleanup-input.js';
import { parseOrExplain } from '../config/load.js';
import type { DataCleanupResult } from '../../workflows/data-cleanup.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { addGlobalFlags, addPulseFlags } from './context.js';
import { addRunFlags, procedureStart, RUN_FIELD_NAMES, runProcedure } from './run-procedure.js';
import { addPreflightFlag, preflightFrom } from './preflight.js';

export function cleanupCommand(): Command {
  const cmd = new Command('cleanup').description(
    'Remove only truenas.enc from the Pulse data directory and verify .encryption.key is intact (runbook §5)',
  );
  addRunFlags(addPreflightFlag(addPulseFlags(addGlobalFlags(cmd))), {
    maxAttempts: 'attempts per step while a file or Pulse is unavailable',
    plan: 'print every step, the files it would touch and the HTTP check; nothing is removed',
  })
    .option(
      '--data-dir <path>',
      `Pulse data directory on the worker's host (default: the worker's PULSE_DATA_DIR, else ${DEFAULT_DATA_DIR})`,
    )
    .option('--allow-missing', 'succeed when truenas.enc is already absent (the runbook otherwise requires it to exist)')
    .option('--file-timeout-seconds <n>', 'upper bound of one file step (default 30)', Number)
    .action(async (flags) => {
      const { settings, pulse, base } = procedureStart(flags);
      const input = parseOrExplain(
        DataCleanupInputSchema,
        {
          ...base,
          ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
          ...(flags.allowMissing && { allowMissing: true }),
          ...(flags.fileTimeoutSeconds !== undefined && { fileTimeoutSeconds: flags.fileTimeoutSeconds }),
        },
        'cleanup',
        { dataDir: '--data-dir', fileTimeoutSeconds: '--file-timeout-seconds', ...RUN_FIELD_NAMES },
      );
      await runProcedure<DataCleanupResult>({
        workflowType: DATA_CLEANUP_WORKFLOW,
        procedure: 'data-cleanup',
        input,
        settings,
        target: `${input.dataDir ?? `the worker's PULSE_DATA_DIR (default ${DEFAULT_DATA_DIR})`} on the worker's host (Pulse ${pulse.url})`,
        json: Boolean(flags.json),
        summarize: summarizeCleanup,
        preflight: preflightFrom(flags, { pulse: input.pulse, dataDir: { ...(input.dataDir !== undefined && { path: input.dataDir }) } }),
      });
    });
  return cmd;
}

export function summarizeCleanup(r: DataCleanupResult): string {
  if (r.plan) return `${r.evidence.flatMap((e) => e.actions ?? []).length} action(s) listed for ${r.dataDir}; nothing was removed.`;
  const file =
    r.truenasFile.outcome === 'removed'
      ? `removed ${r.truenasFile.path}`
      : r.truenasFile.outcome === 'already-removed'
        ? `${r.truenasFile.path} was already removed by an earlier attempt`
        : `${r.truenasFile.path} was absent`;
  const list =
    r.connectionsAfter === 'empty'
      ? 'Pulse lists no connection'
      : r.connectionsAfter === 'integration-disabled'
        ? 'the integration is off (404 truenas_disabled), so the list was not checked'
        : 'this Pulse has no TrueNAS routes, so the list was not checked';
  const key = r.encryptionKey?.existed
    ? `${r.encryptionKey.path} intact (inode ${r.encryptionKey.ino}, ${r.encryptionKey.size} bytes)`
    : 'no .encryption.key existed';
  return `Data Cleanup complete: ${file}; ${list}; ${key}.`;
}
