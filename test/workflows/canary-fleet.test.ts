/**
 * A canary rollout carrying a fleet (issue 17) on the real time-skipping server: instances enabled in waves of child
 * Enables with an error budget, checkpoints per instance with an instance that breaks one disabled on its own (and
 * left out of the fleet-wide queries), the runbook's fleet-wide abort criteria still aborting everything, the
 * rollback in waves, instances registered in phase 2 joining a wave, and continue-as-new waiting for the children in
 * flight. Children are the scripted stand-ins of bench/support/canary-workflows.ts; metric answers are scripted per
 * instance and judged by the real verdict code (bench/support/canary.ts). Checks every 10 min, the runbook's gates.
 */
import { WorkflowNotFoundError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import proto from '@temporalio/proto';
import { uniqueId } from '../../bench/support/time-skipping.js';
import { canaryInput, canaryUpdate, HOUR, canaryTestWorker, statusWhen, type MetricScript } from '../../bench/support/canary.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import { CANARY_ROLLOUT_WORKFLOW, canaryInstanceQuery, canaryStatusQuery } from '../../workflows/canary-rollout.messages.js';

const { env: testEnv, taskQueue, metrics } = canaryTestWorker('canary-fleet');

const EVERY = 600;
const name = (i: number) => `pulse-${String(i).padStart(2, '0')}`;
/** n instances served by the template; those in `failing` have an Enable that fails, in `slow` one that takes 30 min. */
function fleetInput(
  n: number,
  opts: {
    failing?: number[];
    slow?: number[];
    fleet?: Record<string, unknown>;
    waves?: Record<string, unknown>;
  } & Partial<CanaryInputRaw> = {},
): CanaryInputRaw {
  const { failing = [], slow = [], fleet = {}, waves = {}, ...rest } = opts;
  const url = (i: number) => `http://${failing.includes(i) ? 'fail' : slow.includes(i) ? 'slow' : 'pulse'}-${i}:7655`;
  const host = { token: { env: 'PULSE_TOKEN' } };
  return canaryInput({
    checkEverySeconds: EVERY,
    phase1: { instances: Array.from({ length: n }, (_, k) => ({ name: name(k + 1), pulseUrl: url(k + 1) })) },
    fleet: {
      waves: { concurrency: 5, maxFailures: 2, ...waves },
      template: {
        enable: {
          pulse: { url: '{pulseUrl}', ...host },
          restart: { kind: 'command', argv: ['systemctl', '-H', '{name}', 'restart', 'pulse'] },
        },
        disable: {
          pulse: { url: '{pulseUrl}', ...host },
          restart: { kind: 'command', argv: ['systemctl', '-H', '{name}', 'restart', 'pulse'] },
        },
      },
      ...fleet,
    },
    ...rest,
  } as Partial<CanaryInputRaw>);
}

async function start(input: CanaryInputRaw, script: MetricScript = () => ({})): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const workflowId = uniqueId('fleet');
  metrics.register(workflowId, script, Number(await testEnv().currentTimeMs()));
  return testEnv().client.workflow.start(CANARY_ROLLOUT_WORKFLOW, { taskQueue, workflowId, args: [input] });
}

