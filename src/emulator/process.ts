/**
 * Runs the emulator as a real child process (compiled `dist/src/emulator/main.js` when the build is fresh, else
 * `node --import tsx src/emulator/main.ts`: src/host/node-entry.ts), waits for its
 * listening line and hands back URLs, the pid, a control client and stop()/restart(). The child's
 * environment starts from this process's, minus every PULSE_ and port variable, so nothing leaks in
 * from the caller's shell; only what the options say is set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmulatorControl } from './control-client.js';
import { PACKAGE_ROOT } from '../host/package-root.js';
import { nodeArgsFor } from '../host/node-entry.js';

export { startEmulator, type EmulatorHandle } from './server.js';
export { configFromEnv, type EmulatorConfig } from './config.js';
export { EmulatorControl, type EmulatorState } from './control-client.js';

export interface SpawnOptions {
  /** Extra environment, applied after the defaults below (wins over them). */
  env?: Record<string, string>;
  /** Data dir; a fresh temp dir (removed again by stop()) when omitted. */
  dataDir?: string;
  profile?: 'feb' | 'v6';
  tickSeconds?: number;
  staleSeconds?: number;
  /** Main port; default 0 (random free port). */
  port?: number;
  /** Metrics port; default 0 (random free port). */
  metricsPort?: number;
  /** PULSE_ENABLE_TRUENAS; leave out (or undefined) for "unset". */
  enableTrueNAS?: string | undefined;
  /** PULSE_EMULATOR_API_TOKENS preset. */
  tokens?: Array<{ token: string; scopes: string[] }>;
  /** How long to wait for the listening line (default 20 s). */
  startTimeoutMs?: number;
}

export interface EmulatorProcess {
  url: string;
  metricsUrl: string;
  pid: number;
  dataDir: string;
  truenasUrl?: string;
  control: EmulatorControl;
  /** Everything the child wrote to stderr so far (its Pulse-style log). */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s); removes the data dir only if spawnEmulator created it. */
  stop(): Promise<void>;
  /** Stops this process and starts a new one on the same data dir, e.g. with another flag value. */
  restart(overrides?: Partial<SpawnOptions>): Promise<EmulatorProcess>;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The emulator's entry: main.ts beside this file when run from the sources, main.js when compiled to dist/. */
export const EMULATOR_MAIN = fileURLToPath(new URL(FROM_SOURCE ? './main.ts' : './main.js', import.meta.url));
/** Node's arguments to run it: the compiled file when dist/ is fresh (no loader, a faster start), else tsx. */
export const emulatorNodeArgs = (): Promise<string[]> => nodeArgsFor(EMULATOR_MAIN);
// tsx is resolved from the package, wherever the caller's working directory is.
const PROJECT_ROOT = PACKAGE_ROOT;

function childEnv(opts: SpawnOptions, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(PULSE_|FRONTEND_PORT$|BIND_ADDRESS$|METRICS_PORT$|PORT$)/.test(k)) continue;
    env[k] = v;
  }
  env.PULSE_DATA_DIR = dataDir;
  env.FRONTEND_PORT = String(opts.port ?? 0);
  env.PULSE_METRICS_PORT = String(opts.metricsPort ?? 0);
  env.BIND_ADDRESS = '127.0.0.1';
  env.PULSE_EMULATOR_PROFILE = opts.profile ?? 'feb';
  if (opts.tickSeconds !== undefined) env.PULSE_EMULATOR_TICK_SECONDS = String(opts.tickSeconds);
  if (opts.staleSeconds !== undefined) env.PULSE_EMULATOR_STALE_SECONDS = String(opts.staleSeconds);
  if (opts.enableTrueNAS !== undefined) env.PULSE_ENABLE_TRUENAS = opts.enableTrueNAS;
  if (opts.tokens) env.PULSE_EMULATOR_API_TOKENS = JSON.stringify(opts.tokens);
  return { ...env, ...(opts.env ?? {}) };
}

export async function spawnEmulator(opts: SpawnOptions = {}): Promise<EmulatorProcess> {
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pulse-emulator-'));
  const child = spawn(process.execPath, await emulatorNodeArgs(), {
    cwd: PROJECT_ROOT,
    env: childEnv(opts, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  let listening: { url: string; metricsUrl: string; pid: number; truenasUrl?: string };
  try {
    listening = await waitForListening(child, opts.startTimeoutMs ?? 20_000, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const stop = async () => {
    await terminate(child);
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url: listening.url,
    metricsUrl: listening.metricsUrl,
    pid: listening.pid,
    dataDir,
    truenasUrl: listening.truenasUrl,
    control: new EmulatorControl(listening.url),
    logs: () => stderr,
    stop,
    async restart(overrides = {}) {
      await terminate(child);
      const next = await spawnEmulator({ ...opts, ...overrides, dataDir });
      // The restarted process reuses our data dir; hand its removal on to the new handle's stop().
      if (!ownsDataDir) return next;
      return {
        ...next,
        stop: async () => {
          await next.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

function waitForListening(child: ChildProcess, timeoutMs: number, stderr: () => string) {
  return waitForEvent<{ url: string; metricsUrl: string; pid: number; truenasUrl?: string }>(child, timeoutMs, stderr);
}

/** Waits for the child's JSON line `{"event":"listening",…}` on stdout (the emulator's and the fleet's). */
export function waitForEvent<T>(child: ChildProcess, timeoutMs: number, stderr: () => string) {
  return new Promise<T>((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`emulator did not print its listening line within ${timeoutMs} ms; stderr:\n${stderr().slice(-4000)}`));
    }, timeoutMs);
    const onData = (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        try {
          const event = JSON.parse(line) as { event?: string };
          if (event.event === 'listening') {
            cleanup();
            resolvePromise(event as T);
            return;
          }
        } catch {
          // not our JSON line; keep reading
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`emulator exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr().slice(-4000)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.on('exit', onExit);
  });
}

export function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}
