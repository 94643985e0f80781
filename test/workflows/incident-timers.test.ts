/**
 * The incident workflow's escalation timers and updates on the real time-skipping server, with the runbook's
 * default windows: a P1 without containment escalates at exactly 15 min, a P2 without mitigation at exactly
 * 1 h, a P3 opened Friday evening on Monday at the opening time (not Saturday); a handoff chain is recorded in
 * order with its timestamps; resolving without a final owner is refused, naming the field.
 */
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { uniqueId } from '../../bench/support/time-skipping.js';
import { MINUTE, incidentBundle, incidentServerForFile, recordWhen, update } from '../support/incident.js';
import { zonedDateTime, zonedTimeToInstant } from '../../src/incident/business-calendar.js';
import type { IncidentInputRaw } from '../../src/config/incident.js';
import type { IncidentRecord, IncidentResult } from '../../workflows/incident.js';
import { INCIDENT_WORKFLOW, type IncidentWorkflow } from '../../workflows/incident.messages.js';
import { keywordValues } from '../../src/temporal/search-attributes.js';

// How late after its timer a record may be stamped: the time-skipping server adds the real time the worker takes
// between the timer firing and the record (1.2 s once, on a loaded two-core machine). Far below any wrong window.
const LATE = 5000;

const server = incidentServerForFile('incident-timers');
const { taskQueue } = server;

async function open(input: Partial<IncidentInputRaw>): Promise<WorkflowHandle> {
  return server.env.client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
    taskQueue,
    workflowId: uniqueId('incident'),
    args: [{ title: 'TrueNAS data stale', openedBy: 'alice', ...input }],
  });
}

const ms = (iso: string) => Date.parse(iso);
const escalations = (r: IncidentRecord) => r.notifications.filter((n) => n.kind === 'escalation');

async function refusedWith(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause as unknown as { type?: string; message: string };
}

