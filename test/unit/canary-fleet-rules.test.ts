/**
 * The fleet's pure rules (issue 17) without Temporal: the Enable/Disable template filled in per instance (and its
 * errors, naming the instance and the field), waves and the error budget, the per-instance verdicts, and the size of
 * a 500-instance rollout's state as it travels across continue-as-new (under Temporal's 256 KB payload warning).
 */
import { CanaryInputSchema, fillTemplate, type CanaryInput, type CanaryInputRaw } from '../../src/config/canary.js';
import { applyEnableOutcome, budgetOf, finishWaveIfDone, initialFleet, nextWave, startWave } from '../../src/canary/fleet.js';
import { applyInstanceVerdicts } from '../../src/canary/instance-gates.js';
import { applyCheckpoint } from '../../src/canary/checkpoints.js';
import { fleetSummary, statusOf } from '../../src/canary/status.js';
import { addEvidence, initialState, type CanaryState } from '../../src/canary/state.js';
import { checkQuery, type CheckId } from '../../src/prometheus/checks.js';
import { judge, type InstanceCheckResult } from '../../src/prometheus/verdict.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const TEMPLATE = {
  enable: {
    pulse: { url: '{pulseUrl}', token: { env: 'PULSE_TOKEN' } },
    flag: { kind: 'env-file', path: '/srv/{name}/pulse.env' },
    restart: { kind: 'command', argv: ['systemctl', '-H', '{vars.host}', 'restart', 'pulse'] },
  },
  disable: {
    pulse: { url: '{pulseUrl}', token: { env: 'PULSE_TOKEN' } },
    restart: { kind: 'command', argv: ['systemctl', '-H', '{vars.host}', 'restart', 'pulse'] },
  },
};
const names = (n: number) => Array.from({ length: n }, (_, i) => `pulse-${String(i + 1).padStart(3, '0')}`);

function raw(n: number, fleet: Record<string, unknown> = {}): CanaryInputRaw {
  return {
    startedBy: 'rita',
    prometheus: { url: 'http://prom:9090' },
    approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
    phase1: {
      instances: names(n).map((name, i) => ({
        name,
        pulseUrl: `http://10.0.${Math.floor(i / 250)}.${i % 250}:7655`,
        vars: { host: `${name}.lan` },
      })),
    },
    fleet: { instanceLabel: 'pulse_instance', template: TEMPLATE, ...fleet },
  } as CanaryInputRaw;
}

const parse = (r: CanaryInputRaw): CanaryInput => CanaryInputSchema.parse(r);

function fleetState(input: CanaryInput): CanaryState {
  const s = initialState(new Date(T0).toISOString());
  s.status = 'monitoring';
  s.fleet = initialFleet(input, T0);
  return s;
}

describe('the template', () => {
  it('fills {name}, {pulseUrl} and {vars.*} into every string', () => {
    expect(fillTemplate(TEMPLATE.enable, { name: 'p1', pulseUrl: 'http://p1:7655', vars: { host: 'p1.lan' } })).toEqual({
      pulse: { url: 'http://p1:7655', token: { env: 'PULSE_TOKEN' } },
      flag: { kind: 'env-file', path: '/srv/p1/pulse.env' },
      restart: { kind: 'command', argv: ['systemctl', '-H', 'p1.lan', 'restart', 'pulse'] },
    });
  });

  it('a string that is exactly one placeholder takes the value as it is: a number var fills a port', () => {
    expect(
      fillTemplate(
        { port: '{vars.nasPort}', host: 'http://{vars.host}:{vars.nasPort}' },
        { name: 'p1', vars: { nasPort: 8443, host: 'nas' } },
      ),
    ).toEqual({ port: 8443, host: 'http://nas:8443' });
  });

  it('refuses a rollout whose template does not give valid settings for an instance, naming the instance and the field', () => {
    const bad = raw(3);
    (bad.phase1!.instances![1] as { vars?: unknown }).vars = undefined;
    (bad.phase1!.instances![2] as { pulseUrl?: string }).pulseUrl = 'not a url';
    const parsed = CanaryInputSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    const issues = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain(
      'phase1.instances.1.enable: fleet.template.enable: {vars.host} has no value for instance pulse-002: give it vars.host',
    );
    expect(issues).toContain(
      'phase1.instances.2.enable.pulse.url: fleet.template.enable filled in for pulse-003: must be a URL such as http://pulse.example:7655',
    );
  });

  it('refuses two error budgets and a label Pulse already uses', () => {
    const issues = (r: CanaryInputRaw) => CanaryInputSchema.safeParse(r).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues(raw(1, { waves: { maxFailures: 1, maxFailurePercent: 5 } }))).toEqual([
      'fleet.waves.maxFailurePercent: give maxFailures or maxFailurePercent, not both',
    ]);
    expect(issues(raw(1, { instanceLabel: 'instance' }))?.[0]).toMatch(/^fleet.instanceLabel: must not be instance, job or instance_type/);
  });
});

