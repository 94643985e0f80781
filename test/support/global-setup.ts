/**
 * One real Temporal dev server for every e2e test of the run (in memory, headless). Tests use unique
 * workflow ids and task queues, so they never see each other's work.
 */
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';

declare global {
  // eslint-disable-next-line no-var
  var __temporalDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const server = await startDevServer({ headless: true });
  globalThis.__temporalDevServer = server;
  process.env.PULSE_RUNBOOKS_TEST_TEMPORAL = server.address;
  process.stderr.write(`\n[e2e] Temporal dev server ${server.address} ready in ${Date.now() - started} ms\n`);
}
