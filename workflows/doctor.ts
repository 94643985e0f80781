/**
 * `pulse-runbook doctor` (and every destructive procedure's preflight) asks a worker of the task queue to check
 * its own host: this run is that question. One activity, short timeouts, no retry: a worker that cannot answer
 * is reported by the CLI, not waited on.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities/doctor.js';
import { DoctorHostInputSchema, type DoctorHostInputRaw } from '../src/config/doctor.js';
import type { CheckResult } from '../src/doctor/check.js';
import { parseWorkflowInput } from './support/parse-input.js';

const { doctorHostChecks } = proxyActivities<typeof activities>({
  startToCloseTimeout: '60s',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

export async function doctor(raw: DoctorHostInputRaw): Promise<CheckResult[]> {
  const input = parseWorkflowInput(DoctorHostInputSchema, raw, 'doctor', 'InvalidDoctorInput');
  return doctorHostChecks(input);
}
