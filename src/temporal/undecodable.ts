/**
 * What a worker hands its workflow in place of a payload it cannot decrypt (src/temporal/decode-guard.ts), and the
 * check that turns it into a clear, non-retryable failure of that run (workflows/support/parse-input.ts).
 *
 * Without it a payload the worker cannot read fails the workflow *task*, which Temporal retries forever: the run
 * stays RUNNING, the CLI waits in silence and only the worker's log says why. Imported by workflow code: no
 * node: imports here.
 */
export const UNDECODABLE_KEY = '__pulseRunbooksUndecodable';
export const PAYLOAD_UNDECODABLE = 'PayloadUndecodable';

export interface UndecodableMark {
  /** Why, in the codec's words (it names key ids, never a key). */
  reason: string;
  keyId?: string;
}

export function undecodableMark(value: unknown): UndecodableMark | undefined {
  if (value === null || typeof value !== 'object' || !(UNDECODABLE_KEY in value)) return undefined;
  const mark = (value as Record<string, unknown>)[UNDECODABLE_KEY];
  return mark && typeof mark === 'object' ? (mark as UndecodableMark) : { reason: 'unknown' };
}

export function undecodableMessage(what: string, mark: UndecodableMark): string {
  return (
    `The worker cannot decrypt this ${what} run's input: ${mark.reason}. Nothing was done. ` +
    'Give the command that starts runs and the worker the same codec key file (--codec-keys-file or PULSE_RUNBOOKS_CODEC_KEYS_FILE), then start it again.'
  );
}
