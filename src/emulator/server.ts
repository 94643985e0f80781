/**
 * The emulator in one process: main HTTP listener (Pulse API + `/__emulator/` control), separate metrics
 * listener, the TrueNAS poller and, on request, a demo fake TrueNAS. `startEmulator` is used by main.ts
 * and directly by fast unit tests; `spawnEmulator` (process.ts) runs main.ts as a real child process.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AuthState } from './auth.js';
import type { EmulatorConfig } from './config.js';
import { authScheme, CONTROL_PREFIX, handleControl, RequestLog } from './control.js';
import { EmulatorControl } from './control-client.js';
import { CryptoManager } from './crypto.js';
import { startFakeTrueNAS, type FakeTrueNAS } from './fake-truenas.js';
import { FaultInjector } from './faults.js';
import { goTime } from './go-json.js';
import { PulseLogger, type LogSink } from './logger.js';
import { TrueNASPoller } from './poller.js';
import { PROFILES } from './profiles.js';
import { createMetricsServer, PulseMetrics } from './pulse-metrics.js';
import { notFound, type Reply } from './reply.js';
import { routeResources } from './resource-routes.js';
import { ResourceStore } from './resource-store.js';
import { health, quickSetup, securityStatus } from './security-routes.js';
import { TrueNASStore } from './store.js';
import { routeTrueNAS } from './truenas-routes.js';

export interface EmulatorHandle {
  url: string;
  metricsUrl: string;
  pid: number;
  dataDir: string;
  profile: 'feb' | 'v6';
  /** URL of the demo fake TrueNAS when PULSE_EMULATOR_DEMO_TRUENAS is on. */
  truenasUrl?: string;
  control: EmulatorControl;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Where Pulse-style log lines go (default: stderr). */
  logSink?: LogSink;
}

export async function startEmulator(config: EmulatorConfig, options: StartOptions = {}): Promise<EmulatorHandle> {
  const profile = PROFILES[config.profile];
  const flagEnabled = profile.parseFlag(config.enableTrueNAS); // read once, like the package-level var
  mkdirSync(config.dataDir, { recursive: true });
  const crypto = CryptoManager.open(config.dataDir);
  const store = new TrueNASStore(config.dataDir, crypto);
  const auth = new AuthState(config.dataDir);
  auth.load({ user: config.authUser, pass: config.authPass, presetTokens: config.tokens });
  const logger = new PulseLogger(profile, options.logSink);
  const metrics = new PulseMetrics();
  const poller = new TrueNASPoller({
    profile,
    enabled: flagEnabled,
    tickSeconds: config.tickSeconds,
    timeoutMs: config.pollTimeoutMs,
    store,
    metrics,
    logger,
  });
  const resourceStore = new ResourceStore(profile, poller, config.staleSeconds);
  const faults = new FaultInjector();
  const requestLog = new RequestLog();
  const startedAt = Date.now();

  let demo: FakeTrueNAS | undefined;
  if (config.demoTrueNAS) {
    demo = await startFakeTrueNAS({ apiKey: config.demoTrueNASKey ?? randomBytes(24).toString('hex'), hostname: 'truenas-demo' });
  }

  const state = () => ({
    profile: profile.name,
    flag: { raw: config.enableTrueNAS ?? null, enabled: flagEnabled },
    poller: { running: poller.running, tick: poller.ticks, tickSeconds: config.tickSeconds, staleSeconds: config.staleSeconds },
    resourceStore: { builds: resourceStore.builds, refreshOnStateBuild: profile.resourcesRefreshOnStateBuild },
    providers: poller.providerIds().map((id) => {
      const rt = poller.runtimeFor(id);
      return {
        id,
        lastAttemptAt: rt?.lastAttemptAt ? goTime(rt.lastAttemptAt) : null,
        lastSuccessAt: rt?.lastSuccessAt ? goTime(rt.lastSuccessAt) : null,
        consecutiveFailures: rt?.consecutiveFailures ?? 0,
        lastError: rt?.lastError && rt.consecutiveFailures > 0 ? { ...rt.lastError, at: goTime(rt.lastError.at) } : null,
      };
    }),
    auth: { hasPasswordAuth: auth.hasPasswordAuth(), tokens: auth.tokens.length, bootstrapPending: auth.bootstrapToken !== '' },
    startedAt: goTime(startedAt),
  });

  async function route(req: IncomingMessage, path: string, query: URLSearchParams): Promise<Reply> {
    if (path === '/api/health') return health(startedAt);
    if (path === '/api/security/status') return securityStatus(req, auth);
    if (path === '/api/security/quick-setup') return quickSetup(req, auth);
    const truenas = await routeTrueNAS(req, path, { profile, flagEnabled, store, poller, testTimeoutMs: config.testTimeoutMs }, auth);
    if (truenas) return truenas;
    const resources = routeResources(req, path, query, { profile, store: resourceStore }, auth);
    return resources ?? notFound();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    if (path.startsWith(CONTROL_PREFIX)) {
      const reply = await handleControl(req, path, url.searchParams, { log: requestLog, faults, tick: () => poller.tick(), state });
      appendRequest(req.method ?? 'GET', path, reply.status, true);
      return write(res, reply);
    }
    const began = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const decision = faults.decide(method, path);
    if (decision?.delayMs) await new Promise((r) => setTimeout(r, decision.delayMs));
    const reply = decision?.reply ?? (await route(req, path, url.searchParams));
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    requestLog.add({
      time: goTime(Date.now()),
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      status: reply.reset ? 0 : reply.status,
      durationMs: Math.round(seconds * 1000),
      auth: authScheme(req),
      fault: decision !== undefined,
    });
    if (!reply.reset) metrics.recordHttp(method, path, reply.status, seconds);
    appendRequest(method, path, reply.reset ? 0 : reply.status, false);
    write(res, reply);
  }

  /** PULSE_EMULATOR_REQUEST_LOG: one JSON line per request, the control API's included (never headers). */
  function appendRequest(method: string, path: string, status: number, control: boolean): void {
    if (!config.requestLogFile) return;
    appendFileSync(
      config.requestLogFile,
      `${JSON.stringify({ time: goTime(Date.now()), method, path, status, ...(control && { control: true }) })}\n`,
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      // ErrorHandler's panic recovery: 500 internal_error envelope, never a hung request.
      logger.info('emulator request failed', { error: err.message });
      if (!res.headersSent)
        write(res, {
          status: 500,
          headers: { 'Content-Type': 'application/json' },
          body: '{"error":"An unexpected error occurred","code":"internal_error","status_code":500}\n',
        });
    });
  });
  const metricsServer = createMetricsServer(metrics, config.metricsToken);

  const port = await listen(server, config.port, config.bindAddress);
  const metricsPort = await listen(metricsServer, config.metricsPort, config.bindAddress);
  const host = config.bindAddress.includes(':') ? `[${config.bindAddress}]` : config.bindAddress;
  // Like Pulse's goroutine: the first sync+poll starts now and the server does not wait for it.
  void poller.start();

  const url = `http://${host}:${port}`;
  return {
    url,
    metricsUrl: `http://${host}:${metricsPort}/metrics`,
    pid: process.pid,
    dataDir: config.dataDir,
    profile: profile.name,
    truenasUrl: demo?.url,
    control: new EmulatorControl(url),
    async stop() {
      await poller.stop();
      await Promise.all([close(server), close(metricsServer), demo?.close()]);
    },
  };
}

function write(res: ServerResponse, reply: Reply): void {
  if (reply.reset) {
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
