/**
 * A rehearsal of the runbook against a Pulse on loopback, headless: Enable → Kill-Switch → Enable → Disable → Data
 * Cleanup, each the real workflow on a real Temporal server with the real activities, against either a real Pulse
 * (built from a checkout or given as a binary) or the emulator. Pulse runs as a service whose flag lives in an env
 * file (pulse-service.ts), a fake TrueNAS answers its polls, and nothing is asked of Pulse that a headless
 * install would not get from a browser: only its public API, as the procedures call it.
 *
 * It stops at the first procedure that fails (the next ones would start from an unknown state) and writes the
 * report either way.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { connectClient } from '../client.js';
import type { Identity } from '../identity/resolve.js';
import { DataCleanupInputSchema } from '../config/data-cleanup-input.js';
import { DisableInputSchema } from '../config/disable.js';
import { EnableInputSchema, type ConnectionSpecInput } from '../config/enable.js';
import { KillSwitchInputSchema } from '../config/kill-switch.js';
import type { TemporalSettings } from '../config/temporal.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../emulator/fake-truenas.js';
import { emulatorNodeArgs } from '../emulator/process.js';
import { PACKAGE_ROOT } from '../host/package-root.js';
import { selfSignedCert } from '../emulator/self-signed-cert.js';
import type { Evidence } from '../runbook/evidence.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { encryptedDataConverter } from '../temporal/data-converter.js';
import { createWorker } from '../worker.js';
import { PulseClient } from '../pulse/client.js';
import { PulseDisabledError } from '../pulse/errors.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import { progressQuery, type WorkflowName } from '../../workflows/procedure.messages.js';
import { buildPulseFromSource, givenPulseBinary, type PulseBinary } from './pulse-binary.js';
import { startRehearsalPulse, type PulseProgram, type RehearsalPulse } from './pulse-service.js';
import { lineFromEvidence, renderReportMarkdown, stepReports, type ProcedureReport, type RehearsalReport } from './report.js';

export interface RehearsalOptions {
  /** A Pulse checkout to build, a binary to run, or neither for the emulator. */
  pulseSource?: string;
  pulseBinary?: string;
  emulatorProfile?: 'feb' | 'v6';
  /** The emulator's poller interval; a real Pulse polls every 60 s whatever is set here. */
  emulatorTickSeconds?: number;
  workDir: string;
  reportDir: string;
  /** An external Temporal; without it an in-memory dev server is started for the rehearsal. */
  temporal: TemporalSettings;
  codec?: PayloadCodec;
  /** Who runs the rehearsal: its runs carry this actor like any other (src/client.ts). */
  identity: Identity;
  log: (line: string) => void;
  /** Follows one run to its end, printing its progress: the CLI's follower, given by the CLI (src/rehearse is below it). */
  follow: FollowRun;
}

/** What a followed run came to: its result, or why it did not complete and the progress it had made. */
export type FollowedRun =
  { ok: true; result: { evidence: Evidence[] } } | { ok: false; error: string; progress?: { evidence: Evidence[] } };

/** src/cli/follow.ts's followRun, as the rehearsal calls it. */
export type FollowRun = (
  conn: { client: Client; address: string; reconnect: () => Promise<Client> },
  target: { workflowId: string; runId?: string },
  opts: { json: boolean; out: NodeJS.WritableStream; err: NodeJS.WritableStream; pollMs: number },
) => Promise<FollowedRun>;

interface Timings {
  tickSeconds: number;
  staleSeconds: number;
  appearWithinSeconds: number;
  verifyEverySeconds: number;
}

