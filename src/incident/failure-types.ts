/**
 * The failure types of the incident workflow: a refused input or update. Stable, so callers (the CLI, tests, parent
 * workflows) decide on the type, never on the message.
 *
 * Imported by workflow code: pure data.
 */
export const INCIDENT_FAILURE_TYPES = {
  invalidInput: 'InvalidIncidentInput',
  invalidUpdate: 'InvalidIncidentUpdate',
  refusedUpdate: 'IncidentUpdateRefused',
  /** The actor is not in the incident's roles, or their role may not do this (src/incident/roles.ts). */
  actorNotAllowed: 'IncidentActorNotAllowed',
} as const;
