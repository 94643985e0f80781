/**
 * `pulse-runbook start`: the main job. Starts the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set)
 * and the worker. With no Pulse given, it runs a clearly labelled demo: a Pulse emulator with a fake TrueNAS,
 * one connection, then the Kill-Switch plan and the Kill-Switch itself, visible in the Web UI.
 * History is encrypted (issue 6): with the embedded server and no key file given, a key file is generated in the
 * data dir on the first start and reused after, and a codec server lets the local Web UI show decrypted values.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Command } from 'commander';
import type { DevServer } from '../temporal/dev-server.js';
import { resolvePulseTarget } from '../config/load.js';
import { KillSwitchInputSchema } from '../config/kill-switch.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';
import type { EmulatorProcess } from '../emulator/process.js';
import { PulseClient } from '../pulse/client.js';
import { addGlobalFlags, addPulseFlags, EMBEDDED_ADDRESS, EMBEDDED_UI, EMBEDDED_KEYS_FILE, loadSettings, resolveActor } from './context.js';
import type { Identity } from '../identity/resolve.js';
import { connectClient } from '../client.js';
import type { DataConverter } from '@temporalio/common';
import { CODEC_KEYS_FILE_ENV, EMBEDDED_KEYS_FILE_NAME } from '../config/codec.js';
import { ensureKeyFile, resolveCodecKeysFile } from '../temporal/codec-key-file.js';
import { loadCodec, type LoadedCodec } from '../temporal/data-converter.js';
import { localUiOrigins, startCodecServer, type CodecServer } from '../temporal/codec-server.js';
import { followRun, uiLink } from './follow.js';

const DEMO_TICK_SECONDS = 3;
const DEMO_STALE_SECONDS = 6;

export function startCommand(): Command {
  const cmd = new Command('start').description(
    'Run the worker, with an embedded Temporal dev server unless TEMPORAL_ADDRESS is set; a demo when no Pulse is given',
  );
  addPulseFlags(addGlobalFlags(cmd))
    .option('--data-dir <dir>', 'where the embedded server keeps its SQLite file', '.data')
    .option('--temporal-port <n>', 'gRPC port of the embedded dev server', Number, Number(EMBEDDED_ADDRESS.split(':')[1]))
    .option('--ui-port <n>', 'Web UI port of the embedded dev server', Number, Number(new URL(EMBEDDED_UI).port))
    .option('--codec-port <n>', 'port of the codec server for the embedded Web UI (0: any free port)', Number, 0)
    .option('--once', 'exit after the demo instead of serving (for scripts and CI)')
    .option('--no-demo', 'do not run the demo when no Pulse is given')
    .action(async (flags) => {
      const settings = loadSettings(flags);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      let server: DevServer | undefined;
      let codecServer: CodecServer | undefined;
      let address = settings.temporal.address;
      let uiUrl = process.env.TEMPORAL_UI_URL;
      const codec = startCodec(flags, Boolean(address), log);
      if (!address) {
        if (codec) {
          // Before the dev server: its Web UI is told the codec endpoint when it starts.
          codecServer = await startCodecServer({
            codec: codec.codec,
            port: flags.codecPort,
            allowedOrigins: localUiOrigins(flags.uiPort),
            namespaces: [settings.temporal.namespace],
            log,
          });
          log(`Codec server ${codecServer.url} (decrypts for the Web UI; answers only ${localUiOrigins(flags.uiPort).join(' and ')})`);
        }
        log('Starting the embedded Temporal dev server (state in ' + path.join(flags.dataDir, 'temporal.sqlite') + ') …');
        const { startDevServer } = await import('../temporal/dev-server.js');
        server = await startDevServer({
          port: flags.temporalPort,
          uiPort: flags.uiPort,
          dbFile: path.resolve(flags.dataDir, 'temporal.sqlite'),
          logFile: path.resolve(flags.dataDir, 'temporal-server.log'),
          ...(codecServer ? { uiCodecEndpoint: codecServer.url } : {}),
        });
        address = server.address;
        uiUrl = server.uiUrl;
        log(`Temporal ${address} ready; Web UI ${uiUrl}`);
      }
      // The worker, dev server and emulator are imported when used, so `start --help` loads none of them.
      const { createWorker } = await import('../worker.js');
      const { worker, connection } = await createWorker(
        { ...settings.temporal, address },
        {},
        { codec: codec?.codec, ring: codec?.ring, warn: log },
      );
      log(`Worker on task queue "${settings.temporal.taskQueue}" (namespace ${settings.temporal.namespace})`);
      const running = worker.run();

      const pulse = resolvePulseTarget(flags, process.env, settings.file);
      let emulator: EmulatorProcess | undefined;
      const shutdown = async () => {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await emulator?.stop();
        await server?.stop();
        await codecServer?.close();
      };
      process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
      process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));

      if (!pulse && flags.demo !== false) {
        // The demo TrueNAS key stays in this process: the emulator gets it by env, Pulse by the add call.
        const demoKey = randomBytes(16).toString('hex');
        const { spawnEmulator } = await import('../emulator/process.js');
        emulator = await spawnEmulator({
          enableTrueNAS: 'true',
          tickSeconds: DEMO_TICK_SECONDS,
          staleSeconds: DEMO_STALE_SECONDS,
          env: { PULSE_EMULATOR_DEMO_TRUENAS: '1', PULSE_EMULATOR_DEMO_TRUENAS_KEY: demoKey },
        });
        const ok = await runDemo(
          emulator,
          demoKey,
          {
            address,
            namespace: settings.temporal.namespace,
            taskQueue: settings.temporal.taskQueue,
            uiUrl,
            dataConverter: codec?.dataConverter,
            identity: await resolveActor(settings),
          },
          log,
        );
        if (flags.once) {
          await shutdown();
          process.exitCode = ok ? 0 : 1;
          return;
        }
        log('\nDemo finished; the worker keeps serving. Ctrl-C to stop.');
      } else if (pulse) {
        log(
          `Pulse target: ${pulse.url}. Start a procedure from another terminal, e.g.\n  npx pulse-runbook kill-switch --pulse-url ${pulse.url} --plan`,
        );
      }
      await running;
    });
  return cmd;
}

async function runDemo(
  emulator: EmulatorProcess,
  demoKey: string,
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl?: string; dataConverter?: DataConverter; identity: Identity },
  log: (line: string) => void,
): Promise<boolean> {
  log('\n==================== DEMO (no Pulse given) ====================');
  log(`This is the Pulse EMULATOR at ${emulator.url}, not a real Pulse, with a fake TrueNAS at ${emulator.truenasUrl}.`);
  log(`Its poller ticks every ${DEMO_TICK_SECONDS} s and sources go stale after ${DEMO_STALE_SECONDS} s (Pulse: 60 s / 120 s).`);
  const pulse = await PulseClient.create({ url: emulator.url, timeoutMs: 10_000 });
  try {
    // Pulse dials HTTPS whenever `port` is 0, even for an http:// host; plain HTTP needs the port set.
    const nas = new URL(emulator.truenasUrl!);
    await pulse.addConnection({ name: 'demo-nas', host: `http://${nas.hostname}`, port: Number(nas.port), apiKey: demoKey, enabled: true });
    await emulator.control.tick();
    const resources = await pulse.listTrueNASResources();
    log(`Added connection demo-nas; the emulator now lists ${resources.resources.length} TrueNAS resource(s).`);
  } finally {
    await pulse.close();
  }
  const client = await connectClient(temporal);
  let ok = true;
  for (const plan of [true, false]) {
    const input = KillSwitchInputSchema.parse({
      pulse: { url: emulator.url },
      plan,
      tickSeconds: DEMO_TICK_SECONDS,
      staleThresholdSeconds: DEMO_STALE_SECONDS * 2,
      verifyEverySeconds: 1,
    });
    const workflowId = `demo-kill-switch-${plan ? 'plan-' : ''}${Date.now()}`;
    log(`\n--- DEMO: Kill-Switch${plan ? ' PLAN (changes nothing)' : ''} — workflow ${workflowId}`);
    const link = uiLink(temporal.uiUrl, temporal.namespace, workflowId);
    if (link) log(`    ${link}`);
    const handle = await client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue: temporal.taskQueue,
      workflowId,
      args: [input],
    });
    // followRun closes the client it follows with: it gets one of its own, the demo's client starts the next run.
    const reconnect = () => connectClient(temporal);
    const outcome = await followRun(
      { client: await reconnect(), address: temporal.address, reconnect },
      { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      { json: false, out: process.stdout, pollMs: 500 },
    );
    if (!outcome.ok) {
      log(`DEMO Kill-Switch failed: ${outcome.error}`);
      ok = false;
    }
  }
  await client.connection.close();
  log(`\n==================== DEMO ${ok ? 'complete' : 'FAILED'} ====================`);
  return ok;
}

/**
 * The codec of this start: the key file given (--codec-keys-file / PULSE_RUNBOOKS_CODEC_KEYS_FILE), else - for the
 * embedded server only - the data dir's generated key file, created 0600 on the first start and reused after.
 * Against an external Temporal no key is invented: its other workers and its Web UI would not have it.
 */
