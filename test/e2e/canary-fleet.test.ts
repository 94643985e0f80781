/**
 * A canary rollout over 500 Pulse instances, end to end with scaled-down durations (issue 17): 500 emulators in two
 * processes (each its own ports, data dir, env file and poller), a real Prometheus scraping all 500 with their
 * `pulse_instance` label, the real dev server and one worker with the real workflows and activities. The rollout
 * enables them in waves of 50 real child Enables (flag in the env file, restart through the fleet's control API,
 * connection to a fake TrueNAS). Two instances point at a closed NAS port: their Enables fail, within the error
 * budget of 5. Two instances poll a second NAS, which then refuses their key: each breaks its own auth checkpoint and
 * is disabled on its own by a real Disable. `canary status` (the real CLI) counts the fleet and lists only what needs
 * a person; `--instance` shows one in full. Then the phases pass with their people's steps, and an approver
 * completes the rollout. Checks, the instances' poller ticks and the scrapes every 5 s, gates of 10-30 s; the 500
 * emulators are two processes (one starved beside the other lanes of the suite at these ticks).
 */
import { runCli } from '../support/cli-host.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import { canaryUpdate, statusWhen } from '../../bench/support/canary.js';
import { fleetName, startFleetFixture, type FleetFixture } from '../../bench/support/canary-fleet.js';
import { temporalAddress, uniqueId } from '../support/e2e.js';
import { enableDisableTemporal, type EnableDisableTemporal } from '../support/pulse-service.js';
import { CANARY_ROLLOUT_WORKFLOW, canaryInstanceQuery } from '../../workflows/canary-rollout.messages.js';

const COUNT = 500;
const CLOSED = [101, 202];
const SECOND = [303, 404];
let temporal: EnableDisableTemporal;
let fx: FleetFixture;

beforeAll(async () => {
  temporal = await enableDisableTemporal();
  fx = await startFleetFixture({ count: COUNT, tickSeconds: 5, scrapeSeconds: 5, closedNas: CLOSED, onSecondNas: SECOND });
}, 180_000);
afterAll(async () => {
  await fx?.stop();
  await temporal?.close();
});

/**
 * The status once `until` holds; an aborted rollout fails at once, with its reason. Asked twice a second: each query
 * carries the 500 members' state through the worker, the codec and the dev server (at 20 a second, as the other
 * canary tests ask, the queries alone cost more CPU than the checks).
 */
async function when(h: Parameters<typeof statusWhen>[0], until: NonNullable<Parameters<typeof statusWhen>[1]>, timeoutMs: number) {
  const s = await statusWhen(h, (x) => x.status === 'aborted' || until(x), timeoutMs, 500);
  if (s.status === 'aborted') throw new Error(`the rollout aborted: ${s.abort?.reason}; fleet ${JSON.stringify(s.fleet?.counts)}`);
  return s;
}

const cli = (args: string[]) =>
  runCli(['canary', ...args], {
    timeoutMs: 60_000,
    env: {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: temporal.taskQueue,
      TEMPORAL_NAMESPACE: 'default',
      PULSE_RUNBOOKS_CONFIG: '',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: '',
    },
  });

