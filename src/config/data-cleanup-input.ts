/**
 * Input of the Data Cleanup workflow (runbook §5): the data directory options of src/config/cleanup.ts, plus
 * the Pulse target that step 5 reads the connections list from.
 *
 * The files are read and removed by the worker on its own host: the data directory (explicit, else the
 * worker's PULSE_DATA_DIR, else /etc/pulse) must be the one the Pulse service uses on that same host.
 *
 * Imported by the workflow too: zod only, no node: imports.
 */
import { z } from 'zod';
import { CleanupInputSchema } from './cleanup.js';
import { PulseTargetSchema } from './pulse-target.js';
import { RetrySettingsSchema } from './retry.js';

export const DataCleanupInputSchema = CleanupInputSchema.extend({
  /** Where Pulse answers; cleanup.5 reads GET /api/truenas/connections there. */
  pulse: PulseTargetSchema,
  /** Upper bound of one file activity (lstat, hash, unlink): seconds for a small file, more on a slow mount. */
  fileTimeoutSeconds: z
    .number({ error: 'fileTimeoutSeconds must be a number of seconds' })
    .int('fileTimeoutSeconds must be a whole number of seconds')
    .positive('fileTimeoutSeconds must be positive')
    .max(3600, 'fileTimeoutSeconds must be at most 3600')
    .default(30),
  retry: RetrySettingsSchema.default({ maximumAttempts: 5, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
}).strict();

export type DataCleanupInput = z.infer<typeof DataCleanupInputSchema>;
export type DataCleanupInputRaw = z.input<typeof DataCleanupInputSchema>;