describe('waves and the error budget', () => {
  it('starts waves of the concurrency in order, one at a time; a percentage budget counts the instances the rollout enables', () => {
    const input = parse(raw(40, { waves: { concurrency: 8, maxFailurePercent: 5 } }));
    const s = fleetState(input);
    expect(budgetOf(s, input)).toMatchObject({ failures: 0, allowed: 2, spent: false });
    const first = nextWave(s, input);
    expect(first.map((m) => m.name)).toEqual(names(8));
    startWave(s, first, T0);
    expect(nextWave(s, input)).toEqual([]);
    for (const [i, m] of first.entries())
      applyEnableOutcome(s, m.name, i < 3 ? { ok: false, message: 'RestartFailed: boom' } : { ok: true }, T0 + 1000, `wf-enable-${m.name}`);
    expect(finishWaveIfDone(s, input, T0 + 1000, 'wf')).toBe(true);
    expect(s.evidence.at(-1)?.summary).toBe(
      'Wave 1 (8 instance(s)): 5 enabled (pulse-004, pulse-005, pulse-006, pulse-007, pulse-008), 3 failed (pulse-001, pulse-002, pulse-003); ' +
        'their Enable runs are wf-enable-<name>. 32 pending; error budget: 3 failure(s), 2 allowed (maxFailurePercent 5 % of 40): SPENT, no new Enable starts.',
    );
    expect(nextWave(s, input)).toEqual([]);
    expect(fleetSummary(s, input)).toMatchObject({ total: 40, counts: { pending: 32, enabled: 5, failing: 3 }, attentionTotal: 3 });
  });
});

describe('per-instance verdicts', () => {
  const result = (check: CheckId, notPassing: InstanceCheckResult['notPassing'], passing: number): InstanceCheckResult => ({
    check,
    evaluatedAt: '',
    query: 'q',
    notPassing,
    passing,
  });

  it('a failing checkpoint takes the instance out (to be disabled); no series makes it failing but keeps it in; an override can pass it', () => {
    const input = parse({ ...raw(4), verdicts: { 'staleness-gauge-max': { onEmpty: 'pass' } } });
    const s = fleetState(input);
    for (const m of s.fleet!.members) m.state = 'enabled';
    const out = applyInstanceVerdicts(
      s,
      input,
      [
        result('error-rate', [{ instance: 'pulse-002', value: '0.2', verdict: 'fail' }], 3),
        result('staleness-last-success', [{ instance: 'pulse-003', value: null, verdict: 'inconclusive' }], 3),
        result('staleness-gauge-max', [{ instance: 'pulse-004', value: null, verdict: 'inconclusive' }], 3),
      ],
      T0,
    );
    expect(out.broke.map((m) => m.name)).toEqual(['pulse-002']);
    expect(s.fleet!.members.map((m) => `${m.name}:${m.state}${m.out ? ':out' : ''}`)).toEqual([
      'pulse-001:green',
      'pulse-002:disabling:out',
      'pulse-003:failing',
      'pulse-004:green',
    ]);
    expect(s.fleet!.members[2].note).toBe('inconclusive: staleness-last-success no series');
    expect(budgetOf(s, input).failures).toBe(1);
  });

  it('a query that could not be run judges nobody', () => {
    const input = parse(raw(2));
    const s = fleetState(input);
    for (const m of s.fleet!.members) m.state = 'green';
    applyInstanceVerdicts(
      s,
      input,
      [{ check: 'error-rate', evaluatedAt: '', notPassing: [], passing: 0, error: { kind: 'unavailable', message: 'down' } }],
      T0,
    );
    expect(s.fleet!.members.map((m) => m.state)).toEqual(['green', 'green']);
  });
});

it('500 instances: the state and input that continue as new stay under the 256 KB payload warning, and the status answer is small', () => {
  const r = raw(500);
  const input = parse(r);
  const s = fleetState(input);
  // A busy rollout: everyone enabled and judged, a few out, full evidence and evaluation records.
  for (const [i, m] of s.fleet!.members.entries()) {
    m.state = i % 100 === 7 ? 'disabled' : 'green';
    m.since = new Date(T0 + i * 1000).toISOString();
    if (m.state === 'disabled') Object.assign(m, { out: true, failed: true, note: 'broke error-rate 0.2' });
  }
  const healthy: Record<string, string> = {
    'error-rate': '0.01',
    'staleness-gauge-max': '61',
    'staleness-never-succeeded': '2',
    'staleness-last-success': '60',
    'auth-gate': '0',
    'abort-failure-rate': '0',
    'auth-errors': '0',
    'resource-memory': '1e8',
    'resource-cpu': '0.1',
  };
  for (let k = 0; k < 20; k++) {
    const at = new Date(T0 + k * 60_000).toISOString();
    const results = Object.entries(healthy).map(([id, v]) => {
      const { query, windowSeconds } = checkQuery(id as CheckId, {
        exclude: { label: 'pulse_instance', values: ['pulse-008', 'pulse-108', 'pulse-208'] },
      });
      return judge(
        id as CheckId,
        query,
        {
          resultType: 'vector',
          samples: Array.from({ length: 10 }, (_, j) => ({
            labels: { instance: `nas-${j}`, pulse_instance: `pulse-${j}` },
            time: 0,
            value: v,
          })),
        },
        at,
        windowSeconds,
      );
    });
    applyCheckpoint(s, input, { at, prometheusUrl: 'http://prom:9090', reachable: true, results }, T0 + k * 60_000);
  }
  for (let k = 0; k < 400; k++)
    addEvidence(s, {
      step: 'canary.phase1.3',
      at: new Date(T0).toISOString(),
      verdict: 'ok',
      summary: `an ordinary piece of evidence number ${k} of a long rollout, about a hundred characters long`,
    });
  const payload = JSON.stringify({ ...r, state: s });
  expect(payload.length).toBeLessThan(256 * 1024);
  const status = JSON.stringify(statusOf(s, input, 'canary-x', 10, T0));
  expect(status.length).toBeLessThan(payload.length);
  expect(JSON.parse(status).fleet.counts).toMatchObject({ green: 495, disabled: 5 });
});