describe('escalation timers with the runbook defaults', () => {
  it('P1: pages at once, and escalates to Engineering at exactly 15 min without containment', async () => {
    const h = await open({ impacts: ['data-loss'] });
    const opened = await recordWhen(h);
    expect(opened.severity).toBe('P1');
    expect(opened.notifications.map((n) => `${n.at === opened.openedAt ? 'at once' : n.at}: ${n.kind} ${n.to}`)).toEqual([
      'at once: page Pulse Operations',
      'at once: notify Security Response Owner',
      'at once: notify Engineering',
    ]);
    expect(opened.timers[0].deadline).toBe(new Date(ms(opened.openedAt) + 15 * MINUTE).toISOString());

    await server.env.sleep(15 * MINUTE - 1000);
    const before = await recordWhen(h);
    expect(escalations(before)).toHaveLength(0);
    expect(before.owner).toBe('Pulse Operations');

    await server.env.sleep(2000);
    const after = await recordWhen(h, (r) => escalations(r).length === 1);
    const escalatedAfter = ms(escalations(after)[0].at) - ms(after.openedAt);
    expect(escalatedAfter).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(escalatedAfter).toBeLessThan(15 * MINUTE + LATE);
    expect(escalations(after)[0]).toMatchObject({ to: 'Engineering' });
    expect(after.owner).toBe('Engineering');
    expect(after.handoffs.at(-1)).toMatchObject({
      from: 'Pulse Operations',
      to: 'Engineering',
      kind: 'escalation',
      at: escalations(after)[0].at,
    });
    expect(after.timers[0]).toMatchObject({ outcome: 'escalated' });

    // What the Temporal UI shows: search attributes, the memo, and the run's current details.
    const desc = await h.describe();
    expect(keywordValues(desc.typedSearchAttributes)).toMatchObject({
      IncidentSeverity: 'P1',
      IncidentOwner: 'Engineering',
      RunbookStatus: 'open',
      RunbookProcedure: 'incident',
    });
    expect(desc.memo).toEqual({ incident: { title: 'TrueNAS data stale', severity: 'P1', owner: 'Engineering', status: 'open' } });
    const metadata = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**P1 open**: TrueNAS data stale');
    expect(metadata.currentDetails).toContain('- Owner: Engineering (escalation: Engineering); handoffs: 2');
    await update(h, 'resolve', { actor: 'erin', finalOwner: 'Engineering', summary: 'restored' });
    const result: IncidentResult = await h.result();
    expect(result.incident.status).toBe('resolved');
    expect(result.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'escalation.1 ok',
      'escalation.2 ok',
      'escalation.2 failed',
      'escalation.2 human',
    ]);
  });

  it('P1: containment started at 10 min stops the timer; nothing escalates at 15 min', async () => {
    const h = await open({ impacts: ['security-breach'] });
    const opened = await recordWhen(h);
    expect(opened.owner).toBe('Security Response Owner');
    await server.env.sleep(10 * MINUTE);
    const receipt = await update(h, 'startResponse', { actor: 'sam', phase: 'containment', summary: 'revoked the API keys' });
    expect(receipt).toMatchObject({ status: 'containing', actionIndex: 0 });
    await server.env.sleep(10 * MINUTE);
    const r = await recordWhen(h, (x) => x.timers[0].outcome !== 'pending');
    expect(escalations(r)).toHaveLength(0);
    expect(r.timers[0]).toMatchObject({ outcome: 'met', settledAt: r.containmentStartedAt });
    expect(ms(r.containmentStartedAt!) - ms(r.openedAt)).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(r.acknowledged).toEqual({ at: r.containmentStartedAt, by: 'sam' });
    await update(h, 'resolve', { actor: 'sam', finalOwner: 'security', summary: 'keys rotated' });
    await h.result();
  });

  it('P2: escalates to Engineering at exactly 1 h without mitigation', async () => {
    const h = await open({ impacts: ['single-feature-outage'] });
    const opened = await recordWhen(h);
    expect(opened.notifications.map((n) => `${n.kind} ${n.to}`)).toEqual(['assign Pulse Operations']);
    await update(h, 'acknowledge', { actor: 'alice' });
    await server.env.sleep(60 * MINUTE - 1000);
    expect(escalations(await recordWhen(h))).toHaveLength(0);
    await server.env.sleep(2000);
    const r = await recordWhen(h, (x) => escalations(x).length === 1);
    const after = ms(escalations(r)[0].at) - ms(r.openedAt);
    expect(after).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(after).toBeLessThan(60 * MINUTE + LATE);
    expect(r.owner).toBe('Engineering');
    expect(escalations(r)[0].reason).toContain('P2: escalate if mitigation is not active within 60 min');
    await update(h, 'resolve', { actor: 'erin', finalOwner: 'eng', summary: 'fixed' });
    await h.result();
  });

  it('P2: mitigation at 59 min is in time', async () => {
    const h = await open({ impacts: ['degraded-functionality'] });
    await recordWhen(h);
    await server.env.sleep(59 * MINUTE);
    await update(h, 'startResponse', { actor: 'bob', phase: 'mitigation', summary: 'raised the poll timeout' });
    await server.env.sleep(5 * MINUTE);
    const r = await recordWhen(h, (x) => x.timers[0].outcome !== 'pending');
    expect([r.timers[0].outcome, escalations(r).length, r.owner, r.status]).toEqual(['met', 0, 'Pulse Operations', 'mitigating']);
    await update(h, 'resolve', { actor: 'bob', finalOwner: 'ops', summary: 'ok' });
    await h.result();
  });

  it('P3 opened Friday evening escalates at the start of Monday (Europe/Berlin), not on Saturday; a Monday holiday moves it to Tuesday', async () => {
    const zone = 'Europe/Berlin';
    // Skip the test server's clock to the next Friday 19:00 in Berlin.
    const now = await server.env.currentTimeMs();
    const today = zonedDateTime(now, zone);
    const daysToFriday = (5 - ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(today.weekday) - 1 + 7) % 7 || 7;
    const friday = zonedDateTime(now + daysToFriday * 24 * 3_600_000, zone);
    const fridayEvening = zonedTimeToInstant(friday, '19:00', zone);
    await server.env.sleep(fridayEvening - now);

    const calendar = { timeZone: zone };
    const mondayDate = zonedDateTime(fridayEvening + 3 * 24 * 3_600_000, zone);
    const holiday = `${mondayDate.year}-${String(mondayDate.month).padStart(2, '0')}-${String(mondayDate.day).padStart(2, '0')}`;
    const p3 = await open({ impacts: ['monitoring-gap'], calendar });
    const p4 = await open({ impacts: ['documentation'], calendar: { ...calendar, holidays: [holiday] } });
    const opened = await recordWhen(p3);
    expect(zonedDateTime(ms(opened.openedAt), zone)).toMatchObject({ weekday: 'Fri', hour: 19 });
    expect(zonedDateTime(ms(opened.timers[0].deadline), zone)).toMatchObject({ weekday: 'Mon', hour: 9, minute: 0, second: 0 });

    // Saturday 10:00 in Berlin: nothing yet.
    const saturday = zonedTimeToInstant(zonedDateTime(fridayEvening + 24 * 3_600_000, zone), '10:00', zone);
    await server.env.sleep(saturday - (await server.env.currentTimeMs()));
    expect(escalations(await recordWhen(p3))).toHaveLength(0);

    // Monday 09:00:01: the P3 has escalated at 09:00 sharp, the P4 (Monday is a holiday) has not.
    const monday = zonedTimeToInstant(mondayDate, '09:00', zone);
    await server.env.sleep(monday + 1000 - (await server.env.currentTimeMs()));
    const r = await recordWhen(p3, (x) => escalations(x).length === 1);
    const escalatedAt = ms(escalations(r)[0].at);
    expect(escalatedAt - monday).toBeGreaterThanOrEqual(0);
    expect(escalatedAt - monday).toBeLessThan(LATE);
    expect(zonedDateTime(escalatedAt, zone)).toMatchObject({ weekday: 'Mon', hour: 9, minute: 0 });
    expect(r.owner).toBe('Engineering');
    expect(escalations(await recordWhen(p4))).toHaveLength(0);

    // Tuesday 09:00 for the P4.
    const tuesday = zonedTimeToInstant(zonedDateTime(monday + 24 * 3_600_000, zone), '09:00', zone);
    await server.env.sleep(tuesday + 1000 - (await server.env.currentTimeMs()));
    const r4 = await recordWhen(p4, (x) => escalations(x).length === 1);
    expect(zonedDateTime(ms(escalations(r4)[0].at), zone)).toMatchObject({ weekday: 'Tue', hour: 9, minute: 0 });

    // The Java test server loses updates to a run whose timer fired once another run's result() was awaited, and
    // concurrent result() calls can leave time skipping locked: send every update first, then await one result at a time.
    for (const h of [p3, p4]) await update(h, 'resolve', { actor: 'erin', finalOwner: 'eng', summary: 'done' });
    for (const h of [p3, p4]) await h.result();
    // The business-day maths (Intl in the sandbox) and the update handlers replay deterministically.
    for (const h of [p3, p4])
      await Worker.runReplayHistory({ workflowBundle: await incidentBundle() }, await h.fetchHistory(), h.workflowId);
  });

  it('a person raises a P3 to P1: pages go out and a new 15 min containment timer starts from the change', async () => {
    const h = await open({ impacts: ['monitoring-gap'] });
    await recordWhen(h);
    await server.env.sleep(30 * MINUTE);
    const receipt = await update(h, 'classify', { actor: 'carol', severity: 'P1', reason: 'data loss confirmed on two pools' });
    expect(receipt.severity).toBe('P1');
    const raised = await recordWhen(h, (r) => r.timers.length === 2);
    expect(raised.timers.map((t) => `${t.severity} ${t.outcome}`)).toEqual(['P3 superseded', 'P1 pending']);
    const changedAt = ms(raised.severityHistory[1].at);
    expect(raised.notifications.filter((n) => ms(n.at) === changedAt).map((n) => `${n.kind} ${n.to}`)).toEqual([
      'page Pulse Operations',
      'notify Security Response Owner',
      'notify Engineering',
    ]);
    await server.env.sleep(15 * MINUTE + 1000);
    const r = await recordWhen(h, (x) => escalations(x).length === 1);
    expect(ms(escalations(r)[0].at) - changedAt).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(ms(escalations(r)[0].at) - changedAt).toBeLessThan(15 * MINUTE + LATE);
    expect(keywordValues((await h.describe()).typedSearchAttributes)).toMatchObject({ IncidentSeverity: 'P1' });
    await update(h, 'resolve', { actor: 'carol', finalOwner: 'eng', summary: 'done' });
    await h.result();
  });
});

