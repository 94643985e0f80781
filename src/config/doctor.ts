/**
 * What the doctor (and a procedure's preflight) asks the worker's host to check: the same Pulse target, flag
 * location, restart method, data dir and Prometheus the procedures would use. Every field is optional: a check
 * whose setting is not given is reported as skipped. Imported by workflows: zod only, no node: imports.
 */
import { z } from 'zod';
import { PulseTargetSchema } from './pulse-target.js';
import { CommandPrefixSchema, FlagTargetSchema, RestartSchema } from './host.js';
import { DataDirSchema } from './cleanup.js';
import { PrometheusTargetSchema } from './prometheus-target.js';

export const DoctorHostInputSchema = z
  .object({
    pulse: PulseTargetSchema.optional(),
    flag: FlagTargetSchema.optional(),
    restart: RestartSchema.optional(),
    prefix: CommandPrefixSchema,
    /** Check the data dir Data Cleanup would resolve (explicit, else the worker's PULSE_DATA_DIR, else /etc/pulse). */
    dataDir: z.object({ path: DataDirSchema.optional() }).strict().optional(),
    prometheus: PrometheusTargetSchema.optional(),
  })
  .strict();

export type DoctorHostInput = z.infer<typeof DoctorHostInputSchema>;
export type DoctorHostInputRaw = z.input<typeof DoctorHostInputSchema>;
