/**
 * Input of the Code Rollback workflow (runbook §4): the repository and range of src/config/rollback.ts, plus
 * how Pulse is restarted (src/config/host.ts) and where it answers (the Pulse target), so step 4 can restart
 * the rebuilt Pulse and see that the TrueNAS routes are gone.
 *
 * Imported by the workflow too: zod only, no node: imports.
 */
import { z } from 'zod';
import { CommandPrefixSchema, RestartSchema } from './host.js';
import { IncidentLinkSettingsSchema } from './incident-people.js';
import { PulseTargetSchema } from './pulse-target.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, RetrySettingsSchema } from './retry.js';
import { RollbackInputSchema } from './rollback.js';

/** rollback.4 failed: Pulse still serves the TrueNAS connections list after the restart. */
export const TRUENAS_ROUTES_PRESENT = 'TrueNASRoutesPresent';

export const CodeRollbackInputSchema = RollbackInputSchema.extend({
  /** Where the restarted Pulse answers; rollback.4 reads GET /api/truenas/connections there. */
  pulse: PulseTargetSchema,
  /**
   * How Pulse is restarted once the reverted tree builds. The restart must start the rebuilt code (a systemd
   * unit whose ExecStart runs the binary your build installs, or a custom command that builds and starts it).
   */
  restart: RestartSchema.prefault({ kind: 'systemd' }),
  /** Put in front of the restart command (e.g. ["sudo","-n"]); git and the build run on the worker's host. */
  prefix: CommandPrefixSchema,
  /** Upper bound of one git activity (inspection or the revert); a revert of a long range on a slow disk takes time. */
  gitTimeoutSeconds: z
    .number({ error: 'gitTimeoutSeconds must be a number of seconds' })
    .int('gitTimeoutSeconds must be a whole number of seconds')
    .positive('gitTimeoutSeconds must be positive')
    .max(7200, 'gitTimeoutSeconds must be at most 7200')
    .default(600),
  /**
   * A build that stops heartbeating for this long is taken as lost with its worker and retried elsewhere. The
   * activity heartbeats every third of it while the build runs (activities/support/heartbeat.ts), so a worker that
   * died is noticed after about this long, not after the whole build timeout.
   */
  buildHeartbeatTimeoutSeconds: z
    .number({ error: 'buildHeartbeatTimeoutSeconds must be a number of seconds' })
    .int('buildHeartbeatTimeoutSeconds must be a whole number of seconds')
    .min(1, 'buildHeartbeatTimeoutSeconds must be at least 1')
    .max(3600, 'buildHeartbeatTimeoutSeconds must be at most 3600')
    .default(DEFAULT_HEARTBEAT_TIMEOUT_SECONDS),
  retry: RetrySettingsSchema.default({ maximumAttempts: 5, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
  /** The incident record this run opens (escalation.3): who may act on it. */
  incident: IncidentLinkSettingsSchema.optional(),
}).strict();

export type CodeRollbackInput = z.infer<typeof CodeRollbackInputSchema>;
export type CodeRollbackInputRaw = z.input<typeof CodeRollbackInputSchema>;
