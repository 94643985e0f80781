/**
 * The incident record's transitions as pure functions, and its export: every handoff, action and timestamp is
 * in the Markdown and the JSON, and a secret pasted into any text field is not.
 */
import { ApplicationFailure } from '@temporalio/common';
import { IncidentInputSchema } from '../../src/config/incident.js';
import {
  applyAcknowledge,
  applyClassify,
  applyEscalation,
  applyHandoff,
  applyRecordAction,
  applyResolve,
  applyStartResponse,
  armTimer,
  checkUpdate,
  compactResult,
  openRecord,
  timerConditionMet,
} from '../../src/incident/record.js';
import { INCIDENT_EXPORT_FORMAT, renderIncidentDetails, renderIncidentJson, renderIncidentMarkdown } from '../../src/incident/report.js';
import { sanitizeText, sanitizeValue } from '../../src/incident/sanitize.js';

const T0 = Date.parse('2026-11-27T18:00:00.000Z');
const min = (n: number) => T0 + n * 60_000;
const SECRET = 'sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

function opened(extra: Record<string, unknown> = {}) {
  const input = IncidentInputSchema.parse({
    title: 'TrueNAS data stale',
    impacts: ['data-loss'],
    openedBy: 'alice',
    calendar: { timeZone: 'Europe/Berlin' },
    ...extra,
  });
  const record = openRecord('incident-test-1', input, T0);
  const timer = armTimer(record, input, T0);
  return { input, record, timer };
}

function refusal(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected a refusal');
}

