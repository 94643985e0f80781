/**
 * Process entry of an emulator fleet (src/emulator/fleet.ts): `node --import tsx src/emulator/fleet-main.ts CONFIG`,
 * CONFIG a JSON file with the fleet's options and, optionally, `fakeTrueNAS: {apiKey}` for one fake TrueNAS (REST) all
 * instances can poll. Prints one JSON line once every instance listens:
 *   {"event":"listening","controlUrl":"http://127.0.0.1:P","truenasPort":N,"pid":N,"instances":500,"startMs":…}
 * `GET <controlUrl>/instances` lists them. SIGTERM stops it with exit code 0.
 */
import { readFileSync } from 'node:fs';
import { startFakeTrueNAS, type FakeTrueNAS } from './fake-truenas.js';
import { startEmulatorFleet, type EmulatorFleetOptions } from './fleet.js';

async function main(): Promise<void> {
  const began = Date.now();
  const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as EmulatorFleetOptions & { fakeTrueNAS?: { apiKey: string } };
  let nas: FakeTrueNAS | undefined;
  if (config.fakeTrueNAS) nas = await startFakeTrueNAS({ apiKey: config.fakeTrueNAS.apiKey, transports: ['rest'] });
  const fleet = await startEmulatorFleet(config);
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', controlUrl: fleet.controlUrl, truenasPort: nas?.port, pid: process.pid, instances: fleet.instances.length, startMs: Date.now() - began })}\n`,
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    Promise.all([fleet.stop(), nas?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`emulator fleet failed to start: ${err.message}\n`);
  process.exit(1);
});
