/**
 * How the software reaches one Pulse server. The token travels by reference only (the name of an env var
 * or the path of a file, read by the activity on the worker's host), so it never lands in workflow
 * history, shell history or CLI arguments.
 */
import { z } from 'zod';
import { envNameSchema } from './env-name.js';

export const TokenRefSchema = z
  .object({
    env: envNameSchema('PULSE_TOKEN', 'the token').optional(),
    file: z.string().min(1, 'must be a file path').optional(),
  })
  .strict()
  .refine((r) => !(r.env && r.file), { error: 'give either env or file for the Pulse token, not both' });

export type TokenRef = z.infer<typeof TokenRefSchema>;

/**
 * Why a Pulse base URL is refused, or undefined. The URL lands in the PulseTarget search attribute and the run's
 * summary, which no codec encrypts, and every API path is appended to it: so it is the scheme, host and port
 * only. A query (`?apitoken=…`) or fragment would be stored in plain text and break every request, and a path
 * would make Pulse answer 404 to calls it does serve. Pulse serves its API at the root (`/api/...`); a path
 * prefix (Pulse behind a proxy under /pulse) is not supported. The message never repeats the query.
 */
export function pulseUrlProblem(u: string): string | undefined {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return 'must be a URL such as http://pulse.example:7655';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://, e.g. http://pulse.example:7655';
  if (url.username || url.password)
    return 'must not contain a user or password (user:pass@host); give the API token by reference (token.env or token.file)';
  if (url.search || u.includes('?'))
    return "must not have a query (?…): it would be stored in plain text in the run's search attributes; give the base URL only, e.g. http://pulse.example:7655, and the token by reference (--token-env or --token-file)";
  if (url.hash || u.includes('#')) return 'must not have a fragment (#…): give the base URL only, e.g. http://pulse.example:7655';
  if (url.pathname !== '/' && url.pathname !== '') {
    return `must be the base URL without a path (got the path ${url.pathname}): Pulse serves its API at /api on the root, so give e.g. ${url.protocol}//${url.host}; a path prefix (Pulse behind a proxy under a path) is not supported`;
  }
  return undefined;
}

export const PulseTargetSchema = z
  .object({
    url: z
      .string()
      .superRefine((u, ctx) => {
        const problem = pulseUrlProblem(u);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .transform((u) => u.replace(/\/+$/, '')),
    token: TokenRefSchema.optional(),
    /** Per-request timeout. */
    timeoutMs: z.number().int().positive().max(300_000).default(10_000),
  })
  .strict();

export type PulseTarget = z.infer<typeof PulseTargetSchema>;
export type PulseTargetInput = z.input<typeof PulseTargetSchema>;