/** Pulse's own: a 60 s poller tick and a 120 s staleness window; two ticks and a margin for the first poll. */
const REAL_PULSE: Timings = { tickSeconds: 60, staleSeconds: 120, appearWithinSeconds: 150, verifyEverySeconds: 5 };

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalReport> {
  const startedAt = new Date();
  const log = opts.log;
  await fs.mkdir(opts.workDir, { recursive: true, mode: 0o700 });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const { program, origin, binary } = await pulseProgram(opts, log);
    const real = binary !== undefined;
    const emulatorTick = opts.emulatorTickSeconds ?? 2;
    const timings: Timings = real
      ? REAL_PULSE
      : {
          tickSeconds: emulatorTick,
          staleSeconds: emulatorTick * 2,
          appearWithinSeconds: emulatorTick * 6,
          verifyEverySeconds: Math.max(0.25, emulatorTick / 4),
        };

    // The NAS: a real Pulse of the main line speaks JSON-RPC over a websocket and sends credentials only over TLS,
    // v6.0.0 speaks REST; over HTTPS both are served. The emulator's own client speaks plain REST.
    const apiKey = randomBytes(20).toString('hex');
    const keyFile = path.join(opts.workDir, 'truenas-api-key');
    await fs.writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
    const nas: FakeTrueNAS = await startFakeTrueNAS({ apiKey, hostname: 'rehearsal-nas', ...(real && { tls: selfSignedCert() }) });
    cleanups.push(() => nas.close());
    log(`Fake TrueNAS ${nas.url} (${real ? 'HTTPS: REST and JSON-RPC over a websocket' : 'HTTP: REST'})`);

    // Pulse as a service with the flag off, so the first Enable writes it and restarts.
    log(`Starting Pulse (${origin}) on loopback with its own data dir under ${opts.workDir} …`);
    const pulse = await startRehearsalPulse({ workDir: opts.workDir, program, flag: 'false', healthTimeoutMs: 60_000 });
    cleanups.push(() => pulse.stop());
    log(`Pulse ${pulse.url} answers; API token from quick-setup in ${pulse.tokenFile}`);

    const temporal = await temporalFor(opts, log);
    cleanups.push(temporal.close);

    const connection: ConnectionSpecInput = {
      name: 'rehearsal-nas',
      host: real ? 'https://127.0.0.1' : 'http://127.0.0.1',
      port: nas.port,
      apiKey: { file: keyFile },
      ...(real && { insecureSkipVerify: true }),
    };
    const refusedKeyFile = path.join(opts.workDir, 'truenas-api-key-refused');
    await fs.writeFile(refusedKeyFile, `${randomBytes(20).toString('hex')}\n`, { mode: 0o600 });
    const procedures = sequence(pulse, connection, refusedKeyFile, timings);
    const reports: ProcedureReport[] = [];
    const evidence: Evidence[] = [];
    let failed = false;
    for (const [i, p] of procedures.entries()) {
      if (failed) {
        reports.push({ procedure: p.procedure, workflowType: p.workflowType, outcome: 'not-run', steps: [] });
        continue;
      }
      const ran = await runOne(temporal, opts.temporal.taskQueue, `${i + 1}`, p, log, opts.follow);
      reports.push(ran.report);
      evidence.push(...ran.evidence);
      failed = ran.report.outcome !== 'completed' && ran.report.outcome !== 'failed-as-expected';
    }

    const finishedAt = new Date();
    const line = lineFromEvidence(evidence);
    const report: RehearsalReport = {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      passed: !failed,
      pulse: {
        origin,
        url: pulse.url,
        buildSeconds: binary?.buildSeconds ?? 0,
        ...(line && { line: line.line, ...(line.seenFrom && { lineSeenFrom: line.seenFrom }) }),
      },
      nas: { url: nas.url, transports: real ? 'HTTPS: REST and JSON-RPC 2.0 over a websocket at /api/current' : 'HTTP: REST' },
      temporal: { address: temporal.address, embedded: temporal.embedded },
      headless:
        "no browser and no websocket client; the procedures call Pulse's public API only (what the web UI loads, GET /api/state, is read before resources)",
      procedures: reports,
      ...(!real && { requests: await requestsAsked(opts.workDir) }),
    };
    await writeReport(opts.reportDir, report, log);
    return report;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

const emulatorRequestLog = (workDir: string) => path.join(path.resolve(workDir), 'pulse', 'requests.jsonl');

/** What the emulator was asked, per method and path (ids folded), from its request log. */
async function requestsAsked(workDir: string): Promise<Record<string, number>> {
  const text = await fs.readFile(emulatorRequestLog(workDir), 'utf8').catch(() => '');
  const counts: Record<string, number> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { method: string; path: string; control?: boolean };
    const key = `${r.control ? 'CONTROL ' : ''}${r.method} ${r.path.replace(/\/api\/truenas\/connections\/(?!test$)[^/]+/, '/api/truenas/connections/{id}')}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The program the service runs, and where it came from. */
async function pulseProgram(
  opts: RehearsalOptions,
  log: (line: string) => void,
): Promise<{ program: PulseProgram; origin: string; binary?: PulseBinary }> {
  if (opts.pulseSource || opts.pulseBinary) {
    const binary = opts.pulseSource
      ? await buildPulseFromSource(opts.pulseSource, path.join(opts.workDir, 'bin'), log)
      : await givenPulseBinary(opts.pulseBinary!);
    if (binary.buildSeconds) log(`Built in ${Math.round(binary.buildSeconds)} s: ${binary.path}`);
    return { program: { argv: [binary.path], cwd: opts.workDir, environment: {} }, origin: `real Pulse, ${binary.origin}`, binary };
  }
  const profile = opts.emulatorProfile ?? 'v6';
  const tick = opts.emulatorTickSeconds ?? 2;
  return {
    program: {
      argv: [process.execPath, ...(await emulatorNodeArgs())],
      // tsx (from the sources) is resolved from the package, wherever the rehearsal's work dir is.
      cwd: PACKAGE_ROOT,
      environment: {
        PULSE_EMULATOR_PROFILE: profile,
        PULSE_EMULATOR_TICK_SECONDS: String(tick),
        PULSE_EMULATOR_STALE_SECONDS: String(tick * 2),
        // Every request the emulator answers, so the report can show what the rehearsal asked (and nothing else).
        PULSE_EMULATOR_REQUEST_LOG: emulatorRequestLog(opts.workDir),
      },
    },
    origin: `the Pulse emulator, profile ${profile} (not a real Pulse)`,
  };
}

interface RehearsalTemporal {
  client: Client;
  /** A new client over a new connection (followRun closes the one it follows with, and reconnects with this). */
  connect: () => Promise<Client>;
  address: string;
  embedded: boolean;
  close(): Promise<void>;
}

async function temporalFor(opts: RehearsalOptions, log: (line: string) => void): Promise<RehearsalTemporal> {
  let server: DevServer | undefined;
  let address = opts.temporal.address;
  if (!address) {
    server = await startDevServer({ headless: true });
    address = server.address;
    log(`Temporal dev server ${address} (in memory, for this rehearsal)`);
  }
  // Expected activity failures (404 truenas_disabled while the flag is off) are evidence, not news: keep the SDK quiet.
  process.env.PULSE_RUNBOOKS_LOG_LEVEL ??= 'ERROR';
  const { worker, connection } = await createWorker({ ...opts.temporal, address }, {}, { codec: opts.codec });
  const running = worker.run();
  const connect = () =>
    connectClient({
      address,
      namespace: opts.temporal.namespace,
      identity: opts.identity,
      ...(opts.codec && { dataConverter: encryptedDataConverter(opts.codec) }),
    });
  const client = await connect();
  return {
    client,
    connect,
    address,
    embedded: server !== undefined,
    async close() {
      await client.connection.close().catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close().catch(() => undefined);
      await server?.stop();
    },
  };
}

interface PlannedProcedure {
  procedure: string;
  workflowType: WorkflowName;
  input: unknown;
  /**
   * A negative case: the run must fail, and `check` says what else must hold afterwards (problems, or none).
   * `failure` is the message the run failed with.
   */
  mustFail?: { check: (failure: string) => Promise<string[]> };
}

/**
 * First a negative case (an Enable with a key the NAS refuses: it must fail in Pulse's words and leave nothing
 * behind), then the five procedures in the order an operator would run them.
 */
function sequence(pulse: RehearsalPulse, connection: ConnectionSpecInput, refusedKeyFile: string, t: Timings): PlannedProcedure[] {
  const target = { url: pulse.url, token: { file: pulse.tokenFile }, timeoutMs: 15_000 };
  const host = {
    flag: { kind: 'env-file' as const, path: pulse.envFile },
    restart: { kind: 'command' as const, argv: pulse.restartArgv, healthTimeoutMs: 60_000, healthIntervalMs: 250 },
    logs: { kind: 'file' as const, path: pulse.logFile },
  };
  const enable = () =>
    EnableInputSchema.parse({
      pulse: target,
      ...host,
      connection,
      appearWithinSeconds: t.appearWithinSeconds,
      verifyEverySeconds: t.verifyEverySeconds,
    });
  const refused = EnableInputSchema.parse({
    pulse: target,
    ...host,
    connection: { ...connection, name: 'rehearsal-nas-refused-key', apiKey: { file: refusedKeyFile } },
    appearWithinSeconds: t.appearWithinSeconds,
    verifyEverySeconds: t.verifyEverySeconds,
  });
  return [
    {
      procedure: 'enable (refused key)',
      workflowType: ENABLE_WORKFLOW,
      input: refused,
      mustFail: { check: (failure) => leftNothingBehind(pulse, failure) },
    },
    { procedure: 'enable', workflowType: ENABLE_WORKFLOW, input: enable() },
    {
      procedure: 'kill-switch',
      workflowType: KILL_SWITCH_WORKFLOW,
      input: KillSwitchInputSchema.parse({
        pulse: target,
        tickSeconds: t.tickSeconds,
        staleThresholdSeconds: t.staleSeconds,
        verifyEverySeconds: t.verifyEverySeconds,
      }),
    },
    { procedure: 'enable (again)', workflowType: ENABLE_WORKFLOW, input: enable() },
    {
      procedure: 'disable',
      workflowType: DISABLE_WORKFLOW,
      input: DisableInputSchema.parse({
        pulse: target,
        ...host,
        staleThresholdSeconds: t.staleSeconds,
        verifyEverySeconds: t.verifyEverySeconds,
        graceSeconds: t.tickSeconds / 2,
      }),
    },
    {
      procedure: 'data-cleanup',
      workflowType: DATA_CLEANUP_WORKFLOW,
      input: DataCleanupInputSchema.parse({ pulse: target, dataDir: pulse.dataDir }),
    },
  ];
}

async function runOne(
  temporal: RehearsalTemporal,
  taskQueue: string,
  n: string,
  p: PlannedProcedure,
  log: (line: string) => void,
  followRun: FollowRun,
): Promise<{ report: ProcedureReport; evidence: Evidence[] }> {
  const client = temporal.client;
  const workflowId = `rehearsal-${p.procedure.replace(/\W+/g, '-')}-${n}-${Date.now()}`;
  log(`\n=== ${p.procedure} (workflow ${workflowId})`);
  const started = new Date();
  const handle = await client.workflow.start(p.workflowType, {
    taskQueue,
    workflowId,
    args: [p.input],
    staticSummary: `rehearsal: ${p.procedure}`,
  });
  const out = { write: (chunk: string) => (log(chunk.replace(/\n$/, '')), true) } as unknown as NodeJS.WritableStream;
  const outcome = await followRun(
    { client: await temporal.connect(), address: temporal.address, reconnect: temporal.connect },
    { workflowId, runId: handle.firstExecutionRunId },
    { json: false, out, err: out, pollMs: 500 },
  );
  const seconds = (Date.now() - started.getTime()) / 1000;
  const fallback = 'progress' in outcome ? outcome.progress : undefined;
  const evidence = outcome.ok ? outcome.result.evidence : ((await handle.query(progressQuery).catch(() => fallback))?.evidence ?? []);
  const base = {
    procedure: p.procedure,
    workflowType: p.workflowType,
    workflowId,
    startedAt: started.toISOString(),
    seconds,
    steps: stepReports(evidence, started.toISOString()),
  };
  if (p.mustFail) {
    if (outcome.ok) {
      log(`=== ${p.procedure} COMPLETED, but it must fail`);
      return { report: { ...base, outcome: 'failed', error: 'the run completed, but it must fail' }, evidence };
    }
    const problems = await p.mustFail.check(outcome.error);
    if (problems.length > 0) {
      log(`=== ${p.procedure} failed, but not as it must: ${problems.join('; ')}`);
      return { report: { ...base, outcome: 'failed', error: `${outcome.error} — but: ${problems.join('; ')}` }, evidence };
    }
    log(`=== ${p.procedure} failed as it must, in ${Math.round(seconds)} s: ${outcome.error}`);
    return { report: { ...base, outcome: 'failed-as-expected', error: outcome.error }, evidence };
  }
  if (outcome.ok) {
    log(`=== ${p.procedure} completed in ${Math.round(seconds)} s`);
    return { report: { ...base, outcome: 'completed' }, evidence };
  }
  log(`=== ${p.procedure} FAILED after ${Math.round(seconds)} s: ${outcome.error}`);
  return { report: { ...base, outcome: 'failed', error: outcome.error }, evidence };
}

/**
 * After the refused-key Enable: it failed at the connection test or the poll with Pulse's own words, and undid
 * everything: no connection stored, the flag back to false in the env file, Pulse answering as disabled.
 */
async function leftNothingBehind(pulse: RehearsalPulse, failure: string): Promise<string[]> {
  const problems: string[] = [];
  if (!/^(ConnectionTestFailed|TrueNASPollFailed): /.test(failure))
    problems.push(`it failed with ${failure.split(':')[0]}, not at the connection test or the poll`);
  if (!/Pulse|status=40[13]|authentication failed/.test(failure)) problems.push("the failure does not quote Pulse's words");
  if (!/Undone: /.test(failure)) problems.push('the failure does not say what was undone');
  const env = await fs.readFile(pulse.envFile, 'utf8');
  if (!/^PULSE_ENABLE_TRUENAS=false$/m.test(env)) problems.push(`${pulse.envFile} no longer says PULSE_ENABLE_TRUENAS=false`);
  const client = await PulseClient.create({ url: pulse.url, token: { file: pulse.tokenFile }, timeoutMs: 15_000 });
  try {
    await client.listConnections().then(
      (list) => problems.push(`Pulse still answers the connections list (${list.length} connection(s)): the flag was not put back live`),
      (err: unknown) => {
        if (!(err instanceof PulseDisabledError)) problems.push(`the connections list answered ${(err as Error).message}`);
      },
    );
  } finally {
    await client.close();
  }
  return problems;
}

async function writeReport(dir: string, report: RehearsalReport, log: (line: string) => void): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const md = path.join(dir, 'rehearsal.md');
  const json = path.join(dir, 'rehearsal.json');
  await fs.writeFile(md, renderReportMarkdown(report), { mode: 0o600 });
  await fs.writeFile(json, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  log(`\nReport: ${md} and ${json}`);
}
