/**
 * Issue 13, defect 2 and the fault matrix's server row: the Temporal server is stopped mid-run and started again on
 * the same database. Before: the CLI printed "kill-switch failed: Failed to get Workflow execution history" and
 * exited 1 while the run went on and completed. Now the CLI says it lost contact and is reconnecting, and reports
 * the run's real outcome once the server is back; a follower whose reconnect window ends first says the run goes
 * on and how to follow it (exit 3), and `pulse-runbook follow` then reports the true outcome.
 *
 * Real processes throughout: a dev server of its own (SQLite file), `pulse-runbook worker`, the CLI, the emulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { pulseWithConnections, uniqueId, type PulseFixture } from '../support/e2e.js';
import { spawnLong, type LongProcess } from '../../bench/support/long-process.js';

const bin = path.resolve('bin/pulse-runbook.js');
/** Longer than the SDK's own retries of a broken call (about 25 s), which is what the old CLI gave up after. */
const OUTAGE_MS = 35_000;

let dir: string;
let server: DevServer | undefined;
let port: number;
let fx: PulseFixture;
let worker: LongProcess;
const taskQueue = uniqueId('outage');

const env = () => ({
  PULSE_URL: '',
  PULSE_TOKEN: '',
  PULSE_RUNBOOKS_CODEC_KEYS_FILE: '',
  TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
  TEMPORAL_TASK_QUEUE: taskQueue,
  [fx.tokenEnv]: fx.token,
});
const startServer = () => startDevServer({ port, headless: true, dbFile: path.join(dir, 'temporal.sqlite') });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'temporal-outage-'));
  port = await freePort();
  server = await startServer();
  fx = await pulseWithConnections(2);
  worker = spawnLong(process.execPath, [bin, 'worker'], env());
  await worker.waitFor(/Worker on 127\.0\.0\.1/);
});
const spawned: LongProcess[] = [];
afterAll(async () => {
  for (const p of spawned) await p.stop();
  await worker?.stop();
  await server?.stop();
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('the CLI follows a Kill-Switch through a Temporal outage and reports its real outcome; a follower that gives up exits 3 and `follow` finds the outcome', async () => {
  const run = spawnLong(
    process.execPath,
    [
      bin,
      'kill-switch',
      '--pulse-url',
      fx.emulator.url,
      '--token-env',
      fx.tokenEnv,
      '--tick-seconds',
      '15',
      '--stale-seconds',
      '10',
      '--verify-every-seconds',
      '0.5',
    ],
    env(),
  );
  const workflowId = (await run.waitFor(/: workflow (\S+)/))[1];
  const impatient = spawnLong(process.execPath, [bin, 'follow', workflowId, '--reconnect-for', '5'], env());
  spawned.push(run, impatient);
  await impatient.waitFor(/Following kill-switch/);
  await run.waitFor(/waiting for the next poller tick/);

  // The outage: the server is stopped (its state stays in the SQLite file) for longer than the SDK retries.
  await server!.stop();
  server = undefined;
  const gaveUp = await impatient.child;
  expect(gaveUp.exitCode).toBe(3);
  expect(impatient.errors()).toContain(`lost contact with Temporal at 127.0.0.1:${port}`);
  expect(impatient.errors()).toContain('the run goes on on the server');
  expect(impatient.errors()).toMatch(
    new RegExp(
      `gave up reconnecting to Temporal after \\d+ s .*The kill-switch run was NOT reported failed: it goes on on the server. Follow it with: pulse-runbook follow ${workflowId} --run-id [0-9a-f-]+`,
    ),
  );
  expect(impatient.errors()).not.toContain('kill-switch failed');
  await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - 8_000)));
  expect(run.exited()).toBe(false);
  server = await startServer();

  const finished = await run.child;
  expect(run.errors()).toContain(`lost contact with Temporal at 127.0.0.1:${port}`);
  expect(run.errors()).toMatch(/reconnected to Temporal at .* after \d+ s; following the run again/);
  expect(run.errors()).not.toContain('kill-switch failed');
  expect(finished.exitCode).toBe(0);
  expect(run.output()).toContain('Kill-Switch complete: 2 deleted, 0 already gone');
  expect(await fx.pulse.listConnections()).toEqual([]);

  const later = await execa(process.execPath, [bin, 'follow', workflowId], { reject: false, env: env() });
  expect(later.exitCode).toBe(0);
  expect(later.stdout).toContain('Kill-Switch complete: 2 deleted, 0 already gone');
  const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
  expect(deletes.map((d) => d.status)).toEqual([200, 200]);
}, 240_000);
