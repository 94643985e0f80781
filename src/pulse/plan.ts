/**
 * Plan mode: the exact HTTP action each client method would take, with secrets masked. The client builds
 * its requests from the same paths and input preparation, so the plan cannot drift from the behaviour.
 * Pure: no token, no network.
 */
import type { Action } from '../runbook/evidence.js';
import { redact } from '../runbook/redact.js';
import { prepareNewConnection, prepareOverrides } from './input.js';
import { PULSE_PATHS, assertConnectionId, connectionPath, connectionTestPath, truenasResourcesPath, type ResourcesPath } from './paths.js';
import type { HttpMethod } from './transport.js';

export type HttpAction = Extract<Action, { kind: 'http' }>;

/** One request as an Action: full URL, body redacted. */
export function planPulseRequest(baseUrl: string, method: HttpMethod, path: string, body?: unknown, expect?: string): HttpAction {
  const action: HttpAction = { kind: 'http', method, url: `${baseUrl.replace(/\/+$/, '')}${path}` };
  if (body !== undefined) action.body = redact(body);
  if (expect) action.expect = expect;
  return action;
}

export function describeHealth(baseUrl: string): HttpAction {
  return planPulseRequest(baseUrl, 'GET', PULSE_PATHS.health, undefined, '200 when Pulse is up');
}

export function describeSecurityStatus(baseUrl: string): HttpAction {
  return planPulseRequest(baseUrl, 'GET', PULSE_PATHS.securityStatus, undefined, '200 {hasAuthentication, apiTokenConfigured, …} (public)');
}

export function describeListConnections(baseUrl: string): HttpAction {
  return planPulseRequest(
    baseUrl,
    'GET',
    PULSE_PATHS.connections,
    undefined,
    '200 JSON array of connections ([] when none); 404 truenas_disabled when the flag is off',
  );
}

export function describeAddConnection(baseUrl: string, input: unknown): HttpAction {
  const { body } = prepareNewConnection(input, 'POST', PULSE_PATHS.connections);
  return planPulseRequest(baseUrl, 'POST', PULSE_PATHS.connections, body, '201 the created connection, apiKey masked');
}

export function describeDeleteConnection(baseUrl: string, id: string): HttpAction {
  const path = connectionPath(assertConnectionId(id, 'DELETE', `${PULSE_PATHS.connections}/${String(id)}`));
  return planPulseRequest(baseUrl, 'DELETE', path, undefined, '200 {"success":true,"id":…}; 404 truenas_not_found means already gone');
}

export function describeTestConnection(baseUrl: string, input: unknown): HttpAction {
  const { body } = prepareNewConnection(input, 'POST', PULSE_PATHS.testConnection);
  return planPulseRequest(
    baseUrl,
    'POST',
    PULSE_PATHS.testConnection,
    body,
    '200 {"success":true}; 400 truenas_connection_failed with details.error otherwise',
  );
}

export function describeTestConnectionById(baseUrl: string, id: string, overrides?: unknown): HttpAction {
  const path = connectionTestPath(assertConnectionId(id, 'POST', `${PULSE_PATHS.connections}/${String(id)}/test`));
  const { body } = prepareOverrides(overrides, 'POST', path);
  return planPulseRequest(
    baseUrl,
    'POST',
    path,
    body ?? {},
    '200 {"success":true} (v6, 2026-03-30+); 405 on Feb and v6-rel, where the body test is used instead',
  );
}

/** GET /api/state: what the web UI loads; it makes a headless v6 Pulse refresh its resource store (§10). */
export function describeRefreshState(baseUrl: string): HttpAction {
  return planPulseRequest(
    baseUrl,
    'GET',
    PULSE_PATHS.state,
    undefined,
    '200 (body discarded): the frontend state is built, which refreshes the resource store',
  );
}

export function describeListTrueNASResources(baseUrl: string, resourcesPath: ResourcesPath = PULSE_PATHS.resourcesV2): HttpAction {
  const fallback = resourcesPath === PULSE_PATHS.resourcesV2 ? `; on 404 (v6) the same query on ${PULSE_PATHS.resources}` : '';
  return planPulseRequest(
    baseUrl,
    'GET',
    truenasResourcesPath(resourcesPath, 1),
    undefined,
    `200 {data, meta}; pages 2..meta.totalPages are fetched too${fallback}`,
  );
}

/** The read-only probes detectCapabilities sends (the per-id test targets a random id, so nothing is tested). */
export function describeDetectCapabilities(baseUrl: string): HttpAction[] {
  return [
    describeSecurityStatus(baseUrl),
    describeListConnections(baseUrl),
    planPulseRequest(baseUrl, 'GET', `${PULSE_PATHS.resourcesV2}?source=truenas&limit=1`, undefined, '200 {data, meta} on Feb; 404 on v6'),
    planPulseRequest(
      baseUrl,
      'POST',
      `${PULSE_PATHS.connections}/<random-uuid>/test`,
      {},
      '405 when the per-id test is absent; 404 truenas_not_found when it exists',
    ),
  ];
}