describe('incident record transitions', () => {
  it('opens classified, routed, with the first owner assignment and the P1 pages', () => {
    const { record, timer } = opened();
    expect(record).toMatchObject({
      severity: 'P1',
      status: 'open',
      owner: 'Pulse Operations',
      escalationOwner: 'Engineering',
      openedAt: '2026-11-27T18:00:00.000Z',
      openedBy: 'alice',
    });
    expect(record.handoffs).toEqual([
      {
        at: '2026-11-27T18:00:00.000Z',
        by: 'alice',
        to: 'Pulse Operations',
        kind: 'initial',
        reason: expect.stringContaining('primary owner Pulse Operations'),
      },
    ]);
    expect(record.notifications.map((n) => [n.at, n.kind, n.to])).toEqual([
      ['2026-11-27T18:00:00.000Z', 'page', 'Pulse Operations'],
      ['2026-11-27T18:00:00.000Z', 'notify', 'Security Response Owner'],
      ['2026-11-27T18:00:00.000Z', 'notify', 'Engineering'],
    ]);
    expect(timer).toMatchObject({
      severity: 'P1',
      condition: 'containment',
      deadline: '2026-11-27T18:15:00.000Z',
      outcome: 'pending',
      escalateTo: 'Engineering',
    });
  });

  it('containment meets the P1 timer; an escalation hands ownership to the escalation owner', () => {
    const a = opened();
    expect(timerConditionMet(a.record, a.timer)).toBe(false);
    applyStartResponse(
      a.record,
      checkUpdate(a.record, 'startResponse', { actor: 'bob', phase: 'containment', summary: 'kill-switch' }),
      min(3),
    );
    expect(timerConditionMet(a.record, a.timer)).toBe(true);
    expect(a.record.acknowledged).toEqual({ at: '2026-11-27T18:03:00.000Z', by: 'bob' });

    const b = opened();
    const n = applyEscalation(b.record, b.timer, min(15));
    expect(n).toMatchObject({ kind: 'escalation', to: 'Engineering', at: '2026-11-27T18:15:00.000Z' });
    expect(b.record.owner).toBe('Engineering');
    expect(b.record.handoffs.at(-1)).toMatchObject({
      from: 'Pulse Operations',
      to: 'Engineering',
      kind: 'escalation',
      by: 'escalation-timer',
    });
    expect(b.timer).toMatchObject({ outcome: 'escalated', settledAt: '2026-11-27T18:15:00.000Z' });
  });

  it('mitigation meets a P2 timer; only resolution meets a P3 timer', () => {
    const p2 = opened({ impacts: ['degraded-functionality'] });
    applyStartResponse(
      p2.record,
      checkUpdate(p2.record, 'startResponse', { actor: 'bob', phase: 'mitigation', summary: 'restart' }),
      min(10),
    );
    expect(timerConditionMet(p2.record, p2.timer)).toBe(true);
    const p3 = opened({ impacts: ['monitoring-gap'] });
    applyStartResponse(p3.record, checkUpdate(p3.record, 'startResponse', { actor: 'bob', phase: 'containment', summary: 'x' }), min(10));
    expect(timerConditionMet(p3.record, p3.timer)).toBe(false);
    expect(p3.timer.deadline).toBe('2026-11-30T08:00:00.000Z');
  });

  it('a person reclassifies: notifications follow, and re-arming supersedes the pending timer', () => {
    const { input, record, timer } = opened({ impacts: ['monitoring-gap'] });
    const { changed, notifications } = applyClassify(
      record,
      checkUpdate(record, 'classify', { actor: 'carol', severity: 'P1', reason: 'customers lost data' }),
      min(20),
    );
    expect(changed).toBe(true);
    expect(notifications.map((n) => n.kind)).toEqual(['page', 'notify', 'notify']);
    const next = armTimer(record, input, min(20));
    expect(timer.outcome).toBe('superseded');
    expect(next).toMatchObject({ severity: 'P1', deadline: '2026-11-27T18:35:00.000Z' });
    expect(record.severityHistory.map((s) => [s.severity, s.source, s.by])).toEqual([
      ['P3', 'rules', 'alice'],
      ['P1', 'person', 'carol'],
    ]);
  });

  it('refuses, naming the field: no final owner, unknown owner, handing off to the current owner, updates after resolution', () => {
    const { record } = opened();
    const noOwner = refusal(() => checkUpdate(record, 'resolve', { actor: 'alice', summary: 'done' }));
    expect(noOwner.type).toBe('InvalidIncidentUpdate');
    expect(noOwner.message).toMatch(/^resolve refused: finalOwner: required: name an owner/);
    expect(refusal(() => checkUpdate(record, 'handoff', { actor: 'a', to: 'nobody' })).message).toMatch(
      /^handoff refused: to: must be one of/,
    );
    const same = refusal(() => checkUpdate(record, 'handoff', { actor: 'a', to: 'ops' }));
    expect([same.type, same.message]).toEqual([
      'IncidentUpdateRefused',
      'handoff refused: to: Pulse Operations already owns this incident; name another owner',
    ]);
    applyResolve(record, checkUpdate(record, 'resolve', { actor: 'alice', summary: 'done', finalOwner: 'Engineering' }), min(30));
    expect(refusal(() => checkUpdate(record, 'recordAction', { actor: 'a', summary: 'late' })).message).toMatch(
      /resolved by alice at 2026-11-27T18:30:00.000Z/,
    );
    expect(refusal(() => checkUpdate(record, 'acknowledge', { actor: 'b' })).type).toBe('IncidentUpdateRefused');
  });

  it('keeps a compact copy of a child procedure result', () => {
    const { outcome, result } = compactResult({
      procedure: 'kill-switch',
      deleted: ['c1', 'c2'],
      finalResources: { total: 0, online: 0, stale: 0 },
      evidence: [
        { step: 'kill-switch.1', at: 't1', verdict: 'ok', summary: '2 connections', details: { big: 'x'.repeat(1000) } },
        { step: 'kill-switch.6', at: 't2', verdict: 'ok', summary: 'no restart' },
      ],
    });
    expect(outcome).toBe('completed; last step [kill-switch.6] ok: no restart');
    expect(result).toEqual({
      procedure: 'kill-switch',
      deleted: ['c1', 'c2'],
      finalResources: { total: 0, online: 0, stale: 0 },
      steps: [
        { step: 'kill-switch.1', verdict: 'ok', at: 't1', summary: '2 connections' },
        { step: 'kill-switch.6', verdict: 'ok', at: 't2', summary: 'no restart' },
      ],
    });
  });
});

describe('sanitizing what people type', () => {
  it.each([
    [`curl -H "Authorization: Bearer ${SECRET}"`, 'Bearer ********'],
    [`token=${SECRET} and more`, 'token=******** and more'],
    [`api_key: ${SECRET}`, 'api_key: ********'],
    [`"apiKey":"${SECRET}"`, '"apiKey":"********"'],
    [`https://admin:${SECRET}@nas.example/api`, 'https://********@nas.example/api'],
  ])('%s', (input, expected) => {
    const out = sanitizeText(input);
    expect(out).toContain(expected);
    expect(out).not.toContain(SECRET);
  });

  it('masks secret-named fields at any depth', () => {
    expect(sanitizeValue({ details: { password: SECRET, note: `key ${SECRET.slice(0, 3)}` } })).toEqual({
      details: { password: '********', note: 'key sk_' },
    });
  });
});

