/**
 * Secrets of the alerting side (a Prometheus bearer token, a webhook URL that embeds its key, a webhook bearer
 * token, a PagerDuty routing key) travel by reference only: the name of an env var or a file path, resolved on
 * the worker's host by the activity that needs the value. Workflow history, CLI arguments and notification
 * payloads therefore never hold the value. Errors name where the secret was looked for, never the value.
 */
import { readFile } from 'node:fs/promises';
import { looksLikeSecret } from '../runbook/redact.js';

/** An env var's name or a file path; the input schemas (src/config) check that exactly one is given. */
export interface SecretRef {
  env?: string;
  file?: string;
}

export class SecretRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretRefError';
  }
}

/** Where a reference points, for messages and plans: "env:SLACK_URL" or "file:/etc/pulse/pd-key". */
export function describeSecretRef(ref: SecretRef): string {
  return ref.env ? `env:${safeEnvName(ref.env)}` : `file:${ref.file ?? '?'}`;
}

/** An env var's name as messages show it: hidden when it looks like a secret (someone gave the value as the name). */
export function safeEnvName(name: string): string {
  return looksLikeSecret(name) ? '<a name that looks like a secret, not shown>' : name;
}

/** Reads the value a reference points at; `what` names the secret in errors ("the Slack webhook URL"). */
export async function readSecretRef(ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let raw: string | undefined;
  if (ref.env) {
    raw = env[ref.env];
    if (raw === undefined)
      throw new SecretRefError(
        `${what}: the environment variable ${safeEnvName(ref.env)} is not set on the worker's host; export it there`,
      );
  } else if (ref.file) {
    try {
      raw = await readFile(ref.file, 'utf8');
    } catch (err) {
      throw new SecretRefError(
        `${what}: the file ${ref.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); write the value to it (one line, mode 0600)`,
      );
    }
  } else {
    throw new SecretRefError(`${what}: give either env or file`);
  }
  const value = raw.trim();
  if (!value) throw new SecretRefError(`${what}: ${describeSecretRef(ref)} is empty`);
  if (/\s/.test(value))
    throw new SecretRefError(`${what}: ${describeSecretRef(ref)} holds whitespace or several lines; it must hold the value alone`);
  return value;
}
