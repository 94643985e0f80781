/**
 * Redaction of secrets before anything is logged, recorded as evidence or put in an error message.
 * Pulse itself masks secrets as "********"; we use the same mask so evidence reads like Pulse's answers.
 */
export const MASK = '********';

const SECRET_KEYS = /^(api[_-]?key|apikey|password|token|secret|authorization|x-api-token|x-setup-token|cookie)$/i;

/** Deep-copies a JSON-like value, masking every field whose name looks like a secret. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEYS.test(k) && v !== '' && v !== undefined && v !== null ? MASK : redact(v);
    }
    return out as T;
  }
  return value;
}

/** Replaces every occurrence of the given secret strings in a text. */
export function scrub(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(MASK);
  }
  return out;
}

/** Shortens a text for evidence, so histories stay small. */
export function excerpt(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * Whether a would-be name looks like a generated secret rather than a name people choose. Real names are
 * words joined by underscores (PULSE_TOKEN, TRUENAS_E2E_KEY_1A2B3C4D); tokens are one long run of random
 * characters. A run of 16+ characters without an underscore counts as random when it mixes letters and digits
 * (hex keys, base62 tokens) or when it is 24+ characters long; anything of 40+ characters counts too.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length >= 40) return true;
  return value.split(/[^A-Za-z0-9]+/).some((run) => {
    if (run.length < 16) return false;
    if (run.length >= 24) return true;
    const digits = /\d/.test(run);
    const letters = /[A-Za-z]/.test(run);
    return digits && letters;
  });
}
