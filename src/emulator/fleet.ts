/**
 * Many Pulse emulators in one process (issue 17): a fleet to roll a canary out over, without a process per instance
 * (500 processes do not fit a two-core machine). Each instance is a whole `startEmulator` of its own: its own API and
 * metrics ports, data dir, env file, log file, poller and metrics; they share only the process (so the process
 * metrics, `process_*`, are the same for all). Like the single emulator run as a service (test/support/pulse-service),
 * an instance reads PULSE_ENABLE_TRUENAS from its env file only when it (re)starts, and is restarted only through the
 * fleet's control API, `POST /restart/<name>` (the restart command a rollout's Enable and Disable run), on the same
 * ports. `GET /instances` lists them.
 *
 *   <dir>/<name>/pulse.env, <dir>/<name>/pulse.log, <dir>/<name>/data/
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EmulatorConfig } from './config.js';
import type { ProfileName } from './profiles.js';
import { startEmulator, type EmulatorHandle } from './server.js';
import { stablePort } from '../host/stable-port.js';

export interface EmulatorFleetOptions {
  names: string[];
  dir: string;
  profile?: ProfileName;
  tickSeconds?: number;
  staleSeconds?: number;
  /** API tokens every instance accepts (preset, as PULSE_EMULATOR_API_TOKENS). */
  tokens: Array<{ token: string; scopes: string[] }>;
  /** The env file's content for an instance that has none yet (default: the flag off). */
  envFile?: string;
  /** How many instances start at once (default 25). */
  startConcurrency?: number;
  /** The control API's port (0: a free one). */
  controlPort?: number;
  /**
   * How long an instance's connection test waits for the NAS (default Pulse's 10 s). 500 instances in one process
   * share one event loop: on a busy machine a stall of the process, not a slow NAS, can outlast 10 s.
   */
  testTimeoutMs?: number;
}

export interface FleetInstance {
  name: string;
  url: string;
  metricsUrl: string;
  envFile: string;
  logFile: string;
  dataDir: string;
  /** Times it was restarted through the control API. */
  restarts: number;
}

export interface EmulatorFleet {
  controlUrl: string;
  instances: FleetInstance[];
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** PULSE_ENABLE_TRUENAS as the env file says now (undefined: not set), read the way systemd's EnvironmentFile is. */
function flagFrom(envFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch {
    return undefined;
  }
  let value: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?PULSE_ENABLE_TRUENAS\s*=\s*(.*?)\s*$/.exec(line);
    if (m) value = m[1].replace(/^["']|["']$/g, '');
  }
  return value;
}

export async function startEmulatorFleet(opts: EmulatorFleetOptions): Promise<EmulatorFleet> {
  for (const name of opts.names)
    if (!NAME.test(name)) throw new Error(`fleet instance name "${name}" must be 1-64 letters, digits, dot, dash or underscore`);
  const handles = new Map<string, EmulatorHandle>();
  const configs = new Map<string, EmulatorConfig>();
  const instances: FleetInstance[] = [];
  const restarting = new Map<string, Promise<void>>();

  const start = async (name: string): Promise<EmulatorHandle> => {
    const base = configs.get(name)!;
    const inst = instances.find((i) => i.name === name)!;
    // Each instance keeps its ports across restarts, as a service does: ports below the kernel's ephemeral range, so
    // that no other process binding port 0 meanwhile takes one while its instance restarts (src/host/stable-port.ts).
    // Chosen just before the first start, so that another process choosing a stable port has a window of a moment.
    if (!base.port) {
      base.port = await stablePort(taken);
      base.metricsPort = await stablePort(taken);
    }
    const handle = await startEmulator(
      { ...base, enableTrueNAS: flagFrom(inst.envFile) },
      { logSink: (line) => appendFileSync(inst.logFile, `${line}\n`) },
    );
    handles.set(name, handle);
    // Later restarts keep the same ports, as a service does.
    base.port = Number(new URL(handle.url).port);
    base.metricsPort = Number(new URL(handle.metricsUrl).port);
    return handle;
  };

  const names = [...opts.names];
  const taken = new Set<number>();
  const concurrency = opts.startConcurrency ?? 25;
  for (const name of names) {
    const root = join(opts.dir, name);
    const inst: FleetInstance = {
      name,
      url: '',
      metricsUrl: '',
      envFile: join(root, 'pulse.env'),
      logFile: join(root, 'pulse.log'),
      dataDir: join(root, 'data'),
      restarts: 0,
    };
    mkdirSync(inst.dataDir, { recursive: true });
    try {
      readFileSync(inst.envFile);
    } catch {
      writeFileSync(inst.envFile, opts.envFile ?? 'PULSE_ENABLE_TRUENAS=false\n', { mode: 0o600 });
    }
    instances.push(inst);
    configs.set(name, {
      dataDir: inst.dataDir,
      port: 0,
      metricsPort: 0,
      bindAddress: '127.0.0.1',
      enableTrueNAS: undefined,
      profile: opts.profile ?? 'feb',
      tickSeconds: opts.tickSeconds ?? 60,
      staleSeconds: opts.staleSeconds ?? 120,
      tokens: opts.tokens,
      pollTimeoutMs: 30_000,
      testTimeoutMs: opts.testTimeoutMs ?? 10_000,
      demoTrueNAS: false,
    });
  }
  for (let i = 0; i < names.length; i += concurrency) {
    await Promise.all(
      names.slice(i, i + concurrency).map(async (name) => {
        const handle = await start(name);
        const inst = instances.find((x) => x.name === name)!;
        inst.url = handle.url;
        inst.metricsUrl = handle.metricsUrl;
      }),
    );
  }

  const restart = (name: string): Promise<void> => {
    if (!handles.has(name)) return Promise.reject(new Error(`no fleet instance ${name}`));
    // Restarts of one instance queue up, as systemctl's do.
    const next = (restarting.get(name) ?? Promise.resolve()).then(async () => {
      await handles.get(name)!.stop();
      await start(name);
      instances.find((i) => i.name === name)!.restarts += 1;
    });
    restarting.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  };

  const control: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fleet');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const m = /^\/restart\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      restart(decodeURIComponent(m[1])).then(
        () => reply(200, { restarted: m[1] }),
        (err: Error) => reply(/no fleet instance/.test(err.message) ? 404 : 500, { error: err.message }),
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/instances') return reply(200, instances);
    reply(404, { error: 'POST /restart/<name> or GET /instances' });
  });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(opts.controlPort ?? 0, '127.0.0.1', () => resolve());
  });
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  return {
    controlUrl,
    instances,
    restart,
    async stop() {
      await new Promise<void>((resolve) => {
        control.closeAllConnections?.();
        control.close(() => resolve());
      });
      await Promise.all([...restarting.values()]);
      await Promise.all([...handles.values()].map((h) => h.stop()));
    },
  };
}