/** A child run's start and close (server time), or undefined if it was never started. */
async function childRun(id: string): Promise<{ start: number; close: number; status: string } | undefined> {
  try {
    const d = await testEnv().client.workflow.getHandle(id).describe();
    return { start: d.startTime.getTime(), close: d.closeTime?.getTime() ?? Infinity, status: d.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

it('enables in waves of the concurrency; past the error budget no Enable starts and the rollout aborts, rolling back in waves', async () => {
  const h = await start(fleetInput(20, { failing: [3, 8, 14] }));
  const r = (await h.result()) as CanaryResult;
  expect(r.abort?.criterion).toBe('activation-failed');
  expect(r.abort?.reason).toMatch(
    /^the error budget is spent: 3 failure\(s\), 2 allowed \(maxFailures 2\): pulse-03 \(Enable failed: RestartFailed: scripted enable failure\); pulse-08 .*; pulse-14 /,
  );

  // Three waves of five ran, one after the other; the fourth never started.
  const enables = await Promise.all(Array.from({ length: 20 }, (_, k) => childRun(`${h.workflowId}-enable-${name(k + 1)}`)));
  expect(enables.map((e) => !!e)).toEqual([...Array(15).fill(true), ...Array(5).fill(false)]);
  for (const wave of [1, 2]) {
    const done = Math.max(...enables.slice((wave - 1) * 5, wave * 5).map((e) => e!.close));
    const next = Math.min(...enables.slice(wave * 5, wave * 5 + 5).map((e) => e!.start));
    expect(next).toBeGreaterThanOrEqual(done);
  }
  const waves = r.evidence.filter((e) => /^Wave \d/.test(e.summary)).map((e) => e.summary.split(';')[0]);
  expect(waves).toEqual([
    'Wave 1 (5 instance(s)): 4 enabled (pulse-01, pulse-02, pulse-04, pulse-05), 1 failed (pulse-03)',
    'Wave 2 (5 instance(s)): 4 enabled (pulse-06, pulse-07, pulse-09, pulse-10), 1 failed (pulse-08)',
    'Wave 3 (5 instance(s)): 4 enabled (pulse-11, pulse-12, pulse-13, pulse-15), 1 failed (pulse-14)',
  ]);

  // The rollback disabled all 15 that were started (a failed Enable too: its Disable converges), at most 5 at a time.
  const rollback = r.abort!.rollback!;
  expect(rollback.children.map((c) => `${c.instance}:${c.outcome}`).sort()).toEqual(
    Array.from({ length: 15 }, (_, k) => `${name(k + 1)}:completed`),
  );
  const disables = await Promise.all(rollback.children.map((c) => childRun(c.workflowId)));
  const most = Math.max(...disables.map((d) => disables.filter((o) => o!.start <= d!.start && o!.close > d!.start).length));
  expect(most).toBeLessThanOrEqual(5);
  const s = await h.query(canaryStatusQuery);
  expect(s.fleet!.counts).toMatchObject({ disabled: 15, pending: 5 });
  expect((await h.query(canaryInstanceQuery, 'pulse-20'))!.member).toMatchObject({
    state: 'pending',
    note: 'not started: the rollout aborted',
  });
});

it('disables an instance that breaks its own checkpoint and leaves it out fleet-wide; an instance with no series is listed for a person', async () => {
  const script: MetricScript = (hours, seen) => {
    const broken = hours >= 5 && !seen.exclude.includes('pulse-03');
    return {
      // Fleet-wide, pulse-03's failed polls lift the error rate above 5 % until it is left out.
      ...(broken ? { 'error-rate': '0.07' } : {}),
      instances: {
        ...(hours >= 5 ? { 'pulse-03': { 'error-rate': '0.2' } } : {}),
        ...(hours >= 2 && hours < 3 ? { 'pulse-06': { 'staleness-last-success': null } } : {}),
      },
    };
  };
  const h = await start(fleetInput(8, { fleet: { instanceLabel: 'pulse_instance' }, waves: { concurrency: 4, maxFailures: 1 } }), script);
  await testEnv().sleep(2.5 * HOUR);
  let s = await statusWhen(h);
  expect(s.fleet).toMatchObject({ total: 8, counts: { green: 7, failing: 1 }, attentionTotal: 1, waves: 2 });
  expect(s.fleet?.attention).toEqual([
    expect.objectContaining({ name: 'pulse-06', state: 'failing', note: 'inconclusive: staleness-last-success no series' }),
  ]);
  expect(s.checklist[0].detail).toMatch(/instances not ready: 1 failing \(pulse-06\)/);

  await testEnv().sleep(3.5 * HOUR);
  s = await statusWhen(h, (x) => x.fleet?.counts.disabled === 1);
  expect(s.fleet).toMatchObject({
    counts: { green: 7, disabled: 1 },
    attentionTotal: 0,
    budget: { failures: 1, allowed: 1, spent: false },
  });
  // The fleet clock reset once, at the check that first saw pulse-03 break; from the next check it is left out.
  const resets = s.greenClock.resets.filter((x) => (Date.parse(x.at) - Date.parse(s.rolloutStartedAt)) / HOUR >= 5);
  expect(resets.map((x) => x.checks)).toEqual([['error-rate: fail']]);
  const requests = metrics.requestsOf(h.workflowId);
  const after = requests.filter((q) => q.at * 1000 > Date.parse(resets[0].at));
  expect(after.length).toBeGreaterThan(0);
  expect(after.every((q) => q.exclude.join() === 'pulse-03' && !q.expected.includes('pulse-03') && q.expected.length === 7)).toBe(true);
  // Every check fell on the grid: the rollout's start plus a whole number of intervals.
  expect(requests.every((q) => (q.at * 1000 - Date.parse(s.rolloutStartedAt)) % (EVERY * 1000) === 0)).toBe(true);

  const d = (await h.query(canaryInstanceQuery, 'pulse-03'))!;
  expect(d.member).toMatchObject({ state: 'disabled', out: true, failed: true, note: 'broke error-rate 0.2' });
  expect(d.runs.disable).toBe(`${h.workflowId}-disable-pulse-03`);
  expect(d.disable?.restart).toMatchObject({ kind: 'command', argv: ['systemctl', '-H', 'pulse-03', 'restart', 'pulse'] });
  expect(d.evidence.map((e) => e.summary)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^pulse-03 broke its own phase 1 checkpoint\(s\): error-rate 0\.2\. It is disabled on its own/),
      `pulse-03: its Disable completed (${h.workflowId}-disable-pulse-03).`,
    ]),
  );
  expect((await childRun(`${h.workflowId}-disable-pulse-03`))?.status).toBe('COMPLETED');

  // A manual abort rolls back the other seven; pulse-03 is already off.
  await canaryUpdate(h, 'abort', { actor: 'sam', reason: 'end of test' });
  const r = (await h.result()) as CanaryResult;
  expect(r.abort?.rollback?.children.map((c) => c.instance).sort()).toEqual([
    'pulse-01',
    'pulse-02',
    'pulse-04',
    'pulse-05',
    'pulse-06',
    'pulse-07',
    'pulse-08',
  ]);
});

