/**
 * E2E support for Enable and Disable: the Pulse emulator run as a "service" by pulse-service-ctl.mjs, the way
 * systemd runs Pulse. It listens on one fixed port across restarts, takes PULSE_ENABLE_TRUENAS only from a
 * real env file, and is restarted only by the restart command the workflow runs (an argv, through execa), so a
 * flag edit takes effect through the restart and nothing else. Plus a worker that also registers the
 * Pulse connection activities (activities/pulse-connections.ts), and a proxy that loses Pulse's answers on purpose.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../../activities/index.js';
import * as enableActivities from '../../activities/pulse-connections.js';
import { EmulatorControl } from '../../src/emulator/control-client.js';
import { EMULATOR_MAIN, emulatorNodeArgs } from '../../src/emulator/process.js';
import { waitForHealthy } from '../../src/host/health.js';
import { PulseClient } from '../../src/pulse/client.js';
import { stablePort } from '../../src/host/stable-port.js';
import { temporalAddress } from './e2e.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { uniqueId, workflowBundle } from '../../bench/support/time-skipping.js';

export const SERVICE_SCRIPT = fileURLToPath(new URL('./pulse-service-ctl.mjs', import.meta.url));
const PROJECT_ROOT = resolve(dirname(EMULATOR_MAIN), '..', '..');

export type ServiceCommand = 'restart' | 'start' | 'stop' | 'fail' | 'restart-broken';

export interface PulseServiceOptions {
  profile?: 'feb' | 'v6';
  /** Initial content of the env file; undefined means the file does not exist. */
  envFile?: string;
  tickSeconds?: number;
  staleSeconds?: number;
  /** A fixed metrics listener port (stable across restarts, for a Prometheus to scrape); default none (0). */
  metricsPort?: number;
}

export interface PulseService {
  dir: string;
  url: string;
  envFile: string;
  logFile: string;
  dataDir: string;
  /** The Pulse API token and the env var the activities read it from (by reference). */
  token: string;
  tokenEnv: string;
  pulse: PulseClient;
  control: EmulatorControl;
  /** The argv a workflow's restart config runs, e.g. { kind: 'command', argv: service.argv('restart') }. */
  argv(command?: ServiceCommand): string[];
  /** How many times the script ran with this command. */
  invocations(command?: ServiceCommand): number;
  /** The pid of the emulator the service runs now. */
  pid(): Promise<number>;
  /** Runs the script as a person would (outside any workflow) and waits until Pulse answers again. */
  run(command: ServiceCommand): Promise<void>;
  stop(): Promise<void>;
}

