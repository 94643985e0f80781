/**
 * `canary simulate` against the workflow (issue 17): the same series, the same verdicts at the same times.
 *
 * Three Pulse instances' series, shaped as real Pulse makes them (bench/support/pulse-shaped.ts, 60 s polls, each
 * instance labelled `pulse_instance` as the scrape config would), are backfilled with promtool into a real Prometheus
 * 2.42, at the time-skipping server's own times (its clock starts now and runs 2.5 days ahead). pulse-b's key is
 * refused at hour 30; pulse-a's memory grows by 40 % at hour 58. The canary workflow runs on the time-skipping server
 * at the runbook's gates (48 h, 24 h green), checking every 10 min with the real Prometheus activity; the test confirms
 * the staging test, and signs off once the gate is open. Then the simulation replays the same range from Prometheus
 * (query_range), and again from the range file it saved. Compared: every check's verdicts (fleet-wide and per
 * instance), the green-clock reset and why, when pulse-b was taken out, when the phase 1 gate opened, and which abort
 * criterion fired when (abort 3, after the 30 min confirmation), with the same reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import { CanaryInputSchema, type CanaryInputRaw } from '../../src/config/canary.js';
import { simulate, type SimulationResult } from '../../src/canary/simulate.js';
import type { Evaluation } from '../../src/prometheus/alert-state.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { fileRangeSource, prometheusRangeSource, recordingSource } from '../../src/canary/range-source.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import { canaryBundle, canaryInput, canaryUpdate, HOUR, statusWhen } from '../../bench/support/canary.js';
import { backfill, startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import { rolloutSeries } from '../../bench/support/canary-range.js';
import { startTimeSkipping, uniqueId } from '../../bench/support/time-skipping.js';
import { CANARY_ROLLOUT_WORKFLOW, canaryStatusQuery } from '../../workflows/canary-rollout.messages.js';

const EVERY = 600;
let env: TestWorkflowEnvironment;
let prometheus: PrometheusProcess;
let removeTsdb: () => void;
let dir: string;
let T0: number;

/** Three instances from 2 h before T0 to 62 h after: pulse-b's key refused at hour 30 (six auth errors, then it is off), pulse-a's memory +40 % at hour 58. */
const series = (t0: number) =>
  rolloutSeries({
    start: t0 / 1000,
    hours: 62,
    pulses: [
      { name: 'pulse-a', memoryGrowth: { hour: 58, factor: 1.4 } },
      { name: 'pulse-b', faults: [{ hour: 30, kind: 'A', polls: 6, stop: true }] },
      { name: 'pulse-c' },
    ],
  });

function input(): CanaryInputRaw {
  const host = { token: { env: 'PULSE_TOKEN' } };
  return canaryInput({
    prometheus: { url: prometheus.url, timeoutMs: 20_000 },
    checkEverySeconds: EVERY,
    cyclesPerRun: 150,
    phase1: { instances: ['pulse-a', 'pulse-b', 'pulse-c'].map((name) => ({ name, pulseUrl: `http://${name}:7655` })) },
    fleet: {
      instanceLabel: 'pulse_instance',
      waves: { concurrency: 3, maxFailures: 1 },
      template: { enable: { pulse: { url: '{pulseUrl}', ...host } }, disable: { pulse: { url: '{pulseUrl}', ...host } } },
    },
  } as Partial<CanaryInputRaw>);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-simulate-'));
  env = await startTimeSkipping();
  T0 = Number(await env.currentTimeMs());
  const tsdb = await backfill(series(T0));
  removeTsdb = tsdb.remove;
  prometheus = await startPrometheus({ storagePath: tsdb.dir });
}, 180_000);
afterAll(async () => {
  await env?.teardown();
  await prometheus?.stop();
  removeTsdb?.();
  rmSync(dir, { recursive: true, force: true });
});

/** Every evaluation the workflow's activity returned, over the continue-as-new chain. */
async function workflowEvaluations(workflowId: string, firstRunId: string): Promise<Evaluation[]> {
  const out: Evaluation[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const e of history.events ?? []) {
      const done = e.activityTaskCompletedEventAttributes;
      if (done?.result?.payloads?.[0]) out.push(defaultPayloadConverter.fromPayload(done.result.payloads[0]) as Evaluation);
    }
    const last = history.events?.at(-1);
    runId =
      last?.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        ? (last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined)
        : undefined;
  }
  return out;
}

