// Runbook §5, Data Cleanup: being written (issue 3).
export async function dataCleanup(_input: unknown): Promise<never> {
  throw new Error('dataCleanup: not implemented yet');
}