export async function startPulseService(opts: PulseServiceOptions = {}): Promise<PulseService> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'pulse-service-'));
  const port = await stablePort();
  const url = `http://127.0.0.1:${port}`;
  const token = randomBytes(32).toString('hex');
  const tokenEnv = `PULSE_SVC_TOKEN_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[tokenEnv] = token;
  const paths = {
    envFile: join(dir, 'pulse.env'),
    logFile: join(dir, 'pulse.log'),
    pidFile: join(dir, 'pulse.pid'),
    invocationsFile: join(dir, 'invocations.log'),
    dataDir: join(dir, 'data'),
  };
  const config = {
    ...paths,
    // Compiled when dist/ is fresh, else the sources through tsx (src/host/node-entry.ts).
    emulatorArgs: await emulatorNodeArgs(),
    projectRoot: PROJECT_ROOT,
    // The unit's Environment= lines; PULSE_ENABLE_TRUENAS comes only from the env file.
    environment: {
      PULSE_DATA_DIR: paths.dataDir,
      FRONTEND_PORT: String(port),
      PULSE_METRICS_PORT: String(opts.metricsPort ?? 0),
      BIND_ADDRESS: '127.0.0.1',
      PULSE_EMULATOR_PROFILE: opts.profile ?? 'feb',
      PULSE_EMULATOR_TICK_SECONDS: String(opts.tickSeconds ?? 1),
      PULSE_EMULATOR_STALE_SECONDS: String(opts.staleSeconds ?? 2),
      PULSE_EMULATOR_API_TOKENS: JSON.stringify([{ token, scopes: ['*'] }]),
    },
  };
  const configPath = join(dir, 'service.json');
  await fs.writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  if (opts.envFile !== undefined) await fs.writeFile(paths.envFile, opts.envFile, { mode: 0o600 });

  const argv = (command: ServiceCommand = 'restart') => [process.execPath, SERVICE_SCRIPT, command, configPath];
  const pulse = await PulseClient.create({ url, token: { env: tokenEnv }, timeoutMs: 5000 });
  const service: PulseService = {
    dir,
    url,
    envFile: paths.envFile,
    logFile: paths.logFile,
    dataDir: paths.dataDir,
    token,
    tokenEnv,
    pulse,
    control: new EmulatorControl(url),
    argv,
    invocations(command = 'restart') {
      let text: string;
      try {
        text = readFileSync(paths.invocationsFile, 'utf8');
      } catch {
        return 0;
      }
      return text.split('\n').filter((l) => l.split(' ')[0] === command).length;
    },
    async pid() {
      return Number((await fs.readFile(paths.pidFile, 'utf8')).trim());
    },
    async run(command) {
      const [file, ...args] = argv(command);
      await execa(file, args);
      if (command === 'start' || command === 'restart') await waitForHealthy(`${url}/api/health`, 20_000, 50);
    },
    async stop() {
      await pulse.close();
      const [file, ...args] = argv('stop');
      await execa(file, args, { reject: false });
      delete process.env[tokenEnv];
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  await service.run('start');
  return service;
}

/** The host settings Enable and Disable need for this service: its env file, restart command, log file and token. */
export function hostSteps(s: PulseService) {
  return {
    pulse: { url: s.url, token: { env: s.tokenEnv }, timeoutMs: 3000 },
    flag: { kind: 'env-file' as const, path: s.envFile },
    restart: { kind: 'command' as const, argv: s.argv('restart'), healthTimeoutMs: 20_000, healthIntervalMs: 100 },
    logs: { kind: 'file' as const, path: s.logFile },
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
  };
}

/** Pulse's view of the env file's flag line(s), for assertions. */
export async function flagLines(service: PulseService): Promise<string[]> {
  const text = await fs.readFile(service.envFile, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('PULSE_ENABLE_TRUENAS'));
}

export interface EnableDisableTemporal {
  client: Client;
  taskQueue: string;
  /** Runs fn while a worker (with the given identity) polls the task queue; the worker stops afterwards. */
  withWorker<T>(fn: () => Promise<T>, identity?: string): Promise<T>;
  close(): Promise<void>;
}

/** Like e2e.ts temporalHarness, with the Enable/Disable activities registered too. */
export async function enableDisableTemporal(): Promise<EnableDisableTemporal> {
  quietRuntime();
  const address = temporalAddress();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address });
  const taskQueue = uniqueId('enable-disable');
  const bundle = await workflowBundle();
  return {
    client,
    taskQueue,
    async withWorker(fn, identity) {
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowBundle: bundle,
        activities: { ...activities, ...enableActivities },
        ...(identity ? { identity } : {}),
      });
      return worker.runUntil(fn);
    },
    async close() {
      await connection.close();
      await native.close();
    },
  };
}

export interface LossyProxy {
  url: string;
  /** Requests whose answer was dropped after Pulse had handled them. */
  dropped(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of Pulse that forwards every request, and for the first `times` requests matching
 * `method path` lets Pulse handle them fully but drops the connection instead of passing the answer on: the
 * "it happened, but the caller never heard" case a retried activity must cope with.
 */
export async function answerLosingProxy(target: string, match: { method: string; path: string; times?: number }): Promise<LossyProxy> {
  let toDrop = match.times ?? 1;
  let dropped = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, body })
        .then(async (answer) => {
          const text = Buffer.from(await answer.arrayBuffer());
          if (req.method === match.method && (req.url ?? '').split('?')[0] === match.path && toDrop > 0) {
            toDrop -= 1;
            dropped += 1;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(text);
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
