/**
 * A fleet to roll a canary out over, for the 500-instance test and the bench: an emulator fleet in one child process
 * (src/emulator/fleet-process.ts) with a fake TrueNAS all its instances can poll, a second fake TrueNAS (in this
 * process) for the instances a test breaks on purpose, a real Prometheus scraping every instance with its
 * `pulse_instance` label, and the rollout file's fleet section: the Enable/Disable template (flag in each instance's
 * env file, restart through the fleet's control API, its log file) and per-instance vars (the NAS port).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { spawnEmulatorFleet, type FleetProcess } from '../../src/emulator/fleet-process.js';
import type { FleetInstance } from '../../src/emulator/fleet.js';
import { stablePort } from '../../src/host/stable-port.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';

/** The fleet's instances over all its processes. */
export interface FleetView {
  instances: FleetInstance[];
  /** The instances as the control APIs list them now (restart counts). */
  list(): Promise<FleetInstance[]>;
}

export interface FleetFixture {
  dir: string;
  fleet: FleetView;
  /** A NAS of its own for a few instances, to break them with a fault. */
  secondNas: FakeTrueNAS;
  prometheus: PrometheusProcess;
  tokenEnv: string;
  keyEnv: string;
  /** The instances of the rollout file, with their vars. */
  instances: NonNullable<NonNullable<CanaryInputRaw['phase1']>['instances']>;
  /** The rollout's `fleet` section: label, waves, template. */
  fleetSection(waves: Record<string, unknown>): CanaryInputRaw['fleet'];
  stop(): Promise<void>;
}

// How often an Enable or Disable looks for the poller's work: each look is an activity and a timer, so at 0.5 s the
// 500 Enables' waits for a poller tick were most of the worker's and the dev server's CPU.
const VERIFY_EVERY_SECONDS = 2;

export const fleetName = (i: number) => `pulse-${String(i).padStart(3, '0')}`;

