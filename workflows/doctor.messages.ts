/**
 * The doctor workflow's contract: its type name on the wire, typed as the function the bundle registers under it.
 * It runs the host checks on a worker (read-only); `pulse-runbook doctor` and the procedures' preflight start it.
 */
import type * as bundle from './index.js';

/** The name saved histories and running workflows carry: never change it. */
export const DOCTOR_WORKFLOW = 'doctor' satisfies keyof typeof bundle;
export type DoctorWorkflow = (typeof bundle)[typeof DOCTOR_WORKFLOW];
