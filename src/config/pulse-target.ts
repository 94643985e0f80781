/**
 * How the software reaches one Pulse server. The token travels by reference only (the name of an env var
 * or the path of a file, read by the activity on the worker's host), so it never lands in workflow
 * history, shell history or CLI arguments.
 */
import { z } from 'zod';

export const TokenRefSchema = z
  .object({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as PULSE_TOKEN')
      .optional(),
    file: z.string().min(1, 'must be a file path').optional(),
  })
  .strict()
  .refine((r) => !(r.env && r.file), { message: 'give either env or file for the Pulse token, not both' });

export type TokenRef = z.infer<typeof TokenRefSchema>;

export const PulseTargetSchema = z
  .object({
    url: z
      .string()
      .url('must be a URL such as http://pulse.example:7655')
      .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://, e.g. http://pulse.example:7655')
      // The URL lands in the PulseTarget search attribute, which no codec encrypts: credentials must not ride in it.
      .refine((u) => !/^https?:\/\/[^/]*@/.test(u), 'must not contain a user or password (user:pass@host); give the API token by reference (token.env or token.file)')
      .transform((u) => u.replace(/\/+$/, '')),
    token: TokenRefSchema.optional(),
    /** Per-request timeout. */
    timeoutMs: z.number().int().positive().max(300_000).default(10_000),
  })
  .strict();

export type PulseTarget = z.infer<typeof PulseTargetSchema>;
export type PulseTargetInput = z.input<typeof PulseTargetSchema>;
