/**
 * A simulated 3-week canary rollout on the time-skipping server, with the runbook's defaults (a metric check every
 * 60 s, 48 h / 24 h green, 1 week / 5 days, 500 checks per run): prints the history events of every run (the
 * continue-as-new chain), the largest history, and how long replaying each run takes. Figures only, no asserts.
 *   npx tsx bench/canary-three-weeks.ts            (or via `npm run bench`)
 *   CANARY_BENCH_DAYS=21 CANARY_BENCH_SAVE=test/histories/canary-rollout.json to keep the first run's history
 */
import { writeFileSync } from 'node:fs';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { canaryBundle, canaryInput, canaryUpdate, DAY, HOUR, scriptedMetrics } from './support/canary.js';
import { startTimeSkipping } from './support/time-skipping.js';
import { CANARY_ROLLOUT_WORKFLOW, type CanaryRolloutWorkflow } from '../workflows/canary-rollout.messages.js';

export async function canaryThreeWeeks(days = Number(process.env.CANARY_BENCH_DAYS ?? 21)): Promise<void> {
  const wall = performance.now();
  const env = await startTimeSkipping();
  const startedAt = Number(await env.currentTimeMs());
  const { activities: scripted, calls } = scriptedMetrics(
    () => ({}),
    () => startedAt,
  );
  // The workflow time of the last check: the simulated span, whatever the server clock does after the run ends.
  let lastCheckMs = startedAt;
  const activities = {
    async evaluateMetricChecks(input: Parameters<typeof scripted.evaluateMetricChecks>[0]) {
      lastCheckMs = Context.current().info.currentAttemptScheduledTimestampMs;
      return scripted.evaluateMetricChecks(input);
    },
  };
  /** Advances workflow time in steps of at most a day, so progress shows and a stuck clock is visible early. */
  async function advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= DAY) {
      await env.sleep(Math.min(DAY, left));
      process.stderr.write(`[bench] day ${((Number(await env.currentTimeMs()) - startedAt) / DAY).toFixed(1)}: ${calls.count} checks\n`);
    }
  }
  const bundle = await canaryBundle();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'bench-canary', workflowBundle: bundle, activities });
  const workflowId = `bench-canary-${Date.now()}`;
  let firstRunId = '';
  let simulatedDays = 0;
  let outcome = '';

  await worker.runUntil(async () => {
    const h = await env.client.workflow.start<CanaryRolloutWorkflow>(CANARY_ROLLOUT_WORKFLOW, {
      taskQueue: 'bench-canary',
      workflowId,
      args: [canaryInput({ phase1: { instances: [] } })],
    });
    firstRunId = h.firstExecutionRunId;
    await canaryUpdate(h, 'confirmStagingRollback', { actor: 'olga', evidence: 'bench' });
    await advance(48 * HOUR + 5 * 60_000);
    await canaryUpdate(h, 'signOff', { actor: 'sam' });
    await env.sleep(60_000);
    await canaryUpdate(h, 'confirmStagingRollback', { actor: 'olga', evidence: 'bench' });
    await advance(7 * DAY + 5 * 60_000);
    await canaryUpdate(h, 'signOff', { actor: 'olga' });
    await env.sleep(60_000);
    await canaryUpdate(h, 'recordDefaultOnRelease', { actor: 'sam', version: 'v6.1.0', commit: 'abc1234def' });
    const elapsed = Number(await env.currentTimeMs()) - startedAt;
    await advance(Math.max(60_000, days * DAY - elapsed));
    await canaryUpdate(h, 'complete', { actor: 'sam' });
    const result = await h.result();
    outcome = `${(await h.describe()).status.name}, outcome ${String((result as { outcome?: unknown }).outcome)}`;
    simulatedDays = (lastCheckMs - startedAt) / DAY;
  });
  const simulated = performance.now() - wall;

  // Follow the continue-as-new chain from the first run.
  const runs: Array<{ runId: string; events: number; bytes: number; replayMs: number }> = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const json = protoUtils.historyToJSON(history);
    if (runs.length === 0 && process.env.CANARY_BENCH_SAVE) writeFileSync(process.env.CANARY_BENCH_SAVE, json);
    const t = performance.now();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, `${workflowId}-${runId}`);
    runs.push({ runId, events: history.events?.length ?? 0, bytes: json.length, replayMs: performance.now() - t });
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  await env.teardown();

  const events = runs.map((r) => r.events).sort((a, b) => a - b);
  const replay = runs.map((r) => r.replayMs);
  console.log(
    `canary rollout, ${simulatedDays.toFixed(1)} simulated days (first to last check), a check every 60 s, ended ${outcome}: ${calls.count} checks in ${runs.length} runs; ` +
      `events per run median ${events[Math.floor(events.length / 2)]}, max ${events.at(-1)} (Temporal warns at 10,240 and stops at 51,200); ` +
      `largest history ${(Math.max(...runs.map((r) => r.bytes)) / 1024).toFixed(0)} KiB JSON; ` +
      `replay per run median ${Math.round(replay.sort((a, b) => a - b)[Math.floor(replay.length / 2)])} ms, max ${Math.round(Math.max(...replay))} ms, all runs ${Math.round(replay.reduce((a, b) => a + b, 0))} ms; ` +
      `simulation wall time ${(simulated / 1000).toFixed(0)} s`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await canaryThreeWeeks();
