/**
 * Reads the Pulse API token from where the target points (an env var or a file on the worker's host).
 * The token travels by reference only; this is the one place that turns the reference into the value.
 * Errors say where the token was looked for and how to fix it, and never contain the value.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { TokenRef } from '../config/pulse-target.js';
import { PulseTokenError } from './errors.js';
import { looksLikeSecret } from '../runbook/redact.js';

/**
 * Returns the token, or undefined when no reference is given (Pulse with no auth configured is open
 * anonymously, pulse-api.md §1). `env` defaults to process.env; tests pass their own.
 */
export async function readPulseToken(ref?: TokenRef, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (!ref || (!ref.env && !ref.file)) return undefined;
  if (ref.env) return fromEnv(ref.env, env);
  return fromFile(ref.file as string);
}

function fromEnv(envName: string, env: NodeJS.ProcessEnv): string {
  // A "name" that looks like a token is one (pasted into --token-env): it is used but never shown.
  const name = looksLikeSecret(envName) ? '<a name that looks like a token, not shown>' : envName;
  const where = { method: 'TOKEN', path: `env:${name}` };
  const raw = env[envName];
  if (raw === undefined) {
    throw new PulseTokenError(
      `The Pulse token environment variable ${name} is not set on the worker's host (${hostname()}): the token is read ` +
        'by the worker that runs the procedure, not by the command that starts it, so an export in your shell does not reach it. ' +
        `Set ${name} in the worker's environment (systemd Environment=/EnvironmentFile=, compose environment:) and restart the worker, ` +
        'or write the token to a file the worker can read and start the procedure with --token-file <path>.',
      where,
    );
  }
  const value = raw.trim();
  if (!value) {
    throw new PulseTokenError(`The Pulse token environment variable ${name} is empty: set it to the API token.`, where);
  }
  assertOneToken(value, `the environment variable ${name}`, where);
  return value;
}

async function fromFile(path: string): Promise<string> {
  const where = { method: 'TOKEN', path };
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied for the worker user)'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be read (${code ?? 'unknown error'})`;
    throw new PulseTokenError(
      `The Pulse token file ${path} ${why} on the worker's host (${hostname()}): write the API token to it there (one line, mode 0600), readable by the worker's user, or give --token-file the path the worker sees.`,
      where,
    );
  }
  const value = raw.trim();
  if (!value) {
    throw new PulseTokenError(`The Pulse token file ${path} is empty: write the API token to it (one line).`, where);
  }
  assertOneToken(value, `the file ${path}`, where);
  return value;
}

/** A token never contains whitespace; several lines usually mean the wrong file was named. */
function assertOneToken(value: string, where: string, init: { method: string; path: string }): void {
  if (/\s/.test(value)) {
    throw new PulseTokenError(`The Pulse token in ${where} contains whitespace or several lines: it must hold the token alone.`, init);
  }
}
