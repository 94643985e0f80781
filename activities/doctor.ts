/**
 * The doctor's host checks as an activity, so they run where the procedures act: on a worker of the task queue,
 * with that worker's environment, files and PATH (src/doctor/host-checks.ts). Read-only, quick, never retried.
 */
import { DoctorHostInputSchema, type DoctorHostInputRaw } from '../src/config/doctor.js';
import type { CheckResult } from '../src/doctor/check.js';
import { runHostChecks } from '../src/doctor/host-checks.js';
import { keptAlive } from './support/heartbeat.js';

export async function doctorHostChecks(raw: DoctorHostInputRaw): Promise<CheckResult[]> {
  const input = DoctorHostInputSchema.parse(raw);
  return keptAlive(() => runHostChecks(input));
}
