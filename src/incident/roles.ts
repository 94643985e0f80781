/**
 * Who may act on an incident, when its input names roles (IncidentRolesSchema). Without roles anyone may act
 * (the behaviour before roles existed). With roles, an actor in no role is refused outright, and each update
 * needs one of these roles:
 *
 * | update                                    | allowed                                                                 |
 * |-------------------------------------------|-------------------------------------------------------------------------|
 * | acknowledge, startResponse, recordAction  | the current owner's role, a role the incident paged or notified, or an incident-commander |
 * | classify, handoff                         | the current owner's role, or an incident-commander                      |
 * | resolve                                   | the role of the final resolution owner named in the update              |
 *
 * Responders are the teams the runbook's routing involved (a P1 pages Pulse Operations and notifies Security
 * Response Owner and Engineering at once, so all three may start containment); changing the severity or the owner
 * is the owner's call or the incident commander's; and the runbook's "final resolution owner" must be someone of
 * that owner's team, so a resolution cannot name a team none of whose members signed it.
 *
 * Pure and deterministic: the workflow's update validators run it (through checkUpdate in record.ts). Names are
 * compared exactly, as the CLI determined them (src/identity).
 */
import {
  INCIDENT_COMMANDER,
  INCIDENT_ROLES,
  type IncidentRole,
  type IncidentRoles,
  type IncidentUpdateName,
  type Owner,
} from '../config/incident.js';
import type { IncidentRecord } from './types.js';

const VERBS: Record<IncidentUpdateName, string> = {
  acknowledge: 'acknowledge',
  startResponse: 'start a response to',
  classify: 'classify',
  handoff: 'hand off',
  recordAction: 'record an action on',
  resolve: 'resolve',
};

/** The roles a person is in (in the order of INCIDENT_ROLES). */
export function rolesOf(roles: IncidentRoles, actor: string): IncidentRole[] {
  return INCIDENT_ROLES.filter((role) => roles[role]?.includes(actor));
}

/** "Pulse Operations: olga, omar; incident-commander: ian": the given roles, else every configured one. */
export function describeRoles(roles: IncidentRoles, only?: readonly IncidentRole[]): string {
  const list = only ?? INCIDENT_ROLES.filter((r) => roles[r] !== undefined);
  return list.map((r) => `${r}: ${roles[r]?.length ? roles[r]!.join(', ') : '(nobody)'}`).join('; ');
}

/** The roles that may send this update now, given the incident's state and the update's input. */
export function allowedRoles(
  record: IncidentRecord,
  name: IncidentUpdateName,
  input: { finalOwner?: string },
): { roles: IncidentRole[]; rule: string } {
  const owner = record.owner;
  switch (name) {
    case 'resolve':
      return { roles: [input.finalOwner as Owner], rule: `only members of the final resolution owner's role (${input.finalOwner})` };
    case 'classify':
    case 'handoff':
      return {
        roles: [owner, INCIDENT_COMMANDER],
        rule: `only members of the current owner's role (${owner}) or an ${INCIDENT_COMMANDER}`,
      };
    default: {
      const involved = new Set<IncidentRole>([owner, ...record.notifications.map((n) => n.to), INCIDENT_COMMANDER]);
      const roles = INCIDENT_ROLES.filter((r) => involved.has(r));
      return {
        roles,
        rule: `only the responders: the current owner's role (${owner}), a role this incident paged or notified, or an ${INCIDENT_COMMANDER}`,
      };
    }
  }
}

/**
 * Undefined when the actor may send this update; otherwise the refusal, naming the actor, their roles and the
 * roles (with their members) that may.
 */
export function roleRefusal(
  record: IncidentRecord,
  name: IncidentUpdateName,
  input: { actor: string; finalOwner?: string },
): string | undefined {
  const roles = record.roles;
  if (!roles) return undefined;
  const mine = rolesOf(roles, input.actor);
  if (mine.length === 0) {
    return `${input.actor} is not in any role of this incident and may not ${VERBS[name]} it; the roles are ${describeRoles(roles)}`;
  }
  const allowed = allowedRoles(record, name, input);
  if (mine.some((r) => allowed.roles.includes(r))) return undefined;
  return (
    `${input.actor} (${mine.join(', ')}) may not ${VERBS[name]} this incident: ${allowed.rule} may; ` +
    `allowed now: ${describeRoles(roles, allowed.roles)}`
  );
}
