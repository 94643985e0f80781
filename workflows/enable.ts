// Runbook §1, Enable: being written (issue 3).
export async function enable(_input: unknown): Promise<never> {
  throw new Error('enable: not implemented yet');
}