function startCodec(
  flags: { codecKeysFile?: string; dataDir: string },
  external: boolean,
  log: (line: string) => void,
): LoadedCodec | undefined {
  let keysFile = resolveCodecKeysFile(flags, process.env);
  let created = false;
  if (!keysFile && !external) {
    const ensured = ensureKeyFile(path.join(flags.dataDir, EMBEDDED_KEYS_FILE_NAME));
    keysFile = ensured.path;
    created = ensured.created;
  }
  if (!keysFile) {
    log(`Payload encryption off: history is stored in plain text (give --codec-keys-file or ${CODEC_KEYS_FILE_ENV})`);
    return undefined;
  }
  const codec = loadCodec(keysFile);
  for (const w of codec.warnings) log(`warning: ${w}`);
  log(
    `Payload encryption on: key file ${codec.keysFile} (${created ? 'created now' : 'reused'}), current key id "${codec.codec.currentKeyId}"`,
  );
  if (external) {
    log('    The Web UI of that Temporal needs a codec server to show decrypted values: `pulse-runbook codec-server` (docs/security.md)');
  } else if (path.resolve(EMBEDDED_KEYS_FILE) !== codec.keysFile) {
    log(`    CLI commands in another terminal need it too: --codec-keys-file ${codec.keysFile} (or ${CODEC_KEYS_FILE_ENV})`);
  }
  return codec;
}
