/**
 * The production rehearsal's cluster: every service of docker-compose.yml as a process on this host, started in the
 * compose file's order with its scripts and settings (compose-plan.ts):
 *   PostgreSQL (ready) -> deploy/scripts/setup-postgres.sh (exit 0) -> Temporal history, matching, frontend and
 *   worker as four processes (frontend answers) -> deploy/scripts/create-namespace.sh (exit 0) -> the codec server,
 *   the Web UI server and two pulse-runbooks workers.
 * Ports are taken from 21000-22999 (a block that is free; Temporal's membership ports must stay below 32768, the
 * membership table stores them as smallint). Secrets (the database password, the codec key file, the Pulse token
 * file) are made fresh per cluster, reach the processes by environment or file only, and are deleted at stop().
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildWorkflowBundle } from '../../scripts/build-workflow-bundle.js';
import { createKeyFile } from '../temporal/codec-key-file.js';
import { waitForTemporal } from '../temporal/dev-server.js';
import { temporalCliPath } from '../temporal/tools.js';
import {
  composeEnv,
  composeRoles,
  PORT_NAMES,
  readComposeFile,
  rehearsalPlan,
  TEMPORAL_SERVICES,
  uiConfigText,
  type ClusterPorts,
  type ProcessSpec,
  type RehearsalPlan,
  type TemporalService,
} from './compose-plan.js';
import { startPostgres, type Postgres } from './postgres.js';
import { ManagedProcess, waitUntil, type UnexpectedExit } from './process.js';
import { clusterBinaries, type ClusterBinaries } from './versions.js';

export interface ClusterOptions {
  /** Where logs, the bundle and the secrets go; a fresh temp dir by default. Logs stay after stop(). */
  workDir?: string;
  /** pulse-runbooks workers (default 2). */
  workers?: number;
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
  /** Extra environment for the workers (settings of deploy/worker.env, e.g. PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS). */
  workerEnv?: Record<string, string>;
}

export interface ProductionCluster {
  /** The frontend, as TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  codecUrl: string;
  ports: ClusterPorts;
  plan: RehearsalPlan;
  binaries: ClusterBinaries;
  postgres: Postgres;
  temporal: Record<TemporalService, ManagedProcess>;
  ui: ManagedProcess;
  codecServer: ManagedProcess;
  workers: ManagedProcess[];
  /** Host files standing in for compose's secrets: pulse_token, codec_keys. */
  secretFiles: { pulse_token: string; codec_keys: string };
  /** The Pulse token the workers read from secretFiles.pulse_token (to give an emulator the same token). */
  pulseToken: string;
  /** The database password, for checks that it never reaches a log. */
  postgresPassword: string;
  workDir: string;
  logDir: string;
  /** Seconds each start step took. */
  timings: Array<{ step: string; seconds: number }>;
  /** Stops worker i (SIGTERM, or SIGKILL when crash) and starts it again, with another workflow bundle if given. */
  replaceWorker(i: number, opts?: { bundle?: string; crash?: boolean }): Promise<ManagedProcess>;
  /** SIGKILL of worker i, nothing else. */
  killWorker(i: number): Promise<void>;
  restartService(service: TemporalService): Promise<void>;
  /** Waits until the frontend answers and every process is running. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Services that exited without being asked to, since the start. */
  unexpectedExits(): UnexpectedExit[];
  stop(): Promise<void>;
}

const PORT_RANGE = { first: 21000, last: 22999 };
const BLOCK = 16;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A block of free ports in 21000-22999, picked at random so rehearsals of several checkouts rarely meet. */
export async function pickPorts(): Promise<ClusterPorts> {
  const blocks = Math.floor((PORT_RANGE.last - PORT_RANGE.first + 1) / BLOCK);
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = PORT_RANGE.first + Math.floor(Math.random() * blocks) * BLOCK;
    const ports = PORT_NAMES.map((_, i) => base + i);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return Object.fromEntries(PORT_NAMES.map((n, i) => [n, ports[i]])) as unknown as ClusterPorts;
  }
  throw new Error(`no block of ${PORT_NAMES.length} free ports in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

/** The membership (ringpop) port: every service listens there once it has joined (the worker service has no gRPC server). */
const MEMBERSHIP_PORT: Record<TemporalService, (p: ClusterPorts) => number> = {
  history: (p) => p.historyMembership,
  matching: (p) => p.matchingMembership,
  frontend: (p) => p.frontendMembership,
  worker: (p) => p.workerMembership,
};

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function runJob(spec: ProcessSpec, logFile: string, timeoutMs: number): Promise<void> {
  const job = new ManagedProcess(spec, logFile);
  job.start();
  job.expectExit();
  const timer = setTimeout(() => void job.kill(), timeoutMs);
  const code = await job.exitCode();
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${spec.name} exited with ${code}:\n${job.tail(40)}`);
}

