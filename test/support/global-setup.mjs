/**
 * One real Temporal dev server for every e2e test of the run (in memory, headless). Tests use unique
 * workflow ids and task queues, so they never see each other's work.
 * Plain ESM: jest loads global setup outside its module mapper, so the TypeScript source is imported with tsx.
 */
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { startDevServer } = await tsImport('../../src/temporal/dev-server.ts', import.meta.url);
  const started = Date.now();
  const server = await startDevServer({ headless: true });
  globalThis.__temporalDevServer = server;
  process.env.PULSE_RUNBOOKS_TEST_TEMPORAL = server.address;
  process.stderr.write(`\n[e2e] Temporal dev server ${server.address} ready in ${Date.now() - started} ms\n`);
}
