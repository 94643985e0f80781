// Runbook §4, Code Rollback: being written (issue 3).
export async function codeRollback(_input: unknown): Promise<never> {
  throw new Error('codeRollback: not implemented yet');
}
