/**
 * Checks a workflow's input with its zod schema, so a run started by any client (not only the CLI, which
 * already checked it) is refused at once with every wrong field named, before any step acts. Applying the
 * schema also fills the runbook's defaults. Deterministic: zod only.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';

export function parseWorkflowInput<S extends z.ZodType>(schema: S, raw: unknown, procedure: string, failureType: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`);
  throw ApplicationFailure.create({
    message: `invalid ${procedure} input: ${problems.join('; ')}`,
    type: failureType,
    nonRetryable: true,
    details: [{ problems }],
  });
}
