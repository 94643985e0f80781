/**
 * `npm run rehearse:production [-- --keep]`: the production rehearsal. Starts docker-compose.yml's services as
 * processes on this host (cluster.ts), prints what differs from compose and why, runs a Kill-Switch against a Pulse
 * emulator through the cluster, and stops everything; with --keep the cluster stays up (Web UI, codec server, two
 * workers) until Ctrl-C. A development tool: it reads the compose file with the `yaml` devDependency.
 */
import { parseArgs } from 'node:util';
import { KillSwitchInputSchema } from '../config/kill-switch.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';
import { spawnEmulator } from '../emulator/process.js';
import { startFakeTrueNAS } from '../emulator/fake-truenas.js';
import { PulseClient } from '../pulse/client.js';
import { loadCodec } from '../temporal/data-converter.js';
import { connectClient } from '../client.js';
import { identitySettingsFrom, resolveIdentity } from '../identity/resolve.js';
import { startProductionCluster } from './cluster.js';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } }, strict: true });
const out = (line: string) => process.stdout.write(`${line}\n`);

const cluster = await startProductionCluster();
let stopped = false;
const stop = async () => {
  if (stopped) return;
  stopped = true;
  await cluster.stop();
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));
process.once('SIGTERM', () => void stop().then(() => process.exit(143)));

try {
  out(`\nBuilt from the Go module proxy (cached per machine):\n${cluster.binaries.buildInfo.replace(/^/gm, '  ')}`);
  out(`\nWhat runs differently from docker-compose.yml, and why:`);
  for (const c of cluster.plan.changes) out(`  ${c.service} ${c.setting}: ${c.compose ?? '(unset)'} -> ${c.rehearsal}  (${c.reason})`);
  out(`\nTemporal frontend ${cluster.address}, namespace ${cluster.namespace}, task queue ${cluster.taskQueue}`);
  out(`Web UI ${cluster.uiUrl} (decrypts through the codec server ${cluster.codecUrl}); logs in ${cluster.logDir}`);

  // A Kill-Switch of two connections against the emulator, with the token the workers read from their secret file.
  const truenas = await startFakeTrueNAS({ apiKey: 'rehearsal-truenas-key' });
  const emulator = await spawnEmulator({
    enableTrueNAS: 'true',
    tickSeconds: 2,
    staleSeconds: 4,
    tokens: [{ token: cluster.pulseToken, scopes: ['*'] }],
  });
  const pulse = await PulseClient.create({ url: emulator.url, token: { file: cluster.secretFiles.pulse_token }, timeoutMs: 5000 });
  for (const name of ['nas-1', 'nas-2']) await pulse.addConnection(truenas.connection({ name }));
  await emulator.control.tick();
  // As the person running the rehearsal, like every CLI command: the run's history and audit name them.
  const client = await connectClient({
    address: cluster.address,
    namespace: cluster.namespace,
    identity: await resolveIdentity(identitySettingsFrom({})),
    dataConverter: loadCodec(cluster.secretFiles.codec_keys).dataConverter,
  });
  const { connection } = client;
  const workflowId = `rehearsal-kill-switch-${Date.now()}`;
  const t = Date.now();
  const handle = await client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
    taskQueue: cluster.taskQueue,
    workflowId,
    args: [
      KillSwitchInputSchema.parse({
        pulse: { url: emulator.url, token: { file: cluster.secretFiles.pulse_token } },
        tickSeconds: 2,
        staleThresholdSeconds: 8,
        verifyEverySeconds: 1,
      }),
    ],
  });
  await handle.result();
  const left = await pulse.listConnections();
  out(`\nKill-Switch ${workflowId}: completed in ${((Date.now() - t) / 1000).toFixed(1)} s, connections left: ${left.length}`);
  out(`  see it at ${cluster.uiUrl}/namespaces/${cluster.namespace}/workflows/${workflowId}`);
  await connection.close();
  await pulse.close();
  await emulator.stop();
  await truenas.close();

  if (values.keep) {
    out('\nThe cluster keeps running; Ctrl-C stops it.');
    await new Promise(() => undefined);
  }
} finally {
  if (!values.keep) await stop();
}
