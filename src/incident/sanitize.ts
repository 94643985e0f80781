/**
 * What a person types into an incident (notes, evidence details) is kept for years and exported; a pasted
 * token must not survive. Fields named like secrets are masked (redact), and so are the common inline forms
 * of a secret in free text: "Bearer <token>", "token=<value>", "api_key: <value>", URL user:password@.
 * Deterministic, so it runs in workflow code on every update.
 */
import { MASK, redact } from '../runbook/redact.js';

const INLINE_SECRETS: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${MASK}`],
  [
    /\b(api[_-]?key|apikey|token|password|passwd|secret|authorization|x-api-token)(["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s)[^\s"',;&]+/gi,
    `$1$2${MASK}`,
  ],
  [/(\bhttps?:\/\/)[^\s/:@]+:[^\s/@]+@/gi, `$1${MASK}@`],
];

export function sanitizeText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of INLINE_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

/** Masks secret-named fields, then secrets inside every string. */
export function sanitizeValue<T>(value: T): T {
  return deepText(redact(value)) as T;
}

function deepText(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (Array.isArray(value)) return value.map(deepText);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, deepText(v)]));
  }
  return value;
}
