/**
 * Runs the Pulse of a rehearsal on loopback as a service (service-ctl.mjs): its own data dir, a flag env file the
 * Enable and Disable workflows edit, a log file they read, and a restart command they run. Then gets an API token
 * the way an operator would without a browser: a bootstrap token written before the first start, then
 * `POST /api/security/quick-setup` (pulse-api.md §1). The token goes to a 0600 file that procedures reference.
 *
 * Real Pulse rewrites a plain `.bootstrap_token` into an encrypted file at its first start, so the plain value is
 * kept in memory from before the start (pulse-api.md §10). Usage telemetry is off (`PULSE_TELEMETRY=false`).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { request } from 'undici';
import { waitForHealthy } from '../host/health.js';
import { freePort } from '../temporal/dev-server.js';

export const SERVICE_CTL = fileURLToPath(new URL('./service-ctl.mjs', import.meta.url));

/** What to run as Pulse: a binary, or the emulator (node with tsx). */
export interface PulseProgram {
  argv: string[];
  cwd: string;
  /** Variables beyond the ones every Pulse gets here (data dir, ports, telemetry). */
  environment: Record<string, string>;
}

export interface RehearsalPulse {
  url: string;
  dataDir: string;
  envFile: string;
  logFile: string;
  /** The API token's file (0600): procedures reference it, never carry it. */
  tokenFile: string;
  /** The restart command the workflows run (an argv). */
  restartArgv: string[];
  /** How many times the service was started or restarted, by whom ever. */
  restarts(): Promise<number>;
  stop(): Promise<void>;
}

export class PulseServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PulseServiceError';
  }
}

export async function startRehearsalPulse(opts: {
  workDir: string;
  program: PulseProgram;
  flag?: 'true' | 'false';
  healthTimeoutMs?: number;
}): Promise<RehearsalPulse> {
  const dir = path.resolve(opts.workDir, 'pulse');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.chmod(dataDir, 0o700);
  const envFile = path.join(dir, 'pulse.env');
  const logFile = path.join(dir, 'pulse.log');
  const tokenFile = path.join(dir, 'api-token');
  const invocationsFile = path.join(dir, 'service-invocations');
  // The flag lives where the service reads it, as on a host; unset means the line is absent.
  await fs.writeFile(
    envFile,
    `# The Pulse service's EnvironmentFile (rehearsal)\n${opts.flag ? `PULSE_ENABLE_TRUENAS=${opts.flag}\n` : ''}`,
    { mode: 0o600 },
  );
  const bootstrap = randomBytes(16).toString('hex');
  await fs.writeFile(path.join(dataDir, '.bootstrap_token'), `${bootstrap}\n`, { mode: 0o600 });

  const port = await freePort();
  const metricsPort = await freePort();
  const serviceFile = path.join(dir, 'service.json');
  const service = {
    argv: opts.program.argv,
    cwd: opts.program.cwd,
    environment: {
      PULSE_DATA_DIR: dataDir,
      FRONTEND_PORT: String(port),
      BIND_ADDRESS: '127.0.0.1',
      PULSE_METRICS_PORT: String(metricsPort),
      METRICS_PORT: String(metricsPort),
      PULSE_TELEMETRY: 'false',
      ...opts.program.environment,
    },
    envFile,
    pidFile: path.join(dir, 'pulse.pid'),
    logFile,
    invocationsFile,
  };
  await fs.writeFile(serviceFile, JSON.stringify(service, null, 2));
  const ctl = (command: string) => [process.execPath, SERVICE_CTL, command, serviceFile];
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await execa(ctl('stop')[0], ctl('stop').slice(1), { reject: false });
  };

  await execa(ctl('start')[0], ctl('start').slice(1));
  try {
    await waitForHealthy(`${url}/api/health`, opts.healthTimeoutMs ?? 60_000, 250);
  } catch (err) {
    await stop();
    throw new PulseServiceError(`${(err as Error).message}; its log: ${logFile}\n${tail(logFile)}`);
  }
  const token = randomBytes(32).toString('hex');
  await quickSetup(url, bootstrap, token).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  await fs.writeFile(tokenFile, `${token}\n`, { mode: 0o600 });

  return {
    url,
    dataDir,
    envFile,
    logFile,
    tokenFile,
    restartArgv: ctl('restart'),
    restarts: async () =>
      (await fs.readFile(invocationsFile, 'utf8').catch(() => '')).split('\n').filter((l) => /^(start|restart) /.test(l)).length - 1,
    stop,
  };
}

/** POST /api/security/quick-setup with the bootstrap token: an admin user and an API token of scope "*". */
async function quickSetup(url: string, bootstrap: string, apiToken: string): Promise<void> {
  const res = await request(`${url}/api/security/quick-setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-setup-token': bootstrap },
    body: JSON.stringify({ username: 'admin', password: randomBytes(18).toString('base64url'), apiToken }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new PulseServiceError(
      `quick-setup answered ${res.statusCode}: ${text.slice(0, 300).replaceAll(apiToken, '********').replaceAll(bootstrap, '********')}`,
    );
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