export async function startFleetFixture(opts: {
  count: number;
  tickSeconds: number;
  /** Instances (1-based) whose NAS port is closed: their Enable fails at the connection test. */
  closedNas?: number[];
  /** Instances (1-based) polling the second NAS. */
  onSecondNas?: number[];
  scrapeSeconds?: number;
  /** How many emulator processes share the instances (default 2). */
  processes?: number;
}): Promise<FleetFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-fleet-'));
  const token = randomBytes(24).toString('hex');
  const key = randomBytes(20).toString('hex');
  const tokenEnv = `FLEET_TOKEN_${randomBytes(3).toString('hex').toUpperCase()}`;
  const keyEnv = `FLEET_NAS_KEY_${randomBytes(3).toString('hex').toUpperCase()}`;
  process.env[tokenEnv] = token;
  process.env[keyEnv] = key;
  const names = Array.from({ length: opts.count }, (_, i) => fleetName(i + 1));
  // The instances in `processes` processes, each with its own fake TrueNAS and control API (an instance's vars name
  // both): one process of 500 emulators, polling every 5 s, got one share of the CPU beside the suite's other lanes
  // and starved (Pulse timeouts, connection tests over 10 s).
  const processes = Math.max(1, Math.min(opts.processes ?? 2, names.length));
  const per = Math.ceil(names.length / processes);
  const groups = Array.from({ length: processes }, (_, g) => names.slice(g * per, (g + 1) * per)).filter((g) => g.length);
  // One after the other: each binds its ports before the next chooses its own (src/host/stable-port.ts).
  const fleets: FleetProcess[] = [];
  try {
    for (const group of groups)
      fleets.push(
        await spawnEmulatorFleet({
          dir,
          names: group,
          tokens: [{ token, scopes: ['*'] }],
          tickSeconds: opts.tickSeconds,
          staleSeconds: 2,
          // Patient, as the Pulse timeouts below: the connection tests of 50 Enables at a time are answered by the
          // fleet's processes beside the whole suite (a wave once failed on the 10 s default).
          testTimeoutMs: 30_000,
          fakeTrueNAS: { apiKey: key },
        }),
      );
  } catch (err) {
    await Promise.all(fleets.map((f) => f.stop()));
    throw err;
  }
  const processOf = new Map(fleets.flatMap((f) => f.instances.map((i) => [i.name, f] as const)));
  const fleet: FleetView = {
    instances: fleets.flatMap((f) => f.instances),
    list: async () => (await Promise.all(fleets.map((f) => f.list()))).flat(),
  };
  const secondNas = await startFakeTrueNAS({ apiKey: key, transports: ['rest'] });
  // Closed for the whole test: below the ephemeral range, so no process binding port 0 meanwhile opens it.
  const closed = await stablePort();
  const prometheus = await startPrometheus({
    scrapeInterval: opts.scrapeSeconds ?? 5,
    targets: fleet.instances.map((i) => ({ url: i.metricsUrl, job: 'pulse', labels: { pulse_instance: i.name } })),
    startTimeoutMs: 60_000,
  });
  const instances = fleet.instances.map((inst, k) => ({
    name: inst.name,
    pulseUrl: inst.url,
    vars: {
      nasPort: opts.closedNas?.includes(k + 1)
        ? closed
        : opts.onSecondNas?.includes(k + 1)
          ? secondNas.port
          : processOf.get(inst.name)!.truenasPort!,
      control: processOf.get(inst.name)!.controlUrl,
    },
  }));
  const host = (extra: Record<string, unknown>) => ({
    // Patient timeouts: 500 instances in one process and the worker share two cores with the rest of the suite, and a
    // starved event loop is slow, not broken (a wave once failed on 5 s Pulse timeouts and missed heartbeats).
    pulse: { url: '{pulseUrl}', token: { env: tokenEnv }, timeoutMs: 20_000 },
    flag: { kind: 'env-file', path: `${dir}/{name}/pulse.env` },
    // Restarted only through the fleet's control API, as a service by systemctl. With curl when there is one: a wave
    // of 100 restarts as 100 node processes (about 40 MiB and a CPU-heavy start each) starved the worker's heartbeats
    // on a two-core machine, and every restart missed its heartbeat timeout.
    restart: {
      kind: 'command',
      argv: [...restartCommand(), '{vars.control}/restart/{name}'],
      healthTimeoutMs: 20_000,
      healthIntervalMs: 100,
    },
    logs: { kind: 'file', path: `${dir}/{name}/pulse.log` },
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.5, maximumIntervalSeconds: 2, heartbeatTimeoutSeconds: 60 },
    ...extra,
  });
  return {
    dir,
    fleet,
    secondNas,
    prometheus,
    tokenEnv,
    keyEnv,
    instances,
    fleetSection: (waves) => ({
      instanceLabel: 'pulse_instance',
      waves,
      template: {
        enable: host({
          connection: { name: 'nas', host: 'http://127.0.0.1', port: '{vars.nasPort}', apiKey: { env: keyEnv } },
          appearWithinSeconds: 4 * opts.tickSeconds + 10,
          verifyEverySeconds: VERIFY_EVERY_SECONDS,
        }),
        disable: host({ staleThresholdSeconds: 2, graceSeconds: 5, verifyEverySeconds: VERIFY_EVERY_SECONDS }),
      },
    }),
    async stop() {
      await prometheus.stop();
      await secondNas.close();
      await Promise.all(fleets.map((f) => f.stop()));
      delete process.env[tokenEnv];
      delete process.env[keyEnv];
      // KEEP_FLEET_DIR=1 keeps the instances' env files and logs to look at.
      if (!process.env.KEEP_FLEET_DIR) rmSync(dir, { recursive: true, force: true });
      else console.error(`fleet kept in ${dir}`);
    },
  };
}

/** A command that POSTs to the URL given after it and fails on an error status: curl, else node. */
function restartCommand(): string[] {
  const curl = (process.env.PATH ?? '')
    .split(':')
    .map((d) => join(d, 'curl'))
    .find((p) => existsSync(p));
  return curl
    ? [curl, '-fsS', '-X', 'POST', '--max-time', '30']
    : [process.execPath, '-e', 'fetch(process.argv[1],{method:"POST"}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))'];
}
