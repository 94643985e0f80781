/**
 * `--incident-roles-file` of the procedures that open an incident record when started on their own (Kill-Switch,
 * Code Rollback; runbook escalation step 3): the same roles file as `incident open --roles-file`, and the same env
 * default, so a team's policy covers the record from its first minute.
 */
import type { Command } from 'commander';
import type { IncidentLinkSettings } from '../config/incident-people.js';
import { ROLES_FILE_ENV, rolesFromFlags } from './incident.js';

export const INCIDENT_ROLES_FLAG = '--incident-roles-file';

export function addIncidentRolesFlag(cmd: Command): Command {
  return cmd.option(
    `${INCIDENT_ROLES_FLAG} <path>`,
    `JSON of role -> names: who may act on the incident record this run opens (or ${ROLES_FILE_ENV}); default: anyone may`,
  );
}

/** The input's `incident` field from the flag or the env var; undefined when neither is set. Checked by the input schema. */
export function incidentLinkFromFlags(flags: { incidentRolesFile?: string }): IncidentLinkSettings | undefined {
  const roles = rolesFromFlags(flags.incidentRolesFile ?? (process.env[ROLES_FILE_ENV] || undefined), undefined, INCIDENT_ROLES_FLAG);
  return roles ? { roles: roles as IncidentLinkSettings['roles'] } : undefined;
}
