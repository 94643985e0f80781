/**
 * Failure types that activities raise (ApplicationFailure.type) and workflows decide on. Workflows never look
 * at message text. The non-retryable ones cannot get better by trying again.
 */
export const FAILURE_TYPES = {
  pulseAuth: 'PulseAuthError',
  pulseForbidden: 'PulseForbiddenError',
  pulseDisabled: 'PulseDisabledError',
  pulseNotFound: 'PulseNotFoundError',
  pulseValidation: 'PulseValidationError',
  pulseMethodNotAllowed: 'PulseMethodNotAllowed',
  pulseProtocol: 'PulseProtocolError',
  pulseUnavailable: 'PulseUnavailableError',
  connectionsRemain: 'ConnectionsRemain',
  truenasStillOnline: 'TrueNASStillOnline',
  tokenUnavailable: 'PulseTokenUnavailable',
  /** A restart command failed (enable.2, disable.2, rollback.4, undo.enable); the flag step puts the file back. */
  restartFailed: 'RestartFailed',
  /** A Kill-Switch started with input its schema refuses (the other procedures name theirs in src/config). */
  invalidKillSwitchInput: 'InvalidKillSwitchInput',
} as const;

export const NON_RETRYABLE_TYPES: readonly string[] = [
  FAILURE_TYPES.pulseAuth,
  FAILURE_TYPES.pulseForbidden,
  FAILURE_TYPES.pulseValidation,
  FAILURE_TYPES.pulseMethodNotAllowed,
  FAILURE_TYPES.pulseProtocol,
  FAILURE_TYPES.tokenUnavailable,
];

/**
 * The base of a procedure's own error (RollbackError, CleanupError): `type` is one of its failure types and names
 * it, `details` go with it, and `retryable` says whether that type may get better by trying again.
 */
export function failureClass<T extends string>(retryableTypes: readonly string[]) {
  return class extends Error {
    readonly type: T;
    readonly details: Record<string, unknown>;
    constructor(type: T, message: string, details: Record<string, unknown> = {}) {
      super(message);
      this.name = type;
      this.type = type;
      this.details = details;
    }
    get retryable(): boolean {
      return retryableTypes.includes(this.type);
    }
  };
}