describe('people act through updates', () => {
  it('records a handoff chain in order, with who and when', async () => {
    const h = await open({ impacts: ['monitoring-gap'] });
    await recordWhen(h);
    const chain: Array<[number, string, string]> = [
      [5, 'alice', 'Engineering'],
      [2, 'bob', 'Security Response Owner'],
      [13, 'sam', 'Pulse Operations'],
    ];
    const expected: Array<{ by: string; to: string; atMs: number }> = [];
    for (const [afterMinutes, actor, to] of chain) {
      await server.env.sleep(afterMinutes * MINUTE);
      const before = await server.env.currentTimeMs();
      const receipt = await update(h, 'handoff', { actor, to, reason: `shift change to ${to}` });
      expect(receipt.owner).toBe(to);
      expected.push({ by: actor, to, atMs: before });
    }
    const r = await recordWhen(h);
    expect(r.handoffs.map((x) => `${x.kind} ${x.from ?? '-'} → ${x.to} by ${x.by}`)).toEqual([
      'initial - → Pulse Operations by alice',
      'handoff Pulse Operations → Engineering by alice',
      'handoff Engineering → Security Response Owner by bob',
      'handoff Security Response Owner → Pulse Operations by sam',
    ]);
    r.handoffs.slice(1).forEach((x, i) => {
      expect(Math.abs(ms(x.at) - expected[i].atMs)).toBeLessThan(LATE);
      if (i > 0) expect(ms(x.at)).toBeGreaterThan(ms(r.handoffs[i].at));
    });
    expect(r.updates.filter((u) => u.update === 'handoff').map((u) => `${u.at} ${u.by}`)).toEqual(
      r.handoffs.slice(1).map((x) => `${x.at} ${x.by}`),
    );
    expect(keywordValues((await h.describe()).typedSearchAttributes)).toMatchObject({ IncidentOwner: 'Pulse Operations' });
    await update(h, 'resolve', { actor: 'sam', finalOwner: 'ops', summary: 'done' });
    await h.result();
  });

  it('refuses to resolve without a final owner, and other bad updates, naming the field', async () => {
    const h = await open({ impacts: ['cosmetic'] });
    await recordWhen(h);
    const noOwner = await refusedWith(update(h, 'resolve', { actor: 'alice', summary: 'fixed' }));
    expect(noOwner.type).toBe('InvalidIncidentUpdate');
    expect(noOwner.message).toMatch(/^resolve refused: finalOwner: required: name an owner/);
    expect((await refusedWith(update(h, 'acknowledge', { note: 'hi' }))).message).toMatch(/^acknowledge refused: actor: required/);
    expect((await refusedWith(update(h, 'handoff', { actor: 'a', to: 'Pulse Operations' }))).message).toContain(
      'to: Pulse Operations already owns this incident',
    );
    expect((await refusedWith(update(h, 'classify', { actor: 'a', severity: 'P0', reason: 'x' }))).message).toMatch(
      /severity: must be P1, P2, P3 or P4/,
    );

    const still = await recordWhen(h);
    expect(still.resolution).toBeUndefined();
    expect(still.updates.map((u) => u.update)).toEqual(['open']);
    expect((await h.describe()).status.name).toBe('RUNNING');

    await update(h, 'resolve', { actor: 'alice', finalOwner: 'Pulse Operations', summary: 'typo fixed' });
    const result: IncidentResult = await h.result();
    expect(result.incident.resolution).toMatchObject({ by: 'alice', finalOwner: 'Pulse Operations', summary: 'typo fixed' });
    expect(keywordValues((await h.describe()).typedSearchAttributes)).toMatchObject({ RunbookStatus: 'resolved' });
  });

  it('a bad incident input fails the run at once, naming the field', async () => {
    const h = await server.env.client.workflow.start(INCIDENT_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('incident'),
      args: [{ title: 'x', openedBy: 'a', impacts: ['meh'] }],
    });
    const err = await h.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as unknown as { type: string; message: string };
    expect(cause.type).toBe('InvalidIncidentInput');
    expect(cause.message).toMatch(/impacts\.0: must be one of data-loss/);
  });

  it('plan mode classifies, routes and computes the deadline, and returns at once', async () => {
    const h = await open({ impacts: ['broad-outage'], plan: true });
    const result: IncidentResult = await h.result();
    expect(result.plan).toBe(true);
    expect(result.incident.timers[0]).toMatchObject({ outcome: 'planned', condition: 'containment' });
    const desc = await h.describe();
    expect(desc.closeTime!.getTime() - desc.startTime.getTime()).toBeLessThan(1000);
    expect(keywordValues(desc.typedSearchAttributes)).toMatchObject({ RunbookStatus: 'planned' });
  });
});