export async function startProductionCluster(opts: ClusterOptions = {}): Promise<ProductionCluster> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[production] ${line}\n`));
  const workDir = opts.workDir ?? mkdtempSync(path.join(tmpdir(), 'pulse-runbooks-production-'));
  const logDir = path.join(workDir, 'logs');
  const secretDir = path.join(workDir, 'secrets');
  mkdirSync(logDir, { recursive: true });
  rmSync(secretDir, { recursive: true, force: true });
  mkdirSync(secretDir, { mode: 0o700 });
  const timings: ProductionCluster['timings'] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const out = await fn();
    timings.push({ step, seconds: (Date.now() - t) / 1000 });
    log(`${step}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return out;
  };

  const binaries = await timed('binaries (built once per machine)', clusterBinaries);
  const temporalCli = await temporalCliPath();
  const ports = await pickPorts();

  // Secrets, as compose would mount them: fresh per cluster, owner-only.
  const postgresPassword = randomBytes(24).toString('base64url');
  const pulseToken = randomBytes(32).toString('hex');
  const secretFiles = { pulse_token: path.join(secretDir, 'pulse_token'), codec_keys: path.join(secretDir, 'codec_keys') };
  writeFileSync(secretFiles.pulse_token, pulseToken, { mode: 0o600 });
  createKeyFile(secretFiles.codec_keys, { keyId: 'rehearsal' });

  const uiRoot = path.join(workDir, 'ui');
  mkdirSync(path.join(uiRoot, 'config'), { recursive: true });
  writeFileSync(path.join(uiRoot, 'config', 'docker.yaml'), uiConfigText(readFileSync(binaries.uiConfigTemplate, 'utf8')));

  const compose = readComposeFile();
  const workflowBundle = path.join(workDir, 'workflow-bundle.js');
  const plan = rehearsalPlan(compose, {
    ports,
    serverBin: binaries.serverBin,
    schemaRoot: binaries.schemaRoot,
    uiServer: binaries.uiServer,
    uiRoot,
    temporalCliDir: path.dirname(temporalCli),
    secretFiles,
    workflowBundle,
    variables: {
      POSTGRES_PASSWORD: postgresPassword,
      PULSE_TOKEN_FILE: secretFiles.pulse_token,
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: secretFiles.codec_keys,
    },
  });
  const address = `127.0.0.1:${ports.frontendGrpc}`;
  const roles = composeRoles(compose);
  const dbEnv = composeEnv(compose.services[roles.database], { POSTGRES_PASSWORD: postgresPassword });

  const logOf = (name: string) => path.join(logDir, `${name}.log`);
  const started: ManagedProcess[] = [];
  let postgres: Postgres | undefined;
  const stopAll = async () => {
    for (const p of [...started].reverse()) await p.stop().catch(() => undefined);
    await postgres?.destroy().catch(() => undefined);
    rmSync(secretDir, { recursive: true, force: true });
  };

  try {
    const bundling = timed('workflow bundle (as the Dockerfile builds it)', () => buildWorkflowBundle(workflowBundle));
    postgres = await timed(`PostgreSQL on 127.0.0.1:${ports.postgres}`, () =>
      startPostgres({
        pgBin: binaries.pgBin,
        port: ports.postgres,
        user: dbEnv.POSTGRES_USER ?? 'temporal',
        password: postgresPassword,
        logFile: logOf('postgresql'),
      }),
    );
    log(`PostgreSQL ${postgres.version} (compose pins postgres:${plan.versions.postgres})`);
    await timed('schema job (deploy/scripts/setup-postgres.sh)', () => runJob(plan.schemaJob, logOf(plan.schemaJob.name), 300_000));

    const temporal = Object.fromEntries(
      TEMPORAL_SERVICES.map((s) => [s, new ManagedProcess(plan.temporal[s], logOf(plan.temporal[s].name))]),
    ) as Record<TemporalService, ManagedProcess>;
    await timed(`Temporal ${plan.versions.server}: ${TEMPORAL_SERVICES.join(', ')} (frontend ${address})`, async () => {
      // One after the other: every service process writes the cluster metadata record when it starts on an empty
      // database, and two doing it at once makes one of them exit on the duplicate key (as a pod would crash-loop).
      for (const s of TEMPORAL_SERVICES) {
        temporal[s].start();
        started.push(temporal[s]);
        await waitUntil(
          `temporal ${s} listening on ${MEMBERSHIP_PORT[s](ports)}`,
          () => listening(MEMBERSHIP_PORT[s](ports)),
          120_000,
          temporal[s],
        );
      }
      await waitForTemporal(address, 120_000);
    });
    await timed('namespace job (deploy/scripts/create-namespace.sh)', () =>
      runJob(plan.namespaceJob, logOf(plan.namespaceJob.name), 600_000),
    );

    const codecUrl = `http://127.0.0.1:${ports.codec}`;
    const codecServer = new ManagedProcess(plan.codecServer, logOf(plan.codecServer.name));
    const ui = new ManagedProcess(plan.ui, logOf(plan.ui.name));
    const uiUrl = `http://127.0.0.1:${ports.ui}`;
    await timed(`codec server ${codecUrl} and UI ${plan.versions.ui} ${uiUrl}`, async () => {
      codecServer.start();
      started.push(codecServer);
      ui.start();
      started.push(ui);
      await Promise.all([
        waitUntil(
          'the codec server answers an empty decode',
          async () =>
            (
              await fetch(`${codecUrl}/decode`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{"payloads":[]}',
              })
            ).ok,
          60_000,
          codecServer,
        ),
        waitUntil('the UI server answers /api/v1/settings', async () => (await fetch(`${uiUrl}/api/v1/settings`)).ok, 60_000, ui),
      ]);
    });

    await bundling;
    const workers: ManagedProcess[] = [];
    const startWorker = async (i: number, bundle = workflowBundle): Promise<ManagedProcess> => {
      const spec = {
        ...plan.worker,
        name: `worker-${i + 1}`,
        env: { ...plan.worker.env, ...opts.workerEnv, PULSE_RUNBOOKS_WORKFLOW_BUNDLE: bundle },
      };
      const w = workers[i] ?? new ManagedProcess(spec, logOf(spec.name));
      w.spec = spec;
      const before = w.log().length;
      w.start();
      if (!started.includes(w)) started.push(w);
      workers[i] = w;
      await waitUntil(`${spec.name} polls its task queue`, async () => w.log().slice(before).includes('Worker on '), 120_000, w);
      return w;
    };
    await timed(`${opts.workers ?? 2} pulse-runbooks workers`, () =>
      Promise.all(Array.from({ length: opts.workers ?? 2 }, (_, i) => startWorker(i))),
    );

    const all = () => [postgres!.process, ...started];
    const cluster: ProductionCluster = {
      address,
      namespace: plan.namespaceJob.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: plan.worker.env.TEMPORAL_TASK_QUEUE ?? 'pulse-runbooks',
      uiUrl,
      codecUrl,
      ports,
      plan,
      binaries,
      postgres,
      temporal,
      ui,
      codecServer,
      workers,
      secretFiles,
      pulseToken,
      postgresPassword,
      workDir,
      logDir,
      timings,
      async replaceWorker(i, o = {}) {
        if (o.crash) await workers[i].kill();
        else await workers[i].stop(30_000);
        return startWorker(i, o.bundle ?? workers[i].spec.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE);
      },
      async killWorker(i) {
        await workers[i].kill();
      },
      async restartService(service) {
        await temporal[service].restart(15_000);
        await waitUntil(
          `temporal ${service} listening again`,
          () => listening(MEMBERSHIP_PORT[service](ports)),
          120_000,
          temporal[service],
        );
      },
      async waitHealthy(timeoutMs = 120_000) {
        await waitForTemporal(address, timeoutMs);
        const down = all().filter((p) => !p.running);
        if (down.length) throw new Error(`not running: ${down.map((p) => p.name).join(', ')}`);
      },
      unexpectedExits: () => all().flatMap((p) => p.unexpectedExits),
      async stop() {
        log('stopping');
        await stopAll();
      },
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw new Error(`the production rehearsal did not start (logs in ${logDir}): ${(err as Error).message}`, { cause: err });
  }
}
