/** Where the worker and the CLI find Temporal. No TEMPORAL_ADDRESS means: start the embedded dev server. */
import { z } from 'zod';

export const DEFAULT_TASK_QUEUE = 'pulse-runbooks';

export const TemporalSettingsSchema = z
  .object({
    address: z
      .string()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port such as 127.0.0.1:7233')
      .optional(),
    namespace: z.string().min(1, 'must not be empty').default('default'),
    taskQueue: z.string().min(1, 'must not be empty').default(DEFAULT_TASK_QUEUE),
  })
  .strict();

export type TemporalSettings = z.infer<typeof TemporalSettingsSchema>;
