/**
 * Who takes part in an incident: the owners of the runbook's ownership table, the actor of an update, and the roles
 * that say who may act (src/incident/roles.ts has the policy). Apart from src/config/incident.ts so that procedure
 * inputs (Kill-Switch, Code Rollback) can carry the roles of the incident record they open without an import cycle.
 *
 * Imported by workflow code: no Node built-ins here (zod only).
 */
import { z } from 'zod';
import { ActorSchema } from '../identity/actor.js';

/** Error option of a field: "required: <what>" when it is missing, zod's own message otherwise. */
export const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined),
});

// Ownership table's owners (runbook "Owner routing")

export const OWNERS = ['Pulse Operations', 'Engineering', 'Security Response Owner'] as const;
export type Owner = (typeof OWNERS)[number];

/** Short names people type at a terminal; matched case-insensitively. */
export const OWNER_ALIASES: Record<string, Owner> = {
  'pulse operations': 'Pulse Operations',
  operations: 'Pulse Operations',
  ops: 'Pulse Operations',
  engineering: 'Engineering',
  eng: 'Engineering',
  'security response owner': 'Security Response Owner',
  security: 'Security Response Owner',
  sro: 'Security Response Owner',
};

// ---------------------------------------------------------------------------------------------------------------
// Incident roles: who may act on an incident (src/incident/roles.ts has the policy)

/** Not an owner of the ownership table: a person who coordinates any incident and may hand it off. */
export const INCIDENT_COMMANDER = 'incident-commander';
export const INCIDENT_ROLES = [...OWNERS, INCIDENT_COMMANDER] as const;
export type IncidentRole = (typeof INCIDENT_ROLES)[number];

const ROLE_ALIASES: Record<string, IncidentRole> = {
  ...OWNER_ALIASES,
  'incident-commander': INCIDENT_COMMANDER,
  'incident commander': INCIDENT_COMMANDER,
  commander: INCIDENT_COMMANDER,
  ic: INCIDENT_COMMANDER,
};
const ROLE_NAMES = 'Pulse Operations (ops), Engineering (eng), Security Response Owner (security), incident-commander (ic)';

const RoleMembersSchema = z
  .array(ActorSchema, { error: () => 'must be a list of names, e.g. ["olga", "omar"]' })
  .max(200, 'must list at most 200 names');

/**
 * Members per role, e.g. {"Pulse Operations": ["olga"], "Engineering": ["eli"], "incident-commander": ["ian"]}.
 * Absent (the default) means today's behaviour: anyone may act. Role names take the owner aliases (ops, eng,
 * security) and ic; a name may be in several roles.
 */
export const IncidentRolesSchema = z.preprocess(
  (v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, m]) => [ROLE_ALIASES[k.trim().toLowerCase()] ?? k, m]))
      : v,
  z
    .strictObject(
      {
        'Pulse Operations': RoleMembersSchema.optional(),
        Engineering: RoleMembersSchema.optional(),
        'Security Response Owner': RoleMembersSchema.optional(),
        [INCIDENT_COMMANDER]: RoleMembersSchema.optional(),
      },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown role ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; roles are ${ROLE_NAMES}`
            : issue.code === 'invalid_type'
              ? `must be an object of role -> names, e.g. {"Pulse Operations": ["olga"], "incident-commander": ["ian"]}`
              : undefined,
      },
    )
    .refine(
      (roles) => Object.values(roles).some((members) => (members?.length ?? 0) > 0),
      'must name at least one person in one role (or leave roles out: anyone may act)',
    ),
);

export type IncidentRoles = z.infer<typeof IncidentRolesSchema>;

/**
 * Settings of the incident record a Kill-Switch or Code Rollback started on its own opens (runbook escalation
 * step 3): the roles of that record, so the team's policy holds from its first minute. Without them anyone may act.
 */
export const IncidentLinkSettingsSchema = z.object({ roles: IncidentRolesSchema.optional() }).strict();
export type IncidentLinkSettings = z.infer<typeof IncidentLinkSettingsSchema>;
