/**
 * Input of the Disable procedure (runbook §2) and the failure types its steps raise. Every wait is an input
 * with the runbook's default. Imported by workflows too: zod only, no node: imports.
 */
import { z } from 'zod';
import { HostStepsShape } from './enable.js';
import { PulseTargetSchema } from './pulse-target.js';
import { RetrySettingsSchema } from './retry.js';
import { FAILURE_TYPES } from '../runbook/failure-types.js';

export const DISABLE_FAILURES = {
  /** After the restart the connections API still answers an array: Pulse did not read the flag where it was written. */
  flagNotApplied: 'FlagNotApplied',
  /** TrueNAS poller lines appeared in Pulse's logs after the restart. */
  pollerStillActive: 'PollerStillActive',
  /** TrueNAS resources still reported fresh data after the staleness window and the grace period. */
  truenasStillOnline: FAILURE_TYPES.truenasStillOnline,
} as const;

export const DisableInputSchema = z
  .object({
    pulse: PulseTargetSchema,
    /** Plan mode: only read-only GETs are made; the file write, the restart and the wait are described. */
    plan: z.boolean().default(false),
    ...HostStepsShape,
    /**
     * 'false' writes PULSE_ENABLE_TRUENAS=false, which disables TrueNAS on every Pulse line. 'unset' removes the
     * line as the runbook's first option says; that disables it only on the Feb line: on v6 (2026-03-30+) an
     * unset flag means ON, and the run then fails at disable.3 with FlagNotApplied.
     */
    flagValue: z.enum(['false', 'unset']).default('false'),
    /** Pulse's TrueNAS staleness threshold (registry.go defaultStaleThresholds), waited after the restart. */
    staleThresholdSeconds: z.number().positive().max(86_400).default(120),
    /** After the window, how long the resources are still watched before the run fails (not in the runbook). */
    graceSeconds: z.number().min(0).max(3600).default(30),
    /** How often the resources are read during the grace period. */
    verifyEverySeconds: z.number().positive().max(600).default(10),
    retry: RetrySettingsSchema.default({ maximumAttempts: 10, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
  })
  .strict();

export type DisableInput = z.infer<typeof DisableInputSchema>;
export type DisableInputRaw = z.input<typeof DisableInputSchema>;
