/**
 * The Pulse routes the runbook uses, in one place, and the guard on connection ids that keeps a DELETE from
 * landing on a different route.
 */
import { PulseValidationError } from './errors.js';

export const PULSE_PATHS = {
  health: '/api/health',
  securityStatus: '/api/security/status',
  connections: '/api/truenas/connections',
  testConnection: '/api/truenas/connections/test',
  resourcesV2: '/api/v2/resources',
  resources: '/api/resources',
  /** What the web UI loads: building it is what refreshes v6's resource store (pulse-api.md §10). */
  state: '/api/state',
} as const;

/** Pulse caps `limit` at 100 (§3.1); asking for the maximum keeps the number of pages low. */
export const RESOURCES_PAGE_LIMIT = 100;

export type ResourcesPath = typeof PULSE_PATHS.resourcesV2 | typeof PULSE_PATHS.resources;

export function connectionPath(id: string): string {
  return `${PULSE_PATHS.connections}/${encodeURIComponent(id)}`;
}

export function connectionTestPath(id: string): string {
  return `${connectionPath(id)}/test`;
}

export function truenasResourcesPath(base: ResourcesPath, page: number, limit = RESOURCES_PAGE_LIMIT): string {
  return `${base}?source=truenas&limit=${limit}&page=${page}`;
}

/**
 * Refuses ids Pulse would refuse (empty, containing '/': 400 missing_connection_id) and ids that URL
 * normalisation would turn into another route ('.', '..'), before any request is made.
 */
export function assertConnectionId(id: unknown, method: string, pathForError: string): string {
  const problem =
    typeof id !== 'string'
      ? 'the connection id must be a string'
      : !id.trim()
        ? 'the connection id is empty'
        : id.includes('/')
          ? `the connection id "${id}" contains "/"`
          : id === '.' || id === '..'
            ? `the connection id "${id}" would address another route`
            : undefined;
  if (problem) {
    throw new PulseValidationError(
      `${method} ${pathForError} refused before sending: ${problem}; use an id from GET ${PULSE_PATHS.connections}.`,
      { method, path: pathForError, code: 'missing_connection_id' },
    );
  }
  return id as string;
}
