/**
 * Process entry of the Pulse emulator: `PULSE_DATA_DIR=… node --import tsx src/emulator/main.ts`.
 * Configured like Pulse by environment (see config.ts). Once both listeners are up it prints exactly one
 * JSON line to stdout:
 *   {"event":"listening","url":"http://127.0.0.1:P","metricsUrl":"http://127.0.0.1:M/metrics","pid":N,"profile":"feb"}
 * (plus "truenasUrl" with PULSE_EMULATOR_DEMO_TRUENAS=1). Pulse-style logs go to stderr. SIGTERM/SIGINT
 * stop it cleanly with exit code 0; a configuration error exits 1 with the reason on stderr.
 */
import { configFromEnv } from './config.js';
import { startEmulator } from './server.js';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const handle = await startEmulator(config);
  const line: Record<string, unknown> = {
    event: 'listening',
    url: handle.url,
    metricsUrl: handle.metricsUrl,
    pid: process.pid,
    profile: handle.profile,
  };
  if (handle.truenasUrl) line.truenasUrl = handle.truenasUrl;
  process.stdout.write(`${JSON.stringify(line)}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    handle
      .stop()
      .then(() => {
        process.stderr.write(`emulator stopped (${signal})\n`);
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`pulse emulator failed to start: ${err.message}\n`);
  process.exit(1);
});
