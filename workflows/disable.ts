// Runbook §2, Disable: being written (issue 3).
export async function disable(_input: unknown): Promise<never> {
  throw new Error('disable: not implemented yet');
}
