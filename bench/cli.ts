/**
 * The CLI as an operator meets it (issue 15): `pulse-runbook --help` against `node -e ''` side by side in one run
 * (alternating, so both see the same machine load), the RSS of `--help`, and `canary status` against a local dev
 * server with a running rollout. Prints figures, asserts nothing. `BENCH_ONLY=cli npm run bench` runs only this;
 * BENCH_CLI_RUNS sets the number of runs of each (default 11).
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildState } from '../bin/build-freshness.mjs';
import { startDevServer } from '../src/temporal/dev-server.js';
import { createWorker } from '../src/worker.js';
import { connectClient } from '../src/client.js';
import { identitySettingsFrom, resolveIdentity } from '../src/identity/resolve.js';
import { CANARY_ROLLOUT_WORKFLOW } from '../workflows/canary-rollout.messages.js';
import { canaryInput } from './support/canary.js';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 11);
const BIN = path.resolve('bin/pulse-runbook.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (x: number) => `${(x / 1000).toFixed(3)} s`;

async function timed(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const t = performance.now();
  const r = await execa(process.execPath, argv, { reject: false, env });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return performance.now() - t;
}

/** Peak RSS of a child in KiB, from GNU time when the machine has it. */
async function peakRssKiB(argv: string[]): Promise<number | undefined> {
  if (!existsSync('/usr/bin/time')) return undefined;
  const r = await execa('/usr/bin/time', ['-f', '%M', process.execPath, ...argv], { reject: false });
  const kib = Number(r.stderr.trim().split('\n').pop());
  return Number.isFinite(kib) ? kib : undefined;
}

async function helpVsNode(): Promise<void> {
  const help: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    node.push(await timed(['-e', '']));
    help.push(await timed([BIN, '--help']));
  }
  const [h, n] = [median(help), median(node)];
  console.log(
    `pulse-runbook --help: median ${seconds(h)} (min ${seconds(Math.min(...help))}, max ${seconds(Math.max(...help))}); node -e '': median ${seconds(n)}; ratio ${(h / n).toFixed(2)}x (n=${RUNS} each, alternating)`,
  );
  const [rssHelp, rssNode] = [await peakRssKiB([BIN, '--help']), await peakRssKiB(['-e', ''])];
  if (rssHelp !== undefined && rssNode !== undefined)
    console.log(`pulse-runbook --help peak RSS: ${(rssHelp / 1024).toFixed(0)} MiB (node -e '': ${(rssNode / 1024).toFixed(0)} MiB)`);
  const fromSource = await timed([BIN, '--help'], { PULSE_RUNBOOKS_FROM_SOURCE: '1' });
  console.log(`pulse-runbook --help from the sources through tsx (PULSE_RUNBOOKS_FROM_SOURCE=1), once: ${seconds(fromSource)}`);
}

async function canaryStatus(): Promise<void> {
  const server = await startDevServer({ headless: true });
  const taskQueue = 'bench-cli';
  const { worker, connection } = await createWorker({ address: server.address, namespace: 'default', taskQueue });
  const identity = await resolveIdentity(identitySettingsFrom({}));
  const client = await connectClient({ address: server.address, namespace: 'default', identity });
  const rollout = `bench-${Date.now().toString(36)}`;
  try {
    await worker.runUntil(async () => {
      // One manual phase-1 instance: the rollout waits on its checks, which is all `status` needs.
      await client.workflow.start(CANARY_ROLLOUT_WORKFLOW, {
        taskQueue,
        workflowId: `canary-${rollout}`,
        args: [canaryInput({ rollout, phase1: { instances: [{ name: 'dev-2', contact: 'ops@example.com' }] } } as never)],
      });
      const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue };
      await timed([BIN, 'canary', 'status', rollout], env); // the first query replays the run on the worker
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await timed([BIN, 'canary', 'status', rollout], env));
      console.log(
        `pulse-runbook canary status against a local dev server: median ${seconds(median(times))} (min ${seconds(Math.min(...times))}, max ${seconds(Math.max(...times))}, n=${RUNS})`,
      );
    });
  } finally {
    await client.connection.close();
    await connection.close();
    await server.stop();
  }
}

export async function cliBench(): Promise<void> {
  const state = buildState(path.resolve('.'));
  console.log(`CLI: ${state.fresh ? 'the compiled build in dist/' : `the sources through tsx (${state.reason})`}`);
  await helpVsNode();
  await canaryStatus();
}
