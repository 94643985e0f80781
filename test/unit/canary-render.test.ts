/**
 * The canary status as people read it: statuses are built by the real pure code the workflow uses (the input
 * schema with its runbook defaults, applyCheckpoint on evaluations judged by the real verdict code, the checklist
 * and gates, the people rules), then rendered. Checked: gate times in human units with what is left, the green
 * clock's start and resets, phase 2's quiet clock, checklist marks, issues with overdue triage, sign-offs, the
 * last verdicts, an abort with its human steps, and the list.
 */
import { CanaryInputSchema, type CanaryInput } from '../../src/config/canary.js';
import { applyCheckpoint, checksFor } from '../../src/canary/checkpoints.js';
import { instanceDetail, statusOf as realStatusOf } from '../../src/canary/status.js';
import { initialFleet } from '../../src/canary/fleet.js';
import * as people from '../../src/canary/people.js';
import { formatDuration, renderCanaryList, renderCanaryResult, renderCanaryStatus, renderInstanceDetail } from '../../src/canary/render.js';
import { addEvidence, initialState, type CanaryState } from '../../src/canary/state.js';
import type { Evaluation } from '../../src/prometheus/alert-state.js';
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { judge, unanswered } from '../../src/prometheus/verdict.js';
import type { CanaryResult, CanaryStatus } from '../../workflows/canary-rollout.js';
import { HEALTHY } from '../../bench/support/canary.js';

const HOUR = 3600_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const at = (hours: number) => T0 + hours * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

function input(): CanaryInput {
  return CanaryInputSchema.parse({
    rollout: 'truenas-2026-03',
    startedBy: 'rita',
    prometheus: { url: 'http://prometheus:9090' },
    approvers: { phase1: ['sam', 'olga'], phase2: ['sam'], phase3: ['sam'] },
  });
}

function evaluation(now: number, values: Partial<Record<CheckId, string>> | 'unreachable', phase = 1): Evaluation {
  const when = iso(now);
  const checks = checksFor(input(), phase);
  if (values === 'unreachable') {
    return {
      at: when,
      prometheusUrl: 'http://prometheus:9090',
      reachable: false,
      results: checks.map((id) =>
        unanswered(
          id,
          checkQuery(id).query,
          when,
          { kind: 'unavailable', message: 'connect ECONNREFUSED 127.0.0.1:9' },
          checkQuery(id).windowSeconds,
        ),
      ),
    };
  }
  const answer = { ...HEALTHY, ...values };
  return {
    at: when,
    prometheusUrl: 'http://prometheus:9090',
    reachable: true,
    results: checks.map((id) => {
      const { query, windowSeconds } = checkQuery(id);
      const value = answer[id];
      return judge(
        id,
        query,
        { resultType: 'vector', samples: value === undefined ? [] : [{ labels: { instance: 'pulse-1:9091' }, time: now / 1000, value }] },
        when,
        windowSeconds,
      );
    }),
  };
}

/** What the workflow's status query answers: the real function, at a chosen time. */
function statusOf(state: CanaryState, inp: CanaryInput, now: number): CanaryStatus {
  return realStatusOf(state, inp, `canary-${inp.rollout}`, state.cycles, now + 60_000, now);
}

