/** How often a side effect is retried when Pulse or a host is unavailable (retryable failures only). */
import { z } from 'zod';

/** Without a heartbeat for this long, an attempt is taken for lost (its worker died) and retried elsewhere. */
export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 10;

export const RetrySettingsSchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(1000).default(10),
    initialIntervalSeconds: z.number().positive().max(3600).default(1),
    maximumIntervalSeconds: z.number().positive().max(86_400).default(30),
    /**
     * Every activity heartbeats a few times within this window (activities/support/heartbeat.ts); a worker that
     * died is noticed after it, and the step is retried on another worker. Default 10 s.
     */
    heartbeatTimeoutSeconds: z.number().min(1).max(600).optional(),
  })
  .strict();

export type RetrySettings = z.infer<typeof RetrySettingsSchema>;