it('the fleet-wide abort criteria abort everything, before any instance is disabled on its own', async () => {
  const script: MetricScript = (hours) =>
    hours >= 3
      ? {
          'abort-failure-rate': '0.8',
          'error-rate': '0.8',
          instances: Object.fromEntries(Array.from({ length: 6 }, (_, k) => [name(k + 1), { 'error-rate': '0.8' }])),
        }
      : {};
  const h = await start(fleetInput(6, { fleet: { instanceLabel: 'pulse_instance' }, waves: { concurrency: 4, maxFailures: 10 } }), script);
  const r = (await h.result()) as CanaryResult;
  expect(r.abort).toMatchObject({ criterion: 'canary.abort.1', phase: 1 });
  expect(r.abort?.rollback?.children).toHaveLength(6);
  expect(r.abort?.rollback?.children.every((c) => c.workflowId.includes('-rollback-disable-'))).toBe(true);
  for (let i = 1; i <= 6; i++) expect(await childRun(`${h.workflowId}-disable-${name(i)}`)).toBeUndefined();
});

it('continues as new only once the wave in flight has finished; instances registered in phase 2 join a wave', async () => {
  const input = fleetInput(3, { slow: [2], cyclesPerRun: 2 });
  Object.assign(input.phase1!, { minSeconds: 3600, greenSeconds: 1800 });
  const h = await start(input);
  await canaryUpdate(h, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable run 7' });
  // The slow Enable runs 30 min; two checks (10 min) make a continue-as-new due, which waits for it.
  await testEnv().sleep(45 * 60_000);
  const s = await statusWhen(h, (x) => x.runs >= 2);
  expect(s.fleet?.counts.enabled).toBe(3);
  const first = await testEnv().client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).fetchHistory();
  const types = first.events!.map((e) => proto.temporal.api.enums.v1.EventType[e.eventType!]);
  const lastChildDone = types.lastIndexOf('EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED');
  expect(types.at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  expect(lastChildDone).toBeGreaterThan(0);
  expect(types.filter((t) => t === 'EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED')).toHaveLength(3);
  expect((await childRun(`${h.workflowId}-enable-pulse-02`))?.status).toBe('COMPLETED');

  await testEnv().sleep(45 * 60_000);
  await statusWhen(h, (x) => x.missing.join() === 'canary.checklist.5');
  await canaryUpdate(h, 'signOff', { actor: 'sam' });
  await statusWhen(h, (x) => x.phase === 2);
  const added = await canaryUpdate(h, 'registerInstance', {
    actor: 'olga',
    instance: { name: 'adopter-1', pulseUrl: 'http://adopter-1:7655' },
  });
  expect(added).toEqual({ instances: ['pulse-01', 'pulse-02', 'pulse-03', 'adopter-1'], total: 4 });
  await testEnv().sleep(EVERY * 1000);
  const after = await statusWhen(h, (x) => x.fleet?.counts.enabled === 4);
  expect(after.evidence.some((e) => /^Wave 2 \(1 instance\(s\)\): 1 enabled \(adopter-1\)/.test(e.summary))).toBe(true);
  expect((await childRun(`${h.workflowId}-enable-adopter-1`))?.status).toBe('COMPLETED');
  await canaryUpdate(h, 'abort', { actor: 'sam', reason: 'end of test' });
  const r = (await h.result()) as CanaryResult;
  expect(r.abort?.rollback?.children).toHaveLength(4);
});
