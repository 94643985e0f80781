/** Input of the Kill-Switch procedure (runbook §3). Every wait is a parameter with the runbook's default. */
import { z } from 'zod';
import { IncidentLinkSettingsSchema } from './incident-people.js';
import { PulseTargetSchema } from './pulse-target.js';
import { RetrySettingsSchema } from './retry.js';

export const KillSwitchInputSchema = z
  .object({
    pulse: PulseTargetSchema,
    /** Plan mode: only read-only GETs are made; deletes and waits are described, not done. */
    plan: z.boolean().default(false),
    /** Pulse's poller interval: syncConnections() drops removed connections on the next tick. */
    tickSeconds: z.number().positive().max(3600).default(60),
    /** Pulse's TrueNAS staleness threshold (registry.go defaultStaleThresholds). */
    staleThresholdSeconds: z.number().positive().max(86_400).default(120),
    /** How often the resources are read while waiting for them to go stale or vanish. */
    verifyEverySeconds: z.number().positive().max(600).default(10),
    retry: RetrySettingsSchema.default({ maximumAttempts: 10, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
    /** The incident record this run opens (escalation.3): who may act on it. */
    incident: IncidentLinkSettingsSchema.optional(),
  })
  .strict();

export type KillSwitchInput = z.infer<typeof KillSwitchInputSchema>;
export type KillSwitchInputRaw = z.input<typeof KillSwitchInputSchema>;
