/**
 * The failure types of the canary rollout: a refused input or update, an abort. Stable, so callers decide on the
 * type, never on the message. Pure data: safe in workflow code.
 */
export const CANARY_FAILURES = {
  invalidInput: 'InvalidCanaryInput',
  refused: 'CanaryUpdateRefused',
  aborted: 'CanaryAborted',
} as const;
