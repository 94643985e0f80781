import { DefaultLogger, Runtime } from '@temporalio/worker';

let done = false;
/** SDK logs at WARN in tests, so jest output shows test results, not worker state changes. */
export function quietRuntime(): void {
  if (done) return;
  done = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process
  }
}
