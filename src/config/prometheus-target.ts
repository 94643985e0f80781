/** Where Prometheus is: zod only, so workflows can check their input with it. */
import { z } from 'zod';
import { TokenRefSchema } from './pulse-target.js';

export const PrometheusTargetSchema = z
  .object({
    url: z
      .url('must be a URL such as http://prometheus:9090')
      .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://, e.g. http://prometheus:9090')
      .transform((u) => u.replace(/\/+$/, '')),
    /** Bearer token for a Prometheus behind auth, by reference (env var name or file path). */
    token: TokenRefSchema.optional(),
    /** Per-request timeout; Prometheus's own query timeout is 2 min by default. */
    timeoutMs: z.number().int().positive().max(300_000).default(10_000),
  })
  .strict();

export type PrometheusTarget = z.infer<typeof PrometheusTargetSchema>;
export type PrometheusTargetInput = z.input<typeof PrometheusTargetSchema>;