describe('incident export', () => {
  function fullRecord() {
    const { input, record, timer } = opened();
    applyAcknowledge(record, checkUpdate(record, 'acknowledge', { actor: 'alice', note: 'looking' }), min(2));
    applyHandoff(
      record,
      checkUpdate(record, 'handoff', { actor: 'alice', to: 'security', reason: `suspected leak, saw Bearer ${SECRET}` }),
      min(4),
    );
    applyStartResponse(
      record,
      checkUpdate(record, 'startResponse', {
        actor: 'sam',
        phase: 'containment',
        summary: 'kill-switch run',
        evidence: { workflowId: 'incident-test-1.kill-switch-2', details: { apiKey: SECRET } },
      }),
      min(6),
    );
    timer.outcome = 'met';
    applyRecordAction(
      record,
      checkUpdate(record, 'recordAction', {
        actor: 'sam',
        summary: `rotated the key (old token=${SECRET})`,
        evidence: { links: ['https://tickets.example/T-1'] },
      }),
      min(9),
    );
    applyHandoff(record, checkUpdate(record, 'handoff', { actor: 'sam', to: 'eng' }), min(12));
    const escalation = armTimer(record, input, min(12));
    applyEscalation(record, escalation, min(27));
    applyResolve(
      record,
      checkUpdate(record, 'resolve', { actor: 'erin', finalOwner: 'Engineering', summary: 'connections restored' }),
      min(40),
    );
    return record;
  }

  it('Markdown holds every handoff, action and timestamp, the final owner, and no secret', () => {
    const record = fullRecord();
    const md = renderIncidentMarkdown(record, new Date('2026-11-28T00:00:00Z'));
    expect(md).not.toContain(SECRET);
    for (const h of record.handoffs) expect(md).toContain(`| ${h.at} | ${h.from ?? '—'} | ${h.to} | ${h.by} | ${h.kind} |`);
    for (const a of record.actions) expect(md).toContain(`| ${a.index + 1} | ${a.at} | ${a.by} | ${a.kind} |`);
    for (const u of record.updates) expect(md).toContain(`| ${u.at} | ${u.by} | ${u.update} |`);
    for (const n of record.notifications) expect(md).toContain(`| ${n.at} | ${n.kind} | ${n.to} |`);
    expect(md).toContain('Final resolution owner: **Engineering**');
    expect(md).toContain('| Acknowledged | 2026-11-27T18:02:00.000Z by alice |');
    expect(md).toContain('https://tickets.example/T-1');
    expect(md).toContain('workflow incident-test-1.kill-switch-2');
    // The handoff chain in order; the escalation found Engineering already owning, so it notified without a handoff.
    expect(record.handoffs.map((h) => `${h.at} ${h.to}`)).toEqual([
      '2026-11-27T18:00:00.000Z Pulse Operations',
      '2026-11-27T18:04:00.000Z Security Response Owner',
      '2026-11-27T18:12:00.000Z Engineering',
    ]);
    expect(record.notifications.at(-1)).toMatchObject({ kind: 'escalation', to: 'Engineering', at: '2026-11-27T18:27:00.000Z' });
  });

  it('JSON is the same record, sanitized, with its format and export time', () => {
    const record = fullRecord();
    const json = renderIncidentJson(record, new Date('2026-11-28T00:00:00Z'));
    expect(json).not.toContain(SECRET);
    const doc = JSON.parse(json);
    expect(doc.format).toBe(INCIDENT_EXPORT_FORMAT);
    expect(doc.exportedAt).toBe('2026-11-28T00:00:00.000Z');
    expect(doc.incident.handoffs.map((h: { at: string; to: string }) => `${h.at} ${h.to}`)).toEqual(
      record.handoffs.map((h) => `${h.at} ${h.to}`),
    );
    expect(doc.incident.actions).toHaveLength(2);
    expect(doc.incident.resolution).toEqual({
      at: '2026-11-27T18:40:00.000Z',
      by: 'erin',
      finalOwner: 'Engineering',
      summary: 'connections restored',
    });
    expect(doc.incident.actions[0].evidence.details.apiKey).toBe('********');
  });

  it('a pipe or a newline in text cannot break a Markdown table', () => {
    const { record } = opened({ title: 'a | b', summary: 'line1\nline2' });
    applyRecordAction(record, checkUpdate(record, 'recordAction', { actor: 'x', summary: 'one | two\nthree' }), min(1));
    const md = renderIncidentMarkdown(record);
    expect(md).toContain('| 1 | 2026-11-27T18:01:00.000Z | x | action | one \\| two three |');
    expect(renderIncidentDetails(record)).toContain('**P1 open**: a | b');
  });
});
