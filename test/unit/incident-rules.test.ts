/**
 * The runbook's incident rules as data and pure functions: severity classification, owner routing, P1 paging,
 * escalation deadlines, and the input/update schemas refusing bad input with the field named.
 */
import {
  IncidentInputSchema,
  ResolveSchema,
  StartResponseSchema,
  HandoffSchema,
  BusinessCalendarSchema,
  EscalationTimersSchema,
} from '../../src/config/incident.js';
import { classifySeverity, defaultScope, escalationPlan, routeIncident } from '../../src/incident/rules.js';
import { OWNERSHIP_TABLE } from '../../src/incident/tables.js';

const issues = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  Object.fromEntries((r.error?.issues ?? []).map((i) => [i.path.map(String).join('.'), i.message]));

describe('severity classification (runbook "Incident Severity and Response")', () => {
  it.each([
    [['data-loss'], 'P1'],
    [['security-breach'], 'P1'],
    [['broad-outage'], 'P1'],
    [['degraded-functionality'], 'P2'],
    [['single-feature-outage'], 'P2'],
    [['non-blocking-degradation'], 'P3'],
    [['monitoring-gap'], 'P3'],
    [['cosmetic'], 'P4'],
    [['documentation'], 'P4'],
    [['documentation', 'monitoring-gap', 'single-feature-outage'], 'P2'],
    [['cosmetic', 'data-loss'], 'P1'],
  ] as const)('%j → %s', (impacts, severity) => {
    expect(classifySeverity(impacts).severity).toBe(severity);
  });

  it('says which impacts and which runbook definition decided', () => {
    expect(classifySeverity(['monitoring-gap', 'data-loss']).reason).toBe('data-loss → P1 (Data loss, security breach, or broad outage)');
  });

  it('needs an impact or a person-set severity with a reason', () => {
    expect(issues(IncidentInputSchema.safeParse({ title: 't', openedBy: 'alice' })).impacts).toMatch(
      /give at least one impact .* or set severity with a reason/,
    );
    expect(issues(IncidentInputSchema.safeParse({ title: 't', openedBy: 'alice', severity: 'P2' })).severityReason).toMatch(
      /required when severity is set/,
    );
    const ok = IncidentInputSchema.parse({ title: 't', openedBy: 'alice', severity: 'p2', severityReason: 'customer escalation' });
    expect(ok.severity).toBe('P2');
    expect(ok.timers).toEqual({ p1ContainmentMinutes: 15, p2MitigationMinutes: 60 });
    expect(ok.notify.webhooks).toEqual([]);
  });
});

describe('owner routing (runbook "Ownership and Escalation Routing")', () => {
  it('matches the ownership table', () => {
    expect(Object.values(OWNERSHIP_TABLE).map((r) => [r.description, r.primary, r.escalation])).toEqual([
      ['TrueNAS poller health, staleness, and connectivity incidents', 'Pulse Operations', 'Engineering'],
      ['Kill-switch execution and disable/enable operations', 'Pulse Operations', 'Engineering'],
      ['Code rollback and release-level incident coordination', 'Engineering', 'Pulse Operations'],
      ['Security-impacting TrueNAS incidents (P1)', 'Security Response Owner', 'Engineering'],
    ]);
  });

  it('P1 pages Pulse Operations and notifies Security Response Owner and Engineering at once', () => {
    const r = routeIncident('poller-health', 'P1');
    expect(r.owner).toBe('Pulse Operations');
    expect(r.escalationOwner).toBe('Engineering');
    expect(r.notifications.map((n) => `${n.kind} ${n.to}`)).toEqual([
      'page Pulse Operations',
      'notify Security Response Owner',
      'notify Engineering',
    ]);
  });

  it('a security breach is owned by the Security Response Owner', () => {
    expect(defaultScope(['security-breach', 'data-loss'])).toBe('security');
    expect(defaultScope(['data-loss'])).toBe('poller-health');
    expect(routeIncident('security', 'P1').owner).toBe('Security Response Owner');
  });

  it('P2–P4 are assigned to Pulse Operations and escalate to Engineering; a code rollback the other way round', () => {
    for (const sev of ['P2', 'P3', 'P4'] as const) {
      const r = routeIncident('poller-health', sev);
      expect([r.owner, r.escalationOwner, r.notifications.map((n) => `${n.kind} ${n.to}`)]).toEqual([
        'Pulse Operations',
        'Engineering',
        ['assign Pulse Operations'],
      ]);
    }
    expect(routeIncident('code-rollback', 'P2')).toMatchObject({ owner: 'Engineering', escalationOwner: 'Pulse Operations' });
  });
});

