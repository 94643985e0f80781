/**
 * Incident roles (src/incident/roles.ts) enforced by the incident workflow's update validators on the real
 * time-skipping server: without roles anyone acts (the default); with roles an unknown actor is refused, and so
 * is an action outside the actor's role (acknowledge by a team the incident did not involve, a handoff or a
 * reclassification by someone not of the owner's role or an incident commander, a resolution by someone not of the
 * final owner's role), each with an error naming the actor and the roles allowed. The accepted paths are recorded
 * with the actor and how the CLI determined it; an escalation moves the right to hand off to the new owner's team.
 * The schema of `roles` and the pure policy are checked first.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { uniqueId } from '../../bench/support/time-skipping.js';
import { MINUTE, incidentServerForFile, recordWhen, update } from '../support/incident.js';
import { IncidentInputSchema, IncidentRolesSchema, type IncidentInputRaw } from '../../src/config/incident.js';
import { openRecord } from '../../src/incident/record.js';
import { allowedRoles, roleRefusal, rolesOf } from '../../src/incident/roles.js';
import type { IncidentRecord } from '../../workflows/incident.js';
import { INCIDENT_WORKFLOW, incidentRecordQuery, type IncidentWorkflow } from '../../workflows/incident.messages.js';

const ROLES = {
  'Pulse Operations': ['olga', 'omar'],
  Engineering: ['eli'],
  'Security Response Owner': ['sara'],
  'incident-commander': ['ian'],
};

describe('the roles schema and the policy (pure)', () => {
  it('takes the owner aliases and ic, and refuses unknown roles and empty configurations, naming the fix', () => {
    expect(IncidentRolesSchema.parse({ ops: ['olga'], ENG: ['eli'], ic: ['ian'] })).toEqual({
      'Pulse Operations': ['olga'],
      Engineering: ['eli'],
      'incident-commander': ['ian'],
    });
    const unknown = IncidentRolesSchema.safeParse({ ops: ['olga'], sre: ['sam'] });
    expect(unknown.success).toBe(false);
    expect(unknown.error!.issues[0].message).toBe(
      'unknown role "sre"; roles are Pulse Operations (ops), Engineering (eng), Security Response Owner (security), incident-commander (ic)',
    );
    expect(IncidentRolesSchema.safeParse({ ops: [] }).error!.issues[0].message).toBe(
      'must name at least one person in one role (or leave roles out: anyone may act)',
    );
    expect(IncidentRolesSchema.safeParse({ ops: 'olga' }).error!.issues[0].message).toBe('must be a list of names, e.g. ["olga", "omar"]');
    const input = IncidentInputSchema.safeParse({ title: 't', openedBy: 'olga', impacts: ['cosmetic'], roles: ['olga'] });
    expect(input.error!.issues[0]).toMatchObject({
      path: ['roles'],
      message: expect.stringContaining('must be an object of role -> names'),
    });
  });

  it('responders are the owner, the teams paged or notified, and the incident commander', () => {
    const input = IncidentInputSchema.parse({ title: 't', openedBy: 'olga', impacts: ['data-loss'], roles: ROLES });
    const p1 = openRecord('incident-x', input, Date.parse('2026-11-26T08:00:00Z'));
    expect(rolesOf(p1.roles!, 'olga')).toEqual(['Pulse Operations']);
    // A P1 pages Pulse Operations and notifies Security Response Owner and Engineering: all three respond.
    expect(allowedRoles(p1, 'startResponse', {}).roles).toEqual([
      'Pulse Operations',
      'Engineering',
      'Security Response Owner',
      'incident-commander',
    ]);
    expect(roleRefusal(p1, 'startResponse', { actor: 'eli' })).toBeUndefined();
    expect(roleRefusal(p1, 'handoff', { actor: 'eli' })).toBe(
      "eli (Engineering) may not hand off this incident: only members of the current owner's role (Pulse Operations) or an incident-commander may; " +
        'allowed now: Pulse Operations: olga, omar; incident-commander: ian',
    );
    const p3 = openRecord(
      'incident-y',
      IncidentInputSchema.parse({ title: 't', openedBy: 'olga', impacts: ['cosmetic'], roles: ROLES }),
      Date.parse('2026-11-26T08:00:00Z'),
    );
    expect(roleRefusal(p3, 'acknowledge', { actor: 'sara' })).toMatch(
      /^sara \(Security Response Owner\) may not acknowledge this incident: only the responders/,
    );
    expect(roleRefusal({ ...p3, roles: undefined }, 'acknowledge', { actor: 'anyone' })).toBeUndefined();
  });
});

const server = incidentServerForFile('incident-roles');
const { taskQueue } = server;

async function open(input: Partial<IncidentInputRaw>): Promise<WorkflowHandle> {
  const handle = await server.env.client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
    taskQueue,
    workflowId: uniqueId('incident'),
    args: [{ title: 'TrueNAS data stale', openedBy: 'olga', openedBySource: 'token', ...input }],
  });
  await recordWhen(handle);
  return handle;
}

async function refused(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause as unknown as { type?: string; message: string };
}

describe('without roles (the default): anyone may act', () => {
  it('accepts an actor nobody configured, as before roles existed', async () => {
    const h = await open({ impacts: ['cosmetic'] });
    await update(h, 'acknowledge', { actor: 'mallory' });
    await update(h, 'handoff', { actor: 'someone', to: 'Engineering' });
    await update(h, 'resolve', { actor: 'anybody', finalOwner: 'Engineering', summary: 'fine' });
    const r = (await h.query(incidentRecordQuery)) as IncidentRecord;
    expect(r.roles).toBeUndefined();
    expect(r.updates.map((u) => `${u.update} by ${u.by}`)).toEqual([
      'open by olga',
      'acknowledge by mallory',
      'handoff by someone',
      'resolve by anybody',
    ]);
  });
});

describe('with roles', () => {
  it('refuses unknown actors and actions outside the actor role; records the accepted ones with how the actor was determined', async () => {
    // P2, poller health: Pulse Operations owns it and is the only team assigned.
    const h = await open({ impacts: ['degraded-functionality'], roles: ROLES });
    const opened = await recordWhen(h);
    expect(opened.owner).toBe('Pulse Operations');
    expect(opened.roles).toEqual(ROLES);
    expect(opened.updates[0]).toMatchObject({ update: 'open', by: 'olga', actorSource: 'token' });

    const stranger = await refused(update(h, 'acknowledge', { actor: 'mallory' }));
    expect(stranger.type).toBe('IncidentActorNotAllowed');
    expect(stranger.message).toBe(
      'acknowledge refused: mallory is not in any role of this incident and may not acknowledge it; the roles are ' +
        'Pulse Operations: olga, omar; Engineering: eli; Security Response Owner: sara; incident-commander: ian',
    );
    const notInvolved = await refused(update(h, 'acknowledge', { actor: 'eli' }));
    expect(notInvolved.type).toBe('IncidentActorNotAllowed');
    expect(notInvolved.message).toMatch(
      /^acknowledge refused: eli \(Engineering\) may not acknowledge this incident: only the responders: the current owner's role \(Pulse Operations\)/,
    );
    expect(notInvolved.message).toContain('allowed now: Pulse Operations: olga, omar; incident-commander: ian');

    await update(h, 'acknowledge', { actor: 'omar', actorSource: 'os-user' });

    const handoff = await refused(update(h, 'handoff', { actor: 'eli', to: 'Engineering' }));
    expect(handoff.message).toBe(
      "handoff refused: eli (Engineering) may not hand off this incident: only members of the current owner's role (Pulse Operations) or an incident-commander may; " +
        'allowed now: Pulse Operations: olga, omar; incident-commander: ian',
    );
    // The incident commander may hand off though not of the owner's team.
    await update(h, 'handoff', { actor: 'ian', actorSource: 'claimed', to: 'Engineering', reason: 'needs a code fix' });

    // Engineering owns it now: olga (Pulse Operations) may still record what she did (her team was assigned), but
    // not reclassify it; eli may.
    await update(h, 'recordAction', { actor: 'olga', actorSource: 'token', summary: 'restarted the poller' });
    const classify = await refused(update(h, 'classify', { actor: 'olga', severity: 'P3', reason: 'less bad' }));
    expect(classify.message).toMatch(
      /^classify refused: olga \(Pulse Operations\) may not classify this incident: only members of the current owner's role \(Engineering\)/,
    );
    await update(h, 'classify', { actor: 'eli', severity: 'P3', reason: 'less bad than thought' });

    const resolveOutside = await refused(update(h, 'resolve', { actor: 'olga', finalOwner: 'Engineering', summary: 'fixed' }));
    expect(resolveOutside.message).toBe(
      "resolve refused: olga (Pulse Operations) may not resolve this incident: only members of the final resolution owner's role (Engineering) may; allowed now: Engineering: eli",
    );
    await update(h, 'resolve', { actor: 'eli', actorSource: 'token', finalOwner: 'Engineering', summary: 'poller fixed in v6.1.1' });

    const done = await recordWhen(h, (r) => r.status === 'resolved');
    expect(done.updates.map((u) => `${u.update} by ${u.by} (${u.actorSource ?? 'not said'})`)).toEqual([
      'open by olga (token)',
      'acknowledge by omar (os-user)',
      'handoff by ian (claimed)',
      'recordAction by olga (token)',
      'classify by eli (not said)',
      'resolve by eli (token)',
    ]);
    expect(done.resolution).toMatchObject({ by: 'eli', finalOwner: 'Engineering' });
    expect(done.handoffs.at(-1)).toMatchObject({ by: 'ian', from: 'Pulse Operations', to: 'Engineering' });
  });

  it('an unknown actor is refused before anything about the state (an acknowledged incident)', async () => {
    const h = await open({ impacts: ['cosmetic'], roles: { ops: ['olga'] } });
    await update(h, 'acknowledge', { actor: 'olga' });
    const stranger = await refused(update(h, 'acknowledge', { actor: 'mallory' }));
    expect(stranger.type).toBe('IncidentActorNotAllowed');
    expect(stranger.message).toBe(
      'acknowledge refused: mallory is not in any role of this incident and may not acknowledge it; the roles are Pulse Operations: olga',
    );
    const member = await refused(update(h, 'acknowledge', { actor: 'olga' }));
    expect(member.type).toBe('IncidentUpdateRefused');
    expect(member.message).toMatch(/^acknowledge refused: already acknowledged by olga at /);
    await update(h, 'resolve', { actor: 'olga', finalOwner: 'ops', summary: 'typo fixed' });
  });

  it('P1: a notified team may respond but not hand off; after the 15 min escalation Engineering owns it and may hand off', async () => {
    const h = await open({ impacts: ['data-loss'], roles: ROLES });
    // Security Response Owner was notified at once: sara may acknowledge, but not hand off (Pulse Operations owns it).
    await update(h, 'acknowledge', { actor: 'sara' });
    expect((await refused(update(h, 'handoff', { actor: 'eli', to: 'Security Response Owner' }))).type).toBe('IncidentActorNotAllowed');

    await server.env.sleep(15 * MINUTE + 1000);
    const escalated = await recordWhen(h, (r) => r.owner === 'Engineering');
    expect(escalated.handoffs.at(-1)).toMatchObject({ by: 'escalation-timer', kind: 'escalation', to: 'Engineering' });

    // The right to hand off moved with the ownership.
    expect((await refused(update(h, 'handoff', { actor: 'olga', to: 'Security Response Owner' }))).message).toContain(
      "only members of the current owner's role (Engineering) or an incident-commander may",
    );
    await update(h, 'handoff', { actor: 'eli', to: 'Security Response Owner', reason: 'it is a breach after all' });
    await update(h, 'startResponse', { actor: 'eli', phase: 'containment', summary: 'credentials rotated' });
    await update(h, 'resolve', { actor: 'sara', finalOwner: 'security', summary: 'contained and rotated' });
    const done = await recordWhen(h, (r) => r.status === 'resolved');
    expect(done.resolution).toMatchObject({ by: 'sara', finalOwner: 'Security Response Owner' });
  });
});
