/**
 * Which checks of the catalogue (src/prometheus/checks.ts) the canary rollout reads, and how a rollout may override
 * their verdict on an empty or NaN answer. Pure data: safe in workflow code.
 */
import { PER_INSTANCE_CHECKS, type CheckId, type CheckVerdict } from '../prometheus/checks.js';

/**
 * The Phase 1 monitoring checkpoints: all must pass for the green clock to run (promql.md "The checks"). They are the
 * catalogue's checks with a per-instance form.
 */
export const GREEN_CHECKS = PER_INSTANCE_CHECKS;
/** Abort criteria 1 and 4 read these; criterion 3 reads the resource checks. */
export const ABORT_CHECKS = ['abort-failure-rate', 'auth-errors'] as const satisfies readonly CheckId[];
export const RESOURCE_CHECKS = ['resource-memory', 'resource-cpu'] as const satisfies readonly CheckId[];

/** The check verdict an empty/NaN answer gets for this rollout (its override, else the catalogue's). */
export type VerdictOverrides = Partial<Record<CheckId, { onEmpty?: CheckVerdict; onNaN?: CheckVerdict }>>;
