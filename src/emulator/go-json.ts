/**
 * Small imitations of Go's encoding/json and time formatting, so the bytes the emulator sends look
 * like the bytes Pulse sends (clients that compare text, log excerpts or error details see the same).
 */

/** Go's json.Marshal escapes <, > and & (SetEscapeHTML defaults to true) and U+2028/U+2029. */
export function goMarshal(value: unknown, indent?: string): string {
  const text = JSON.stringify(value, null, indent) ?? 'null';
  return text
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** json.NewEncoder(w).Encode(v): the marshalled value plus a newline. */
export function goEncode(value: unknown): string {
  return `${goMarshal(value)}\n`;
}

/** time.Time marshals as RFC 3339 with trailing fractional zeros dropped ("…:00Z", "…:00.5Z"). */
export function goTime(date: Date | number): string {
  const iso = new Date(date).toISOString(); // always …T hh:mm:ss.mmmZ
  return iso.replace(/\.(\d*?)0+Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

export type GoDecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * json.NewDecoder(body).Decode(&v) for one value: whitespace-only input is "EOF", a truncated value is
 * "unexpected EOF", and anything after the first complete value is ignored (Decode reads one value).
 * Syntax errors are mapped onto Go's wording as closely as V8's messages allow.
 */
export function goDecode(text: string): GoDecodeResult {
  if (text.trim() === '') return { ok: false, error: 'EOF' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const message = (err as Error).message;
    const trailing = /non-whitespace character after JSON at position (\d+)/.exec(message);
    if (trailing) return goDecode(text.slice(0, Number(trailing[1])));
    if (/Unexpected end of JSON input|Unterminated string/.test(message)) return { ok: false, error: 'unexpected EOF' };
    const pos = /at position (\d+)/.exec(message);
    const tokenMatch = /Unexpected token '?(.)/.exec(message);
    const ch = pos ? text.charAt(Number(pos[1])) : tokenMatch ? tokenMatch[1] : text.trim().charAt(0);
    return { ok: false, error: `invalid character '${ch}' looking for beginning of value` };
  }
}

/** The JSON kind Go names in UnmarshalTypeError messages. */
export function goKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value; // "string" | "number"
}