it('rolls out over 500 instances in waves, disables the ones that break their checkpoint, and completes', async () => {
  const input = {
    rollout: 'fleet-500',
    startedBy: 'rita',
    prometheus: { url: fx.prometheus.url, timeoutMs: 20_000 },
    checkEverySeconds: 5,
    phase1: { minSeconds: 30, greenSeconds: 15, instances: fx.instances },
    phase2: { minSeconds: 15, quietSeconds: 10 },
    fleet: fx.fleetSection({ concurrency: 50, maxFailures: 5 }),
    approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
  } as CanaryInputRaw;
  const workflowId = uniqueId('canary-fleet-500');
  const handle = await temporal.client.workflow.start(CANARY_ROLLOUT_WORKFLOW, {
    taskQueue: temporal.taskQueue,
    workflowId,
    args: [input],
  });

  const result = await temporal.withWorker(async () => {
    // Every wave done: the two with the closed NAS port failed, within the budget.
    const activated = await when(handle, (s) => s.fleet!.counts.pending === 0 && s.fleet!.counts.enabling === 0, 600_000);
    expect(activated.fleet).toMatchObject({ total: COUNT, waves: 10, budget: { failures: 2, allowed: 5, spent: false } });
    // Judged on their own once Prometheus has their series (a freshly enabled one is inconclusive for a check or two).
    const on = await when(handle, (s) => s.fleet!.counts.green === COUNT - 2, 180_000);
    expect(on.fleet!.counts).toMatchObject({ green: 498, failing: 2 });
    expect(on.fleet!.attention.map((a) => a.name).sort()).toEqual(CLOSED.map(fleetName));
    expect(on.fleet!.attention[0].note).toMatch(/^Enable failed: ConnectionTestFailed: /);
    // Every Enable restarted its instance once through the control API; a failed one again to undo its flag.
    const restarts = (await fx.fleet.list()).reduce((n, i) => n + i.restarts, 0);
    expect(restarts).toBe(COUNT + CLOSED.length);

    // The second NAS refuses the key: its two instances break their own auth checkpoint and are disabled on their own.
    await fx.secondNas.setFault({ status: 401 });
    const broken = await when(handle, (s) => s.fleet!.counts.disabled === 2, 180_000);
    expect(broken.fleet!.counts).toMatchObject({ green: 496, failing: 2, disabled: 2 });
    expect(broken.fleet!.budget).toMatchObject({ failures: 4, spent: false });
    const detail = (await handle.query(canaryInstanceQuery, fleetName(SECOND[0])))!;
    expect(detail.member).toMatchObject({ state: 'disabled', out: true, failed: true });
    expect(detail.member.note).toMatch(/^broke .*auth-gate [1-9]/);
    const disableRun = await temporal.client.workflow.getHandle(detail.runs.disable!).describe();
    expect(disableRun.status.name).toBe('COMPLETED');
    expect(detail.evidence.map((e) => e.summary)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${fleetName(SECOND[0])}: its Disable completed`))]),
    );

    // What a person sees: counts and the two that need them, not 500 lines; one instance in full on request.
    const text = await cli(['status', workflowId]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^Fleet: 500 instance\(s\): 496 green, 2 failing, 2 disabled$/m);
    expect(text.stdout).toMatch(/^ {2}Needs a person \(2\):$/m);
    expect(
      text.stdout
        .split('\n')
        .filter((l) => /^ {4}pulse-\d{3} /.test(l))
        .map((l) => l.trim().split(' ')[0]),
    ).toEqual(CLOSED.map(fleetName));
    const one = await cli(['status', workflowId, '--instance', fleetName(SECOND[1])]);
    expect(one.stdout).toMatch(new RegExp(`^Instance ${fleetName(SECOND[1])} \\(phase 1\\): disabled since `, 'm'));
    expect(one.stdout).toMatch(/^ {2}Runs: enable .*-enable-pulse-404; disable .*-disable-pulse-404$/m);

    // The phases, with their people's steps; the checklist is fleet-level.
    await canaryUpdate(handle, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable of pulse-staging-1' });
    await when(handle, (s) => s.missing.join() === 'canary.checklist.5', 180_000);
    await canaryUpdate(handle, 'signOff', { actor: 'sam' });
    await when(handle, (s) => s.phase === 2, 60_000);
    await canaryUpdate(handle, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable of pulse-staging-1' });
    await when(handle, (s) => s.missing.join() === 'canary.checklist.5', 180_000);
    await canaryUpdate(handle, 'signOff', { actor: 'sam' });
    await when(handle, (s) => s.phase === 3, 60_000);
    await canaryUpdate(handle, 'recordDefaultOnRelease', { actor: 'sam', version: 'v6.1.0', commit: 'abc1234def' });
    await canaryUpdate(handle, 'complete', { actor: 'sam', comment: '500 instances' });
    return (await handle.result()) as CanaryResult;
  }, 'canary-fleet-500-worker');

  expect(result.outcome).toBe('completed');
  // Every instance's flag as its env file says now: on for the 496, off for the two disabled and the two undone.
  const flags = await Promise.all(fx.fleet.instances.map(async (i) => (await import('node:fs/promises')).readFile(i.envFile, 'utf8')));
  const off = fx.fleet.instances.filter((_, k) => !flags[k].includes('PULSE_ENABLE_TRUENAS=true')).map((i) => i.name);
  expect(off.sort()).toEqual([...CLOSED, ...SECOND].map(fleetName).sort());
}, 1_200_000);
