/**
 * The canary rollout's contract: its type name on the wire, typed as the function the bundle registers under it.
 * Imported by clients and workflow code: types and constants only.
 */
import type * as bundle from './index.js';

/** The name saved histories and running rollouts carry: never change it. */
export const CANARY_ROLLOUT_WORKFLOW = 'canaryRollout' satisfies keyof typeof bundle;
export type CanaryRolloutWorkflow = (typeof bundle)[typeof CANARY_ROLLOUT_WORKFLOW];