it('the simulation and the workflow reach the same verdicts at the same times on the same series', async () => {
  const taskQueue = uniqueId('simulate');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await canaryBundle(),
    activities: { evaluateMetricChecks },
  });
  const raw = input();
  const { result, rolloutStartedAt, evaluations, runs, evidence, resets } = await worker.runUntil(async () => {
    const h = await env.client.workflow.start(CANARY_ROLLOUT_WORKFLOW, { taskQueue, workflowId: uniqueId('canary-sim'), args: [raw] });
    await canaryUpdate(h, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable run 9' });
    // Hour by hour until the gate is open (only the sign-off missing), then sign off: phase 2 begins.
    let s = await statusWhen(h);
    while (s.missing.join() !== 'canary.checklist.5') {
      if (s.status !== 'monitoring') throw new Error(`the rollout is ${s.status} before its gate opened: ${JSON.stringify(s.abort)}`);
      await env.sleep(HOUR);
      s = await statusWhen(h);
    }
    await canaryUpdate(h, 'signOff', { actor: 'sam' });
    const r = (await h.result()) as CanaryResult;
    const last = await h.query(canaryStatusQuery).catch(() => undefined);
    return {
      result: r,
      rolloutStartedAt: s.rolloutStartedAt,
      evaluations: await workflowEvaluations(h.workflowId, h.firstExecutionRunId),
      runs: last?.runs,
      evidence: r.evidence,
      resets: last?.greenClock.resets,
    };
  });
  expect(result.abort?.criterion).toBe('canary.abort.3');
  expect(runs ?? 3).toBeGreaterThanOrEqual(3); // 150 checks per run: the grid held across continue-as-new

  const parsed = CanaryInputSchema.parse(raw);
  const client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 60_000 });
  const recorder = recordingSource(prometheusRangeSource(client));
  const from = Date.parse(rolloutStartedAt);
  const to = Date.parse(result.abort!.at) + 2 * EVERY * 1000;
  const sim = await simulate(parsed, recorder, { from, to, keepSteps: true });
  const file = path.join(dir, 'range.json');
  recorder.save(file, { from: from / 1000, to: to / 1000, stepSeconds: EVERY });

  // 1. Every check: the same instants and, fleet-wide and per instance, the same verdicts.
  expect(sim.steps!.map((s) => s.at)).toEqual(evaluations.map((e) => e.at));
  evaluations.forEach((e, k) => {
    const step = sim.steps![k];
    expect({ at: e.at, verdicts: Object.fromEntries(e.results.map((r) => [r.check, r.verdict])) }).toEqual({
      at: step.at,
      verdicts: step.verdicts,
    });
    // The workflow judges an instance once its Enable has completed (from the second check); the simulation from the first.
    if (e.perInstance)
      expect({ at: e.at, instances: Object.fromEntries(e.perInstance.map((r) => [r.check, r.notPassing])) }).toEqual({
        at: step.at,
        instances: step.instances,
      });
  });
  expect(evaluations.filter((e) => e.perInstance).length).toBe(evaluations.length - 1);

  // 2. The green clock reset once, when pulse-b's auth errors (and its staleness) were seen; the same time and reason.
  expect(sim.resets.map((r) => ({ at: r.at, reason: r.reason }))).toEqual(
    (resets as Array<{ at: string; reason: string }>).map((r) => ({ at: r.at, reason: r.reason })),
  );
  expect(sim.resets.map((r) => r.reason)).toEqual([expect.stringMatching(/^not green: .*auth-gate: fail$/)]);
  const resetHours = (Date.parse(sim.resets[0].at) - from) / HOUR;
  expect(resetHours).toBeGreaterThanOrEqual(30);
  expect(resetHours).toBeLessThan(30.3);

  // 3. pulse-b broke its own checkpoint at that check and was taken out; the same time in both.
  const brokeEvidence = evidence.find((x) => x.summary.startsWith('pulse-b broke'));
  expect(sim.instances?.broke.map((b) => b.at)).toEqual([brokeEvidence?.at]);
  expect(brokeEvidence?.at).toBe(sim.resets[0].at);

  // 4. The phase 1 exit gate opened 24 h after the green clock restarted, at the same check.
  const gate = evidence.find((x) => x.summary.startsWith('Phase 1 exit gate open'));
  expect(sim.phases[0].gateOpenedAt).toBe(gate?.at);
  expect((Date.parse(gate!.at) - Date.parse(sim.resets[0].at)) / HOUR).toBeCloseTo(24 + EVERY / 3600, 5);

  // 5. Abort criterion 3, at the same check, for the same reason.
  expect(sim.abort).toEqual({ criterion: 'canary.abort.3', reason: result.abort!.reason, at: result.abort!.at, phase: 2 });
  expect(result.abort!.reason).toMatch(
    /^memory \+\d+\.\d % over baseline on job=pulse,pulse_instance=pulse-a, for 1[89]\d\d s while the TrueNAS poller runs$/,
  );

  // 6. From the saved range file, without Prometheus: the same result.
  const again = await simulate(parsed, fileRangeSource(file), { from, to, keepSteps: true });
  const strip = (r: SimulationResult) => ({ ...r, source: '' });
  expect(strip(again)).toEqual(strip(sim));
  // A different rollout (another window) asks a query the file does not hold: said so, naming the check.
  const other = CanaryInputSchema.parse({ ...raw, windows: { 'error-rate': 1800 } });
  await expect(simulate(other, fileRangeSource(file), { from, to })).rejects.toThrow(
    /^error-rate: the range file has no answer for this query/,
  );
}, 600_000);
