/**
 * The production rehearsal and its faults, on one real cluster started for this file (src/production/cluster.ts):
 * PostgreSQL, the schema and namespace jobs of docker-compose.yml run unchanged, Temporal 1.30.1 as four separate
 * processes, the UI server with the codec endpoint, the codec server and two pulse-runbooks workers; a real Pulse
 * emulator process and a real Prometheus scraping it. The faults run one after another on the same cluster:
 *   1. the history service restarts in the middle of a canary;
 *   2. matching restarts during a Kill-Switch;
 *   3. one of the two workers is killed (SIGKILL) in an activity;
 *   4. PostgreSQL is stopped for 30 s;
 *   5. the workers are upgraded one by one to a build with a patched() change while a canary runs.
 * Checks run every 2 s and phase 1 lasts 20 s, so the file takes a few minutes.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { KillSwitchInputSchema, type KillSwitchInputRaw } from '../../src/config/kill-switch.js';
import { startProductionCluster, type ProductionCluster } from '../../src/production/cluster.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import { buildUpgradedBundle, UPGRADE_NOTE, UPGRADE_PATCH_ID } from '../support/production-upgrade.js';
import {
  checkTimeline,
  durableUpdate,
  historyEvents,
  productionClient,
  pulseForCluster,
  shortCanaryInput,
  statusUntil,
  type PulseFixture,
} from '../../bench/support/production.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import { CANARY_ROLLOUT_WORKFLOW, type CanaryRolloutWorkflow } from '../../workflows/canary-rollout.messages.js';

const workDir = path.resolve('test-artifacts', 'production', new Date().toISOString().replace(/[:.]/g, '-'));
let cluster: ProductionCluster;
let client: Client;
let fixture: PulseFixture;
const uid = () => Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  quietRuntime();
  mkdirSync(workDir, { recursive: true });
  cluster = await startProductionCluster({ workDir });
  client = await productionClient(cluster);
  fixture = await pulseForCluster(cluster);
}, 900_000);

afterAll(async () => {
  await client?.connection.close();
  await fixture?.stop();
  await cluster?.stop();
});

function killSwitchInput(overrides: Partial<KillSwitchInputRaw> = {}): KillSwitchInputRaw {
  return KillSwitchInputSchema.parse({
    pulse: { url: fixture.emulator.url, token: { file: cluster.secretFiles.pulse_token }, timeoutMs: 60_000 },
    tickSeconds: 3,
    staleThresholdSeconds: 10,
    verifyEverySeconds: 0.5,
    ...overrides,
  });
}

function startKillSwitch(id: string, input = killSwitchInput()) {
  return client.workflow.start(KILL_SWITCH_WORKFLOW, { taskQueue: cluster.taskQueue, workflowId: id, args: [input] });
}

async function startCanary(id: string): Promise<WorkflowHandle> {
  const handle = await client.workflow.start<CanaryRolloutWorkflow>(CANARY_ROLLOUT_WORKFLOW, {
    taskQueue: cluster.taskQueue,
    workflowId: id,
    args: [shortCanaryInput(fixture.prometheus.url)],
  });
  await statusUntil(handle, 'monitoring with 2 checks', (s) => s.status === 'monitoring' && s.cycles >= 2, 60_000);
  return handle;
}

async function abortCanary(handle: WorkflowHandle): Promise<CanaryResult> {
  await durableUpdate(handle, 'abort', { actor: 'sam', reason: 'end of the rehearsal' });
  return (await handle.result()) as CanaryResult;
}

it('runs the compose jobs unchanged: namespace, search attributes, and the UI shows payloads decrypted by the codec server', async () => {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: cluster.namespace });
  for (const a of SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(a.name);
  const ns = await client.connection.workflowService.describeNamespace({ namespace: cluster.namespace });
  expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(720 * 3600);

  // A Kill-Switch through the cluster, then its history as the UI serves it, then decrypted as the UI's browser would.
  await fixture.addConnections(2);
  const handle = await startKillSwitch(`ks-ui-${uid()}`);
  await handle.result();
  expect(await fixture.pulse.listConnections()).toEqual([]);

  const settings = (await (await fetch(`${cluster.uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  expect(settings.Codec?.Endpoint).toBe(cluster.codecUrl);
  const history = (await (
    await fetch(
      `${cluster.uiUrl}/api/v1/namespaces/${cluster.namespace}/workflows/${handle.workflowId}/history?execution.runId=${handle.firstExecutionRunId}`,
    )
  ).json()) as {
    history: {
      events: Array<{
        workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ metadata: Record<string, string>; data: string }> } };
      }>;
    };
  };
  const input = history.history.events[0].workflowExecutionStartedEventAttributes!.input.payloads;
  expect(Buffer.from(input[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(input[0].data, 'base64').toString()).not.toContain(fixture.emulator.url);
  const decoded = await fetch(`${cluster.codecUrl}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: cluster.uiUrl, 'x-namespace': cluster.namespace },
    body: JSON.stringify({ payloads: input }),
  });
  expect(decoded.headers.get('access-control-allow-origin')).toBe(cluster.uiUrl);
  const plain = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads[0];
  expect(Buffer.from(plain.data, 'base64').toString()).toContain(fixture.emulator.url);
}, 180_000);

it('history restarts in the middle of a canary: the run goes on, each timer fires once, no update or sign-off is lost', async () => {
  // A polled connection, so the checkpoints have live TrueNAS metrics to go green on.
  await fixture.addConnections(1);
  const handle = await startCanary(`canary-history-${uid()}`);
  await durableUpdate(handle, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable rehearsal' });

  // Stop history, send an update while it is down, start it again: the update lands once.
  await cluster.temporal.history.stop(15_000);
  const during = durableUpdate(handle, 'reportIssue', {
    actor: 'rita',
    severity: 'low',
    title: 'reported while history was down',
    source: 'internal',
  });
  await new Promise((r) => setTimeout(r, 3000));
  cluster.temporal.history.start();
  const { attempts } = await during;
  const afterRestart = await statusUntil(handle, 'the issue reported during the restart', (s) => s.issues.length === 1, 60_000);
  await statusUntil(handle, 'three more checks after the restart', (s) => s.cycles >= afterRestart.cycles + 3, 60_000);

  // The exit gate still opens on live checks, and the sign-off moves the rollout.
  await statusUntil(handle, 'phase 1 ready for sign-off', (s) => s.missing.length === 1 && s.missing[0] === 'canary.checklist.5', 90_000);
  await durableUpdate(handle, 'signOff', { actor: 'sam', comment: 'green across a history restart' });
  const phase2 = await statusUntil(handle, 'phase 2', (s) => s.phase === 2, 30_000);
  expect(phase2.signOffs.map((s) => s.actor)).toEqual(['sam']);
  expect(phase2.stagingTests).toHaveLength(1);
  expect(phase2.issues.map((i) => i.title)).toEqual(['reported while history was down']);

  const result = await abortCanary(handle);
  expect(result.outcome).toBe('aborted');
  const t = checkTimeline(await historyEvents(handle));
  expect(t.firedTwice).toEqual([]);
  expect(t.firedUnstarted).toEqual([]);
  expect(t.checks).toBeGreaterThan(afterRestart.cycles);
  // A timer that fired twice would make more checks than the 2 s grid has slots.
  expect(t.extraChecks(2)).toBeLessThanOrEqual(0);
  expect(t.workflowTaskFailures).toBe(0);
  process.stderr.write(
    `[production] history restart: update sent while history was down took ${attempts} attempt(s); ${t.checks} checks, ${t.timersFired} timers fired once each\n`,
  );
}, 300_000);

it('matching restarts during a Kill-Switch: the run completes and every connection is gone', async () => {
  await fixture.addConnections(3);
  const handle = await startKillSwitch(`ks-matching-${uid()}`);
  // Restart matching while the run waits for the poller tick (its timer), so the next activities need the new one.
  await waitFor('the kill-switch tick timer', async () => (await historyEvents(handle)).some((e) => e.timerStartedEventAttributes), 60_000);
  await cluster.restartService('matching');
  const result = (await handle.result()) as { outcome?: string };
  expect(result).toBeDefined();
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect(await fixture.pulse.listConnections()).toEqual([]);
}, 240_000);

it('one of the two workers is killed in an activity: the other finishes the run', async () => {
  await fixture.addConnections(2);
  // The first DELETE hangs for 40 s, so the activity is mid-flight on one worker when that worker dies.
  await fixture.emulator.control.addFaults({ method: 'DELETE', path: '/api/truenas/connections/*', delayMs: 40_000, times: 1 });
  const handle = await startKillSwitch(`ks-kill-${uid()}`);
  let victim = '';
  await waitFor(
    'the delete activity running on a worker',
    async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const running = pending.find((a) => a.activityType?.name === 'deleteConnection' && a.lastStartedTime && a.lastWorkerIdentity);
      victim = running?.lastWorkerIdentity ?? '';
      return !!victim;
    },
    60_000,
  );
  const index = cluster.workers.findIndex((w) => victim.startsWith(`${w.pid}@`));
  expect(index).toBeGreaterThanOrEqual(0);
  const survivor = cluster.workers[1 - index].pid;
  await cluster.killWorker(index);

  await handle.result();
  expect(await fixture.pulse.listConnections()).toEqual([]);
  const retried = (await historyEvents(handle)).filter(
    (e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
  );
  expect(retried.map((e) => e.activityTaskStartedEventAttributes!.identity)).toContain(`${survivor}@${victim.split('@')[1]}`);
  // Back to two workers for what follows.
  await cluster.replaceWorker(index);
}, 240_000);

it('PostgreSQL stops for 30 s: the canary and the cluster resume, and a new run completes', async () => {
  const handle = await startCanary(`canary-pg-${uid()}`);
  const before = await statusUntil(handle, 'a check', () => true, 10_000);
  await cluster.postgres.stop();
  await new Promise((r) => setTimeout(r, 30_000));
  await cluster.postgres.start();
  await cluster.waitHealthy();
  await statusUntil(handle, 'three more checks after PostgreSQL came back', (s) => s.cycles >= before.cycles + 3, 120_000);
  await fixture.addConnections(1);
  await (await startKillSwitch(`ks-after-pg-${uid()}`)).result();
  expect(await fixture.pulse.listConnections()).toEqual([]);
  const result = await abortCanary(handle);
  expect(result.outcome).toBe('aborted');
  const t = checkTimeline(await historyEvents(handle));
  expect(t.firedTwice).toEqual([]);
  expect(t.extraChecks(2)).toBeLessThanOrEqual(0);
}, 300_000);

it('the workers are upgraded one by one to a build with a patched() change while a canary runs: both builds replay it', async () => {
  const oldBundle = cluster.workers[0].spec.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE;
  const newBundle = await buildUpgradedBundle(path.join(cluster.workDir, 'workflow-bundle-upgraded.js'));
  expect(readFileSync(oldBundle, 'utf8')).not.toContain(UPGRADE_PATCH_ID);
  const handle = await startCanary(`canary-upgrade-${uid()}`);

  let cycles = (await statusUntil(handle, 'a check', () => true, 10_000)).cycles;
  await cluster.replaceWorker(0, { bundle: newBundle });
  cycles = (await statusUntil(handle, 'three checks with one old and one new worker', (s) => s.cycles >= cycles + 3, 90_000)).cycles;
  await cluster.replaceWorker(1, { bundle: newBundle });
  const upgradedAt = Date.now();
  const upgraded = await statusUntil(
    handle,
    'the new build noting its first check',
    (s) => s.cycles >= cycles + 3 && s.evidence.some((e) => e.summary === UPGRADE_NOTE),
    90_000,
  );
  expect(upgraded.evidence.filter((e) => e.summary === UPGRADE_NOTE)).toHaveLength(1);
  const result = await abortCanary(handle);
  expect(result.outcome).toBe('aborted');

  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const { dataConverter } = loadCodec(cluster.secretFiles.codec_keys);
  const replay = (codePath: string, h: typeof history) =>
    Worker.runReplayHistory({ workflowBundle: { codePath }, dataConverter }, h, handle.workflowId);

  // The new build replays the whole run: what the old build wrote before the upgrade, and its own part.
  await replay(newBundle, history);
  // The old build replays everything written before the new build's first patch marker ...
  const marker = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  expect(marker).toBeGreaterThan(0);
  const lastTaskStarted = events
    .slice(0, marker)
    .map((e) => !!e.workflowTaskStartedEventAttributes)
    .lastIndexOf(true);
  await replay(oldBundle, { events: events.slice(0, lastTaskStarted + 1) });
  // ... and not past it: Temporal's core refuses a patch marker that the code does not ask for. During the one-by-one
  // upgrade an old worker that gets the run then fails that workflow task, and the server hands it to the next worker;
  // deploy/README.md says so. This keeps the documented limit true.
  await expect(replay(oldBundle, history)).rejects.toThrow(/patch marker encountered for change production-rehearsal-upgrade-note/);
  // Such failed tasks can only come from the mixed window (none once both workers run the new build), and none failed the run.
  const failedAfter = events.filter((e) => e.workflowTaskFailedEventAttributes && eventTime(e) > upgradedAt + 5000);
  expect(failedAfter).toEqual([]);
  const t = checkTimeline(events);
  expect(t.firedTwice).toEqual([]);
  process.stderr.write(
    `[production] rolling upgrade: ${t.checks} checks, ${t.workflowTaskFailures} workflow task(s) failed on the old build during the mixed window\n`,
  );
}, 300_000);

const eventTime = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

it('no service exited unasked, and no secret is in any log', () => {
  expect(cluster.unexpectedExits()).toEqual([]);
  const codecKeys = Object.values(
    (JSON.parse(readFileSync(cluster.secretFiles.codec_keys, 'utf8')) as { keys: Record<string, string> }).keys,
  );
  const secrets = [cluster.postgresPassword, cluster.pulseToken, ...codecKeys];
  for (const file of readdirSync(cluster.logDir)) {
    const text = readFileSync(path.join(cluster.logDir, file), 'utf8');
    for (const s of secrets) expect({ file, leaked: text.includes(s) }).toEqual({ file, leaked: false });
  }
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
