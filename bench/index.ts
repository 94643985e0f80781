/**
 * Benchmarks (`npm run bench`): prints figures, asserts nothing. Measures what the tests and operators wait on:
 * starting the Temporal servers, bundling the workflows, a Kill-Switch against the emulator, the reliability figures
 * (bench/reliability.ts: worker kill to retry, the longest Temporal outage a followed run survives, the bad-input
 * corpus), `canary simulate` over three weeks (bench/canary-simulate.ts), a canary over 500 instances
 * (bench/canary-fleet.ts), the history size and replay time of a simulated 3-week canary rollout
 * (bench/canary-three-weeks.ts), concurrent canary rollouts on the production rehearsal's cluster
 * (bench/production-scale.ts), and the CLI's start-up and `canary status` (bench/cli.ts; `BENCH_ONLY=cli` runs only
 * that, `BENCH_CLI=0` skips it).
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import * as activities from '../activities/index.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { testServerPath } from '../src/temporal/tools.js';
import { workflowsPath } from '../src/temporal/workflows-path.js';
import { spawnEmulator } from '../src/emulator/process.js';
import { startFakeTrueNAS } from '../src/emulator/fake-truenas.js';
import { PulseClient } from '../src/pulse/client.js';
import { KillSwitchInputSchema } from '../src/config/kill-switch.js';
import { quietRuntime } from '../src/temporal/quiet-runtime.js';
import { canaryThreeWeeks } from './canary-three-weeks.js';
import { canaryFleet } from './canary-fleet.js';
import { canarySimulateThreeWeeks } from './canary-simulate.js';
import { productionScale } from './production-scale.js';
import { badInputCorpus, killToRetry, longestOutage } from './reliability.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../workflows/kill-switch.messages.js';
import { cliBench } from './cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ms = (t: number) => `${Math.round(performance.now() - t)} ms`;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${Math.round(s[Math.floor(s.length / 2)])} ms, min ${Math.round(s[0])} ms, max ${Math.round(s[s.length - 1])} ms (n=${s.length})`;
};

quietRuntime();

async function timeSkippingStart() {
  const path = await testServerPath();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    times.push(performance.now() - t);
    await env.teardown();
  }
  console.log(`time-skipping test server start (SDK window is 5000 ms): ${stats(times)}`);
}

async function devServerStart() {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const s = await startDevServer({ headless: true });
    times.push(performance.now() - t);
    await s.stop();
  }
  console.log(`Temporal dev server start: ${stats(times)}`);
}

async function killSwitchRuns() {
  const server = await startDevServer({ headless: true });
  const t0 = performance.now();
  const bundle = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never,
  });
  console.log(`workflow bundle: ${ms(t0)}, ${(bundle.code.length / 1024 / 1024).toFixed(2)} MB`);
  const native = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const worker = await Worker.create({ connection: native, taskQueue: 'bench', workflowBundle: bundle, activities });
  const key = randomBytes(8).toString('hex');
  const truenas = await startFakeTrueNAS({ apiKey: key });
  const emu = await spawnEmulator({ enableTrueNAS: 'true', tickSeconds: 1, staleSeconds: 2 });
  const pulse = await PulseClient.create({ url: emu.url, timeoutMs: 5000 });
  const times: number[] = [];
  const rssBefore = process.memoryUsage().rss;
  await worker.runUntil(async () => {
    for (let i = 0; i < RUNS; i++) {
      for (let c = 0; c < 10; c++) await pulse.addConnection(truenas.connection({ name: `nas-${c}` }));
      await emu.control.tick();
      const t = performance.now();
      await client.workflow.execute<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
        taskQueue: 'bench',
        workflowId: `bench-ks-${i}-${Date.now()}`,
        args: [
          KillSwitchInputSchema.parse({ pulse: { url: emu.url }, tickSeconds: 1, staleThresholdSeconds: 10, verifyEverySeconds: 0.5 }),
        ],
      });
      times.push(performance.now() - t - 1000); // minus the 1 s tick timer
    }
  });
  console.log(`kill-switch of 10 connections, excluding the 1 s tick: ${stats(times)}`);
  console.log(
    `worker process RSS: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB (+${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(0)} MiB during the runs)`,
  );
  await pulse.close();
  await emu.stop();
  await truenas.close();
  await native.close();
  await client.connection.close();
  await server.stop();
}

// The CLI as an operator meets it (issue 15): first, before the heavier parts load the machine.
if (process.env.BENCH_CLI !== '0' || process.env.BENCH_ONLY === 'cli') await cliBench();
if (process.env.BENCH_ONLY === 'cli') process.exit(0);
await timeSkippingStart();
await devServerStart();
await killSwitchRuns();
// Reliability (issue 13, docs/reliability.md): a few minutes. BENCH_RELIABILITY=0 skips it.
if (process.env.BENCH_RELIABILITY !== '0') {
  await badInputCorpus();
  await killToRetry();
  await longestOutage();
}
// canary simulate over three weeks of one-minute data (about 4 min on a loaded two-core machine, most of it the
// backfill). BENCH_SIMULATE=0 skips it.
if (process.env.BENCH_SIMULATE !== '0') await canarySimulateThreeWeeks();
// A rollout over 500 instances: against emulators on the dev server (about 13 min on a loaded two-core machine), then
// 3 days on the time-skipping server (about 4 min). BENCH_FLEET=0 skips it, BENCH_FLEET=A or B runs one part.
if (process.env.BENCH_FLEET !== '0') await canaryFleet();
// The long one (about 20 min on two cores): a simulated 3-week canary at the runbook's defaults. BENCH_CANARY=0 skips it.
if (process.env.BENCH_CANARY !== '0') await canaryThreeWeeks();
// Concurrent canary rollouts on the production rehearsal's cluster (about 15 min with the default N of 50, 200, 500;
// BENCH_PRODUCTION_N and BENCH_PRODUCTION_MINUTES to change, BENCH_PRODUCTION=0 skips it): bench/production-scale.ts.
if (process.env.BENCH_PRODUCTION !== '0') await productionScale();