describe('escalation deadlines', () => {
  const timers = EscalationTimersSchema.parse({});
  const calendar = BusinessCalendarSchema.parse({ timeZone: 'Europe/Berlin' });
  const from = Date.parse('2026-11-27T18:00:00Z'); // Friday 19:00 Berlin

  it('P1: containment within 15 min; P2: mitigation within 1 h', () => {
    expect(escalationPlan('P1', from, timers, calendar)).toEqual({
      condition: 'containment',
      deadlineMs: from + 15 * 60_000,
      rule: 'P1: escalate if containment has not started within 15 min',
    });
    expect(escalationPlan('P2', from, timers, calendar)).toMatchObject({ condition: 'mitigation', deadlineMs: from + 3_600_000 });
  });

  it('P3/P4: resolution by the next business day, in the calendar time zone', () => {
    for (const sev of ['P3', 'P4'] as const) {
      const plan = escalationPlan(sev, from, timers, calendar);
      expect(plan.condition).toBe('resolution');
      expect(new Date(plan.deadlineMs).toISOString()).toBe('2026-11-30T08:00:00.000Z');
      expect(plan.rule).toBe(`${sev}: escalate if unresolved by the next business day (Mon 2026-11-30 09:00 Europe/Berlin)`);
    }
  });
});

describe('update schemas name the field', () => {
  it('resolve without a final owner is refused', () => {
    const r = ResolveSchema.safeParse({ actor: 'alice', summary: 'fixed' });
    expect(issues(r).finalOwner).toMatch(/^required: name an owner/);
    expect(ResolveSchema.parse({ actor: 'alice', summary: 'fixed', finalOwner: 'eng' }).finalOwner).toBe('Engineering');
  });

  it('handoff to an unknown owner is refused; aliases are accepted', () => {
    expect(issues(HandoffSchema.safeParse({ actor: 'a', to: 'the night shift' })).to).toMatch(/must be one of Pulse Operations/);
    expect(HandoffSchema.parse({ actor: 'a', to: 'SECURITY' }).to).toBe('Security Response Owner');
    expect(issues(HandoffSchema.safeParse({ to: 'ops' })).actor).toMatch(/^required: who acts/);
    expect(issues(HandoffSchema.safeParse({ actor: '  ', to: 'ops' })).actor).toMatch(/must not be empty/);
  });

  it('a containment procedure input is checked with that procedure’s own schema, defaults filled', () => {
    const bad = StartResponseSchema.safeParse({
      actor: 'a',
      phase: 'containment',
      summary: 's',
      procedure: { name: 'kill-switch', input: { pulse: { url: 'nope' } } },
    });
    expect(issues(bad)['procedure.input.pulse.url']).toMatch(/http:\/\//);
    const plan = StartResponseSchema.safeParse({
      actor: 'a',
      phase: 'containment',
      summary: 's',
      procedure: { name: 'kill-switch', input: { pulse: { url: 'http://p:7655' }, plan: true } },
    });
    expect(issues(plan)['procedure.input.plan']).toMatch(/must act/);
    const unknown = StartResponseSchema.safeParse({
      actor: 'a',
      phase: 'containment',
      summary: 's',
      procedure: { name: 'reboot-everything', input: {} },
    });
    expect(unknown.success).toBe(false);
    const ok = StartResponseSchema.parse({
      actor: 'a',
      phase: 'containment',
      summary: 's',
      procedure: { name: 'kill-switch', input: { pulse: { url: 'http://p:7655/' } } },
    });
    expect(ok.procedure?.input).toMatchObject({
      pulse: { url: 'http://p:7655' },
      tickSeconds: 60,
      staleThresholdSeconds: 120,
      plan: false,
    });
    expect(issues(StartResponseSchema.safeParse({ actor: 'a', phase: 'panic', summary: 's' })).phase).toBe(
      'must be containment or mitigation',
    );
  });
});
