/**
 * Validation of request bodies at the edge, before anything is sent: a bad body becomes a
 * PulseValidationError naming each field (no HTTP status, code `client_validation`), and the translations
 * the runbook needs (§8.1) are reported as notes so evidence can say where the software follows Pulse.
 */
import type { z } from 'zod';
import { PulseValidationError } from './errors.js';
import { ConnectionOverridesSchema, NewConnectionSchema, type ConnectionOverrides, type NewConnection } from './types.js';

export interface PreparedBody<T> {
  body: T;
  /** Secrets in the body (apiKey, password), to scrub from errors. */
  secrets: string[];
  /** Translations applied, e.g. api_key → apiKey. */
  notes: string[];
}

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : '';
    const where = i.path.length ? i.path.join('.') : 'body';
    return `${where}: ${i.message}${keys}`;
  });
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, method: string, path: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = formatIssues(result.error.issues);
  throw new PulseValidationError(`${method} ${path} refused before sending: ${problems.join('; ')}`, {
    method,
    path,
    code: 'client_validation',
    details: { issues: problems },
  });
}

function apiKeyNotes(input: unknown): string[] {
  const raw = (input ?? {}) as Record<string, unknown>;
  return raw.api_key !== undefined && raw.apiKey === undefined
    ? ['api_key was sent as apiKey: Pulse ignores api_key and answers 400 (pulse-api.md §8.1)']
    : [];
}

function secretsOf(body: { apiKey?: string; password?: string }): string[] {
  return [body.apiKey, body.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** Body for POST /api/truenas/connections and POST /api/truenas/connections/test. */
export function prepareNewConnection(input: unknown, method: string, path: string): PreparedBody<NewConnection> {
  const body = parseOrThrow(NewConnectionSchema, input, method, path);
  const notes = apiKeyNotes(input);
  if ((input as Record<string, unknown>).enabled === undefined) {
    notes.push('enabled was set to true: Feb Pulse defaults it to false and the poller skips the connection (§8.1)');
  }
  return { body, secrets: secretsOf(body), notes };
}

/** Optional override body for POST /api/truenas/connections/{id}/test. */
export function prepareOverrides(input: unknown, method: string, path: string): PreparedBody<ConnectionOverrides | undefined> {
  if (input === undefined) return { body: undefined, secrets: [], notes: [] };
  const body = parseOrThrow(ConnectionOverridesSchema, input, method, path);
  return { body, secrets: secretsOf(body), notes: apiKeyNotes(input) };
}
