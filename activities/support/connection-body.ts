/**
 * The body of a new TrueNAS connection, read on the worker's host from the references the input names (an env var
 * or a file for the API key, or a JSON body file), so the key never passes through workflow history. Messages say
 * where a secret was looked for, never what it is. Not an activity, so activities/index.ts does not export it.
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ConnectionSpec, SecretRef } from '../../src/config/enable.js';
import { connectionWarnings, ENABLE_FAILURES } from '../../src/config/enable.js';
import type { TrueNASConnection } from '../../src/pulse/types.js';

function secretUnavailable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ENABLE_FAILURES.secretUnavailable, message, nonRetryable: true });
}

/** Reads the TrueNAS API key from where the reference points. Messages say where, never what. */
async function readSecret(ref: SecretRef, what: string): Promise<string> {
  let raw: string | undefined;
  let where: string;
  if (ref.env) {
    where = `the environment variable ${ref.env}`;
    raw = process.env[ref.env];
    if (raw === undefined) {
      throw secretUnavailable(
        `${what}: ${where} is not set on the worker's host; export it in the worker's environment or use {"file": "/path/to/key"}`,
      );
    }
  } else {
    where = `the file ${ref.file}`;
    try {
      raw = await readFile(ref.file as string, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw secretUnavailable(
        `${what}: ${where} cannot be read (${code ?? 'error'}); write the key to it (one line, mode 0600) on the worker's host`,
      );
    }
  }
  const value = raw.trim();
  if (!value) throw secretUnavailable(`${what}: ${where} is empty; put the TrueNAS API key there`);
  if (/\s/.test(value)) throw secretUnavailable(`${what}: ${where} holds whitespace or several lines; it must hold the key alone`);
  return value;
}

export interface ResolvedBody {
  /** The request body, secret included. Never put it in evidence: plan/describe functions mask it. */
  body: Record<string, unknown>;
  secrets: string[];
  warnings: string[];
}

/** The body Pulse gets, read from the references on this host; `id` makes a retried add recognisable. */
export async function resolveBody(spec: ConnectionSpec, id: string): Promise<ResolvedBody> {
  let body: Record<string, unknown>;
  if ('bodyFile' in spec) {
    let text: string;
    try {
      text = await readFile(spec.bodyFile, 'utf8');
    } catch (err) {
      throw secretUnavailable(
        `connection.bodyFile ${spec.bodyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}) on the worker's host`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text around the error, which may be the key: never pass it on.
      throw ApplicationFailure.create({
        type: ENABLE_FAILURES.connectionInvalid,
        message: `connection.bodyFile ${spec.bodyFile} is not valid JSON`,
        nonRetryable: true,
      });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw ApplicationFailure.create({
        type: ENABLE_FAILURES.connectionInvalid,
        message: `connection.bodyFile ${spec.bodyFile} must hold one JSON object such as {"name":"nas-1","host":"https://truenas.local","api_key":"…"}`,
        nonRetryable: true,
      });
    }
    body = { ...(parsed as Record<string, unknown>) };
    if (body.enabled === false) {
      throw ApplicationFailure.create({
        type: ENABLE_FAILURES.connectionInvalid,
        message: `connection.bodyFile ${spec.bodyFile} sets "enabled": false: Pulse's poller skips disabled connections, so the Enable procedure cannot verify it; remove the field or set it to true`,
        nonRetryable: true,
      });
    }
    if (typeof body.id !== 'string' || !body.id.trim()) body.id = id;
  } else {
    const { apiKey, ...fields } = spec;
    body = { id, ...fields, apiKey: await readSecret(apiKey, 'connection.apiKey') };
  }
  const secrets = [body.apiKey, body.api_key, body.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const host = typeof body.host === 'string' ? body.host : '';
  const port = typeof body.port === 'number' ? body.port : undefined;
  return { body, secrets, warnings: connectionWarnings({ host, port }) };
}

/** An enabled stored connection to the same host and port (and name, when the body names one). */
export function sameEndpoint(c: TrueNASConnection, body: Record<string, unknown>): boolean {
  const norm = (h: unknown) => (typeof h === 'string' ? h.trim().toLowerCase().replace(/\/+$/, '') : '');
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  return (
    c.enabled !== false &&
    norm(c.host) === norm(body.host) &&
    (c.port ?? 0) === (typeof body.port === 'number' ? body.port : 0) &&
    (name === '' || (c.name ?? '') === name)
  );
}
