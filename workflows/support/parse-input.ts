/**
 * Checks a workflow's input with its zod schema, so a run started by any client (not only the CLI, which
 * already checked it) is refused at once with every wrong field named, before any step acts. Applying the
 * schema also fills the runbook's defaults. Deterministic: zod only.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { PAYLOAD_UNDECODABLE, undecodableMark, undecodableMessage } from '../../src/temporal/undecodable.js';

/**
 * Fails the run (not the workflow task, which Temporal would retry forever) when the worker could not decrypt its
 * input and handed over the decode guard's marker instead (src/temporal/decode-guard.ts). Issues no command.
 */
export function assertDecodable(raw: unknown, procedure: string): void {
  const mark = undecodableMark(raw);
  if (mark)
    throw ApplicationFailure.create({
      message: undecodableMessage(procedure, mark),
      type: PAYLOAD_UNDECODABLE,
      nonRetryable: true,
      details: [{ keyId: mark.keyId ?? null }],
    });
}

export function parseWorkflowInput<S extends z.ZodType>(schema: S, raw: unknown, procedure: string, failureType: string): z.infer<S> {
  assertDecodable(raw, procedure);
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
