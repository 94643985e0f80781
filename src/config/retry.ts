/** How often a side effect is retried when Pulse or a host is unavailable (retryable failures only). */
import { z } from 'zod';

export const RetrySettingsSchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(1000).default(10),
    initialIntervalSeconds: z.number().positive().max(3600).default(1),
    maximumIntervalSeconds: z.number().positive().max(86_400).default(30),
  })
  .strict();

export type RetrySettings = z.infer<typeof RetrySettingsSchema>;
