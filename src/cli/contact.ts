/**
 * Telling "Temporal is unreachable" apart from everything else. A CLI that follows a run must not report the
 * procedure as failed when only its line to Temporal broke (the run goes on on the server): these errors mean
 * "reconnect", never "failed".
 */
/** gRPC status codes (stable by the gRPC spec): CANCELLED 1, DEADLINE_EXCEEDED 4, UNAVAILABLE 14. */
const CONTACT_CODES = new Set<number>([1, 4, 14]);
const CONTACT_TEXT =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|No connection established|Connection dropped|connect(ion)? (failed|refused|timed out)|Failed to connect|socket hang up|GOAWAY|RST_STREAM|transport is closing|TransportError|deadline/i;

/** Whether `err` (or what caused it) says the server could not be reached or the connection broke. */
export function isContactLoss(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && CONTACT_CODES.has(code)) return true;
    const name = (e as { name?: unknown }).name;
    if (name === 'TransportError') return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && CONTACT_TEXT.test(message)) return true;
  }
  return false;
}

/** A payload this process cannot decode: no key file for an encrypted payload, or a key it does not hold. */
export function isUndecodable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { name?: unknown }).name === 'CodecError') return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /Unknown encoding: binary\/encrypted|binary\/encrypted/.test(message)) return true;
  }
  return false;
}

/** The first line of what went wrong, for "lost contact (…)". */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].slice(0, 200);
}
