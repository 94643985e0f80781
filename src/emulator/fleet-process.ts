/**
 * Runs an emulator fleet (fleet.ts) as one child process, apart from the worker that rolls a canary out over it, and
 * hands back its instances, the control API, the fake TrueNAS's port, and stop(). Used by the 500-instance test and
 * the bench.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmulatorFleetOptions, FleetInstance } from './fleet.js';
import { terminate, waitForEvent } from './process.js';

export interface FleetProcess {
  pid: number;
  controlUrl: string;
  truenasPort?: number;
  /** How long the process took to start every instance (ms). */
  startMs: number;
  instances: FleetInstance[];
  /** The fleet's instances as the control API lists them now (restart counts). */
  list(): Promise<FleetInstance[]>;
  logs(): string;
  stop(): Promise<void>;
}

export async function spawnEmulatorFleet(
  opts: EmulatorFleetOptions & { fakeTrueNAS?: { apiKey: string }; startTimeoutMs?: number },
): Promise<FleetProcess> {
  // One file per process: several fleet processes can share a directory (each its own instances).
  const configFile = join(opts.dir, `fleet-${opts.names[0] ?? 'empty'}.json`);
  writeFileSync(configFile, JSON.stringify(opts), { mode: 0o600 });
  const main = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './fleet-main.ts' : './fleet-main.js', import.meta.url));
  // One process per run, so a compiled start saves little: it runs as it is (from dist/) or through tsx.
  const child = spawn(process.execPath, [...(main.endsWith('.ts') ? ['--import', 'tsx'] : []), main, configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PULSE_ENABLE_TRUENAS: undefined },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-200_000);
  });
  let event: { controlUrl: string; truenasPort?: number; startMs: number };
  try {
    event = await waitForEvent(child, opts.startTimeoutMs ?? 120_000, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const list = async () => (await (await fetch(`${event.controlUrl}/instances`)).json()) as FleetInstance[];
  return {
    pid: child.pid!,
    controlUrl: event.controlUrl,
    truenasPort: event.truenasPort,
    startMs: event.startMs,
    instances: await list(),
    list,
    logs: () => stderr,
    stop: () => terminate(child),
  };
}