function monitoring(): { state: CanaryState; inp: CanaryInput } {
  const state = initialState(iso(T0));
  state.status = 'monitoring';
  return { state, inp: input() };
}

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [125, '2 min 5 s'],
    [600, '10 min'],
    [7200, '2 h'],
    [86_399, '23 h 59 min'],
    [48 * 3600, '48 h'],
    [72 * 3600, '3 d'],
    [5.5 * 86_400, '5 d 12 h'],
    [-3, '0 s'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('renderCanaryStatus', () => {
  it('phase 1: the time left on the minimum duration and the green clock, with its start, and the checklist marks', () => {
    const { state, inp } = monitoring();
    applyCheckpoint(state, inp, evaluation(at(1.5), {}), at(1.5));
    const now = at(2);
    const text = renderCanaryStatus(statusOf(state, inp, now), {
      uiLink: 'http://ui:8233/namespaces/default/workflows/canary-truenas-2026-03',
    });

    expect(text).toContain(
      'Canary rollout truenas-2026-03 (canary-truenas-2026-03): phase 1, monitoring; started by rita at 2026-03-02T08:00:00.000Z',
    );
    expect(text).toContain('Minimum duration: 2 h of 48 h (46 h left) in phase 1 since 2026-03-02T08:00:00.000Z');
    expect(text).toContain('Green clock: green since 2026-03-02T09:30:00.000Z: 30 min of 24 h (23 h 30 min left); never reset');
    expect(text).toContain('Checklist to leave phase 1:');
    expect(text).toContain('  ✓ 1. All monitoring checkpoints from the current phase are green: green at 2026-03-02T09:30:00.000Z');
    expect(text).toContain('  ✓ 2. No open critical or high-severity issues attributed to TrueNAS: none open');
    expect(text).toContain('  ✗ 3. Rollback procedure has been tested in staging: not confirmed for phase 1');
    expect(text).toContain('  ✗ 4. Phase exit gate duration has been met: in phase 2.0 h of 48.0 h; green 0.5 h of 24.0 h continuous');
    expect(text).toContain('  ✗ 5. Stakeholder sign-off has been recorded: 0 of 1 sign-off(s)');
    expect(text).toContain('Last evaluation at 2026-03-02T09:30:00.000Z: green; next check at 2026-03-02T10:01:00.000Z');
    expect(text).toContain('  ✓ error-rate: pass: ');
    expect(text).toContain('Sign-offs: none yet');
    expect(text).toContain('Issues: none reported');
    expect(text).toMatch(
      /Latest evidence \(1 of 1\):\n {2}2026-03-02T09:30:00.000Z \[canary.phase1.4\] ok: Every monitoring checkpoint is green/,
    );
    expect(text.split('\n').at(-1)).toBe('Temporal UI: http://ui:8233/namespaces/default/workflows/canary-truenas-2026-03');
    expect(renderCanaryStatus(statusOf(state, inp, now), { evidence: 0 })).not.toContain('Latest evidence');
  });

  it('phase 1 after resets: the clock is not running, with its reset count and the last reason; the failing verdicts', () => {
    const { state, inp } = monitoring();
    applyCheckpoint(state, inp, evaluation(at(1), {}), at(1));
    applyCheckpoint(state, inp, evaluation(at(3), { 'error-rate': '0.2' }), at(3));
    applyCheckpoint(state, inp, evaluation(at(4), {}), at(4));
    applyCheckpoint(state, inp, evaluation(at(5), 'unreachable'), at(5));
    const text = renderCanaryStatus(statusOf(state, inp, at(6)));

    expect(text).toContain(
      'Green clock: not running (not green now), 24 h continuous green needed; reset 2 time(s), last at 2026-03-02T13:00:00.000Z: inconclusive: Prometheus could not be queried',
    );
    expect(text).toContain('Last evaluation at 2026-03-02T13:00:00.000Z: not green (Prometheus could not be queried)');
    expect(text).toMatch(/ {2}\? error-rate: inconclusive: /);
    expect(text).toContain('  ✗ 1. All monitoring checkpoints from the current phase are green: not green at 2026-03-02T13:00:00.000Z');
    expect(text).toContain('Monitoring: 4 check(s) over 1 run(s)');
    expect(text).not.toContain('Temporal UI:');
  });

  it('a failing check is marked ✗ with its reason', () => {
    const { state, inp } = monitoring();
    applyCheckpoint(state, inp, evaluation(at(1), { 'error-rate': '0.2' }), at(1));
    const text = renderCanaryStatus(statusOf(state, inp, at(1)));
    expect(text).toMatch(/ {2}✗ error-rate: fail: .+/);
    expect(text).toMatch(/ {2}✓ auth-gate: pass: /);
  });

  it('phase 2: the quiet clock since the last critical issue, issues with overdue triage, sign-offs and staging tests', () => {
    const { state, inp } = monitoring();
    // Phase 1 is behind it: a sign-off and a staging test recorded there stay in the status.
    state.stagingTests.push({ phase: 1, actor: 'olga', at: iso(at(47)), evidence: 'staging-disable-42 completed' });
    state.signOffs.push({ phase: 1, actor: 'sam', at: iso(at(48)), comment: 'gate met, go', snapshot: [] });
    state.phases[0].endedAt = iso(at(48));
    state.phase = 2;
    state.phaseStartedAt = iso(at(48));
    state.phases.push({ phase: 2, startedAt: state.phaseStartedAt });
    people.applyReportIssue(
      state,
      inp,
      { actor: 'ulla', severity: 'critical', title: 'poller writes into the wrong host', source: 'user', instance: 'nas-home' },
      at(60),
    );
    people.applyReportIssue(state, inp, { actor: 'vic', severity: 'low', title: 'typo in the settings page', source: 'internal' }, at(61));
    people.applyResolve(state, { actor: 'sam', issue: 'issue-2', note: 'fixed in docs' }, at(62));
    const now = at(90);
    const text = renderCanaryStatus(statusOf(state, inp, now));

    expect(text).toContain('Canary rollout truenas-2026-03 (canary-truenas-2026-03): phase 2, monitoring');
    expect(text).toContain('Minimum duration: 42 h of 7 d (5 d 6 h left) in phase 2 since 2026-03-04T08:00:00.000Z');
    expect(text).toContain('Quiet clock: no critical issue since 2026-03-04T20:00:00.000Z: 30 h of 5 d (3 d 18 h left)');
    expect(text).toContain('Issues (1 open of 2):');
    expect(text).toContain(
      '  issue-1 [critical, user, nas-home] poller writes into the wrong host, reported by ulla at 2026-03-04T20:00:00.000Z in phase 2; open, not triaged; TRIAGE OVERDUE since 2026-03-05T20:00:00.000Z',
    );
    expect(text).toContain(
      '  issue-2 [low, internal] typo in the settings page, reported by vic at 2026-03-04T21:00:00.000Z in phase 2; resolved by sam at 2026-03-04T22:00:00.000Z: fixed in docs',
    );
    expect(text).toContain('Overdue triage: issue-1');
    expect(text).toContain(
      '  ✗ 2. No open critical or high-severity issues attributed to TrueNAS: open: issue-1 (critical) poller writes into the wrong host',
    );
    expect(text).toContain('Sign-offs:\n  phase 1: sam at 2026-03-04T08:00:00.000Z: gate met, go');
    expect(text).toContain('Staging rollback tests:\n  phase 1: olga at 2026-03-04T07:00:00.000Z: staging-disable-42 completed');
    expect(text).toContain('Checklist to leave phase 2:');
  });

  it('a triaged issue says by whom and whether it was late', () => {
    const { state, inp } = monitoring();
    people.applyReportIssue(state, inp, { actor: 'ulla', severity: 'high', title: 'slow poll', source: 'user' }, at(1));
    people.applyTriage(state, { actor: 'sam', issue: 'issue-1', note: 'reproduced' }, at(30));
    const text = renderCanaryStatus(statusOf(state, inp, at(31)));
    expect(text).toContain(
      'issue-1 [high, user] slow poll, reported by ulla at 2026-03-02T09:00:00.000Z in phase 1; open, triaged by sam at 2026-03-03T14:00:00.000Z (late): reproduced',
    );
    expect(text).not.toContain('Overdue triage');
  });

  it('an aborted rollout: the abort, its rollback and the human steps; no checklist marks lie about it', () => {
    const { state, inp } = monitoring();
    state.instances.push({
      name: 'dev-2',
      contact: 'ops@example.com',
      phase: 1,
      registeredBy: 'rita',
      registeredAt: iso(T0),
      enabled: { workflowId: 'canary-x-enable-dev-2', outcome: 'completed', message: 'no Enable settings: enabled by a person' },
    });
    state.abort = {
      criterion: 'manual',
      reason: 'aborted by sam: customer escalation',
      at: iso(at(3)),
      phase: 1,
      actor: 'sam',
      rollback: {
        step: 'canary.phase1.5',
        children: [{ instance: 'dev-1', workflowType: 'disable', workflowId: 'canary-x-rollback-disable-dev-1', outcome: 'completed' }],
        humanSteps: ['dev-2: unset PULSE_ENABLE_TRUENAS (or set it to false) and restart Pulse (ask ops@example.com)'],
      },
    };
    state.status = 'aborted';
    const s = statusOf(state, inp, at(4));
    const text = renderCanaryStatus(s);
    expect(text).toContain('phase 1, aborted;');
    expect(text).toContain('Waiting for: nothing: aborted (aborted by sam: customer escalation)');
    expect(text).toContain('ABORTED in phase 1 at 2026-03-02T11:00:00.000Z (manual, by sam): aborted by sam: customer escalation');
    expect(text).toContain('  rollback disable dev-1: completed (canary-x-rollback-disable-dev-1)');
    expect(text).toContain('  ☐ by hand: dev-2: unset PULSE_ENABLE_TRUENAS (or set it to false) and restart Pulse (ask ops@example.com)');
    expect(text).toContain('  dev-2 (phase 1; rollback by a person): enable completed (no Enable settings: enabled by a person)');
    expect(text).not.toContain('next check at');
  });

  it('phase 3 has no exit gate and no checklist', () => {
    const { state, inp } = monitoring();
    state.phase = 3;
    state.release = { version: 'v6.1.0', commit: 'abc1234', by: 'sam', at: iso(at(1)) };
    const s = {
      ...statusOf(state, inp, at(2)),
      release: { version: 'v6.1.0', commit: 'abc1234', by: 'sam', at: iso(at(1)), rollbackConfigured: false },
    };
    const text = renderCanaryStatus(s);
    expect(text).toContain('Phase 3 is permanent: no exit gate.');
    expect(text).not.toContain('Checklist to leave');
    expect(text).toContain('Default-on release: v6.1.0 (commit abc1234) recorded by sam at 2026-03-02T09:00:00.000Z; revert by hand');
  });
});

describe('a fleet', () => {
  function fleet(): { state: CanaryState; inp: CanaryInput } {
    const inp = CanaryInputSchema.parse({
      rollout: 'msp',
      startedBy: 'rita',
      prometheus: { url: 'http://prometheus:9090' },
      approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
      phase1: {
        instances: Array.from({ length: 300 }, (_, i) => ({
          name: `p${i}`,
          pulseUrl: `http://p${i}:7655`,
          contact: i === 7 ? 'ops@p7.example' : undefined,
        })),
      },
      fleet: {
        instanceLabel: 'pulse_instance',
        waves: { concurrency: 20, maxFailurePercent: 2 },
        template: {
          enable: { pulse: { url: '{pulseUrl}' }, flag: { kind: 'env-file', path: '/srv/{name}/pulse.env' } },
          disable: { pulse: { url: '{pulseUrl}' } },
        },
      },
    });
    const state = initialState(iso(T0));
    state.status = 'monitoring';
    state.fleet = initialFleet(inp, T0);
    state.fleet.members.forEach((m, i) =>
      Object.assign(m, { state: i < 240 ? 'green' : i < 260 ? 'enabling' : 'pending', since: iso(at(1)) }),
    );
    Object.assign(state.fleet.members[7], { state: 'disabled', out: true, failed: true, note: 'broke error-rate 0.2' });
    Object.assign(state.fleet.members[9], { state: 'failing', attention: true, note: 'inconclusive: staleness-last-success no series' });
    state.fleet.waves = 13;
    state.fleet.wave = state.fleet.members.slice(240, 260).map((m) => m.name);
    addEvidence(state, {
      step: 'canary.phase1.5',
      at: iso(at(1)),
      verdict: 'failed',
      summary:
        'p7 broke its own phase 1 checkpoint(s): error-rate 0.2. It is disabled on its own (a Disable run) and left out of the fleet-wide checks.',
    });
    addEvidence(state, { step: 'canary.phase1.5', at: iso(at(1)), verdict: 'failed', summary: 'p70 broke something else.' });
    return { state, inp };
  }

  it('counts the instances per state and lists only those that need a person; the checklist names the ones not ready', () => {
    const { state, inp } = fleet();
    applyCheckpoint(state, inp, evaluation(at(1.5), {}), at(1.5));
    const text = renderCanaryStatus(statusOf(state, inp, at(2)));
    expect(text).toContain('Fleet: 300 instance(s): 40 pending, 20 enabling, 238 green, 1 failing, 1 disabled');
    expect(text).toContain(
      '  Waves: 13 started, 20 Enable(s) in flight; error budget: 1 failure(s), 6 allowed (maxFailurePercent 2 % of 300)',
    );
    expect(text).toContain('  Per-instance gates: on (series labelled pulse_instance="<name>")');
    expect(text).toContain(
      '  Needs a person (1):\n    p9 (phase 1): failing since 2026-03-02T09:00:00.000Z: inconclusive: staleness-last-success no series',
    );
    expect(text).not.toMatch(/^ {4}p1 /m);
    expect(text).toContain(
      '  ✗ 1. All monitoring checkpoints from the current phase are green: green at 2026-03-02T09:30:00.000Z; instances not ready: 40 pending, 20 enabling, 1 failing (p9, p240, p241, p242, p243, …)',
    );
  });

  it('shows one instance in full: its state, settings as run, runs and the evidence naming it', () => {
    const { state, inp } = fleet();
    const d = instanceDetail(state, inp, 'canary-msp', 'p7')!;
    const text = renderInstanceDetail(d);
    expect(text.split('\n')).toEqual([
      'Instance p7 (phase 1): disabled since 2026-03-02T09:00:00.000Z: broke error-rate 0.2',
      '  Pulse: http://p7:7655; contact ops@p7.example',
      '  In the rollout: taken out (left out of the fleet-wide checks); counted against the error budget',
      '  Enable: http://p7:7655, flag env-file /srv/p7/pulse.env, restart systemd',
      '  Disable: http://p7:7655, flag env-file /etc/pulse/.env, restart systemd',
      '  Its series: pulse_instance="p7"',
      '  Runs: enable canary-msp-enable-p7; disable canary-msp-disable-p7',
      '  Evidence naming it (1 of 1 kept):',
      '    2026-03-02T09:00:00.000Z [canary.phase1.5] failed: p7 broke its own phase 1 checkpoint(s): error-rate 0.2. It is disabled on its own (a Disable run) and left out of the fleet-wide checks.',
    ]);
    expect(instanceDetail(state, inp, 'canary-msp', 'nobody')).toBeUndefined();
  });
});

describe('renderCanaryResult and renderCanaryList', () => {
  it('a finished run from its result', () => {
    const result: CanaryResult = {
      procedure: 'canary-rollout',
      plan: false,
      rollout: 'r1',
      outcome: 'aborted',
      startedAt: iso(T0),
      finishedAt: iso(at(1)),
      phase: 1,
      abort: {
        criterion: 'canary.abort.2',
        reason: 'data corruption reported by ulla: wrong pool',
        at: iso(at(1)),
        phase: 1,
        actor: 'ulla',
      },
      evidence: [{ step: 'canary.abort.2', at: iso(at(1)), verdict: 'failed', summary: 'ulla reported data corruption' }],
    };
    const text = renderCanaryResult(result, { uiLink: 'http://ui/x' });
    expect(text).toContain('Canary rollout r1: aborted in phase 1 (started 2026-03-02T08:00:00.000Z, finished 2026-03-02T09:00:00.000Z)');
    expect(text).toContain('Abort (canary.abort.2, by ulla): data corruption reported by ulla: wrong pool');
    expect(text).toContain('  2026-03-02T09:00:00.000Z [canary.abort.2] failed: ulla reported data corruption');
    expect(text).toContain('Temporal UI: http://ui/x');
  });

  it('lists rows aligned, or says there are none', () => {
    expect(renderCanaryList([])).toBe('No canary rollouts.');
    const text = renderCanaryList([
      { id: 'canary-a', phase: 'phase-2', status: 'monitoring', execution: 'RUNNING', started: iso(T0) },
      { id: 'canary-long-name', phase: 'phase-1', status: 'aborted', execution: 'COMPLETED', started: iso(at(1)) },
    ]);
    expect(text.split('\n')).toEqual([
      'canary-a          phase-2   monitoring    RUNNING     2026-03-02T08:00:00.000Z',
      'canary-long-name  phase-1   aborted       COMPLETED   2026-03-02T09:00:00.000Z',
    ]);
  });
});
