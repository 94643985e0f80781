/**
 * `pulse-runbook canary ...` as a person runs it: the real CLI (its entry point in a long-lived process, test/support/cli-host.ts)
 * against the Temporal dev server and a worker with the real workflows and activities. Prometheus is a closed
 * port on 127.0.0.1, so every evaluation is inconclusive and the green clock never runs: the rollout stays in
 * phase 1, which is what a person can still drive by hand. Bad flags are refused naming the flag before Temporal
 * is contacted; start prints the id and the UI link and refuses a second start; status shows the gates and the
 * checklist (text and JSON); an issue is reported (a pasted token masked); the staging test is confirmed; a
 * sign-off is refused (not ready; not an approver) with the workflow's message and exit 1; the rollout is listed;
 * abort with a reason ends it and status shows it aborted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-host.js';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../../activities/index.js';
import type { CanaryStatus } from '../../workflows/canary-rollout.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { writeShortRolloutFile } from '../../bench/support/canary.js';
import { temporalAddress, temporalHarness, uniqueId, type TemporalHarness } from '../support/e2e.js';
import { workflowBundle } from '../../bench/support/time-skipping.js';
import { canaryStatusQuery } from '../../workflows/canary-rollout.messages.js';

const UI = 'http://ui.example:8233';
const PASTED = 'token=sk_live_9f8e7d6c5b4a39281706f5e4';

let temporal: TemporalHarness;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let closedPort: number;

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(['canary', ...args], {
    timeoutMs: 60_000,
    env: {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: temporal.taskQueue,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_UI_URL: UI,
      PULSE_RUNBOOKS_CONFIG: '',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: '',
      ...env,
    },
  });
}

/** A port nothing listens on: bound, then released. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-cli-'));
  closedPort = await freePort();
  temporal = await temporalHarness();
  native = await NativeConnection.connect({ address: temporalAddress() });
  worker = await Worker.create({ connection: native, taskQueue: temporal.taskQueue, workflowBundle: await workflowBundle(), activities });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await native?.close();
  await temporal?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('refuses bad flags, naming them, before contacting Temporal', async () => {
  const offline = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const file = writeShortRolloutFile(dir, closedPort);
  // Independent processes: run them together, the CLI's start-up is most of each one's time.
  const [noFile, every, url, severity, reason] = await Promise.all([
    cli(['start'], offline),
    cli(['start', '--rollout-file', file, '--check-every', '5x'], offline),
    cli(['start', '--rollout-file', file, '--prometheus-url', 'prometheus:9090', '--actor', 'rita'], offline),
    cli(['report', 'x', '--severity', 'urgent', '--title', 'x'], offline),
    cli(['abort', 'x'], offline),
  ]);
  expect(noFile.stderr).toContain('canary start --rollout-file: required');
  expect(every.stderr).toContain('canary start --check-every 5x: must be seconds, or a number with s, m, h or d');
  expect(url.stderr).toContain('canary start --prometheus-url: must start with http:// or https://');
  expect(severity.stderr).toContain('canary report --severity: severity must be one of critical, high, medium, low');
  expect(reason.stderr).toContain('canary abort --reason: the reason (--reason) is required');
  for (const r of [noFile, every, url, severity, reason]) {
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toContain('not reachable');
  }
});

it('plans without starting anything', async () => {
  const rollout = uniqueId('plan');
  const plan = await cli([
    'start',
    '--rollout-file',
    writeShortRolloutFile(dir, closedPort),
    '--rollout',
    rollout,
    '--plan',
    '--actor',
    'rita',
  ]);
  expect(plan.stderr).toBe('');
  expect(plan.exitCode).toBe(0);
  expect(plan.stdout).toContain(`PLAN (nothing was changed): Canary rollout ${rollout}: planned in phase 1`);
  expect(plan.stdout).toContain('✗ 1. All monitoring checkpoints from the current phase are green');
  const describe = temporal.client.workflow.getHandle(`canary-${rollout}`).describe();
  await expect(describe).rejects.toThrow();
});

it('starts a rollout, shows its status, records people, refuses an early sign-off, lists it and aborts it', async () => {
  const rollout = uniqueId('cli');
  const id = `canary-${rollout}`;
  const file = writeShortRolloutFile(dir, closedPort);

  const start = await cli([
    'start',
    '--rollout-file',
    file,
    '--rollout',
    rollout,
    '--check-every',
    '1s',
    '--actor',
    'rita',
    '--ui-url',
    'http://other-ui:8080/',
  ]);
  expect(start.stderr).toBe('');
  expect(start.exitCode).toBe(0);
  expect(start.stdout).toContain(`Canary rollout ${rollout} started by rita: workflow ${id}`);
  expect(start.stdout).toContain(`Temporal UI: http://other-ui:8080/namespaces/default/workflows/${id}`);
  const handle = temporal.client.workflow.getHandle(id);
  expect(await (await handle.describe()).staticSummary()).toBe(`Canary rollout ${rollout} started by rita`);

  const again = await cli(['start', '--rollout-file', file, '--rollout', rollout, '--actor', 'rita']);
  expect(again.exitCode).toBe(2);
  expect(again.stderr).toContain(`canary start --rollout ${rollout}: the rollout ${id} is already running`);

  // Two inconclusive checkpoints (Prometheus is a closed port): the gate stays closed.
  await until('two evaluations', async () => {
    const s = await handle.query(canaryStatusQuery).catch(() => undefined);
    return s && s.cycles >= 2 ? s : undefined;
  });

  const status = await cli(['status', id]);
  expect(status.stderr).toBe('');
  expect(status.exitCode).toBe(0);
  expect(status.stdout).toContain(`Canary rollout ${rollout} (${id}): phase 1, monitoring; started by rita`);
  expect(status.stdout).toMatch(/Minimum duration: \d+ s of 5 s \((\d+ s left|met)\) in phase 1 since /);
  expect(status.stdout).toContain('Green clock: not running (not green now), 2 s continuous green needed; never reset');
  expect(status.stdout).toContain('✗ 1. All monitoring checkpoints from the current phase are green: not green at');
  expect(status.stdout).toContain('✗ 3. Rollback procedure has been tested in staging: not confirmed for phase 1');
  expect(status.stdout).toMatch(/Last evaluation at \S+: not green \(Prometheus could not be queried\); next check at /);
  expect(status.stdout).toMatch(/ {2}\? error-rate: inconclusive: /);
  expect(status.stdout).toContain(`Temporal UI: ${UI}/namespaces/default/workflows/${id}`);

  const json = await cli(['status', rollout, '--json']);
  expect(json.exitCode).toBe(0);
  const parsed = JSON.parse(json.stdout) as CanaryStatus;
  expect(parsed).toMatchObject({ workflowId: id, rollout, startedBy: 'rita', phase: 1, status: 'monitoring' });
  expect(parsed.lastEvaluation?.reachable).toBe(false);
  expect(parsed.checklist.map((i) => i.ok)).toEqual([false, true, false, false, false]);

  const report = await cli([
    'report',
    id,
    '--severity',
    'high',
    '--title',
    `poller floods the NAS (${PASTED})`,
    '--instance',
    'dev-1',
    '--actor',
    'ulla',
  ]);
  expect(report.stderr).toBe('');
  expect(report.exitCode).toBe(0);
  expect(report.stdout).toMatch(new RegExp(`${id}: recorded issue-1 \\(high, user\\) at \\S+; triage due by \\S+`));

  const staging = await cli([
    'confirm-staging-rollback',
    id,
    '--evidence',
    'staging disable run staging-disable-42 completed',
    '--actor',
    'olga',
  ]);
  expect(staging.stderr).toBe('');
  expect(staging.exitCode).toBe(0);
  expect(staging.stdout).toContain('staging rollback test recorded; checklist now:');
  expect(staging.stdout).toContain('✓ 3. Rollback procedure has been tested in staging: confirmed by olga');
  expect(staging.stdout).toContain('✗ 2. No open critical or high-severity issues attributed to TrueNAS: open: issue-1 (high)');

  const [early, stranger] = await Promise.all([
    cli(['sign-off', id, '--actor', 'sam', '--comment', 'looks fine']),
    cli(['sign-off', id, '--actor', 'mallory']),
  ]);
  expect(early.exitCode).toBe(1);
  expect(early.stdout).toBe('');
  expect(early.stderr).toContain(`pulse-runbook: canary sign-off ${id}: CanaryUpdateRefused: phase 1 is not ready for sign-off; missing: `);
  expect(early.stderr).toContain('No open critical or high-severity issues attributed to TrueNAS (open: issue-1 (high)');

  expect(stranger.exitCode).toBe(1);
  expect(stranger.stderr).toContain(
    'CanaryUpdateRefused: mallory is not an approver for phase 1 and may not sign off (approvers: sam, olga)',
  );

  const after = (await handle.query(canaryStatusQuery)) as CanaryStatus;
  expect(after.signOffs).toEqual([]);
  expect(after.issues[0].title).toContain('poller floods the NAS');
  // The pasted token was masked by the CLI: it never reached the workflow's history.
  expect(after.issues[0].title).not.toContain('sk_live_9f8e7d6c5b4a39281706f5e4');
  expect(JSON.stringify((await handle.fetchHistory()).events)).not.toContain('sk_live_9f8e7d6c5b4a39281706f5e4');

  const listed = await until('the rollout in the list', async () => {
    const r = await cli(['list', '--json']);
    expect(r.exitCode).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; phase: string; status: string; execution: string }>;
    return rows.find((row) => row.id === id && row.status === 'monitoring');
  });
  expect(listed).toMatchObject({ phase: 'phase-1', execution: 'RUNNING' });

  const abort = await cli(['abort', id, '--reason', 'customer escalation', '--actor', 'sam']);
  expect(abort.stderr).toBe('');
  expect(abort.exitCode).toBe(0);
  expect(abort.stdout).toContain(`${id}: abort accepted at`);
  const result = (await handle.result()) as { outcome: string };
  expect(result.outcome).toBe('aborted');

  const aborted = await cli(['status', id]);
  expect(aborted.exitCode).toBe(0);
  expect(aborted.stdout).toContain(`Canary rollout ${rollout} (${id}): phase 1, aborted;`);
  expect(aborted.stdout).toMatch(/ABORTED in phase 1 at \S+ \(manual, by sam\): aborted by sam: customer escalation/);
  expect(aborted.stdout).toContain('Waiting for: nothing: aborted (aborted by sam: customer escalation)');

  const late = await cli(['report', id, '--severity', 'low', '--title', 'after the end', '--actor', 'ulla']);
  expect(late.exitCode).toBe(1);
  expect(late.stderr).toContain(`pulse-runbook: canary report ${id}: no running canary rollout ${id} (not found, or it has ended)`);
});
