/**
 * Runs one host command as an argument vector, never through a shell, so nothing in a unit name, path or
 * host name can be read as shell syntax. A configured prefix (["sudo","-n"], ["ssh", …, "pulse-host"]) is
 * put in front as argv elements too.
 *
 * Failures become ApplicationFailures with a stable type; callers that know which runbook step they serve
 * (restart, logs) re-type them. Output in evidence and errors is scrubbed of the given secrets and cut short.
 */
import { execa } from 'execa';
import { ApplicationFailure } from '@temporalio/common';
import type { Action } from '../runbook/evidence.js';
import { excerpt, MASK, scrub } from '../runbook/redact.js';

export interface CommandOptions {
  /** Put in front of argv, element by element. */
  prefix?: string[];
  cwd?: string;
  timeoutMs?: number;
  /** Added to the worker's environment. Note: `sudo` resets the environment unless told otherwise. */
  env?: Record<string, string>;
  /** Written to stdin; without it stdin is closed so `sudo -n` or `ssh` can never wait for a password. */
  input?: string;
  /** Strings that must never appear in evidence or errors (scrubbed from output excerpts and argv). */
  secrets?: string[];
  /** Terminates the command (SIGTERM) when aborted, e.g. the activity's cancellation signal. */
  signal?: AbortSignal;
  /** Largest output kept per stream, in bytes. */
  maxBuffer?: number;
}

export interface CommandResult {
  /** The full argv that ran, prefix included, with secrets masked. */
  argv: string[];
  exitCode: number;
  /** Complete output, for callers that parse it (log scans). Not redacted: do not put it in evidence. */
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Redacted, shortened output for evidence. */
  stdoutExcerpt: string;
  stderrExcerpt: string;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
const EXCERPT_CHARS = 800;

/** Prefix + argv, as one argv. Elements are copied, never joined. */
export function withPrefix(prefix: readonly string[] | undefined, argv: readonly string[]): string[] {
  return [...(prefix ?? []), ...argv];
}

/** Env var names whose values are treated as secrets in plans and evidence. */
const SECRET_ENV_NAME = /(token|secret|pass|key|auth|cookie|credential)/i;

function maskEnv(env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_ENV_NAME.test(k) ? MASK : v]));
}

function secretsOf(options: CommandOptions): string[] {
  const fromEnv = Object.entries(options.env ?? {})
    .filter(([k]) => SECRET_ENV_NAME.test(k))
    .map(([, v]) => v);
  return [...(options.secrets ?? []), ...fromEnv];
}

/** The Action a plan shows for this command: exactly what runCommand would execute. */
export function describeCommand(argv: readonly string[], options: CommandOptions = {}): Extract<Action, { kind: 'command' }> {
  const secrets = secretsOf(options);
  const action: Extract<Action, { kind: 'command' }> = {
    kind: 'command',
    argv: withPrefix(options.prefix, argv).map((a) => scrub(a, secrets)),
    timeoutMs: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
  if (options.cwd) action.cwd = options.cwd;
  const env = maskEnv(options.env);
  if (env && Object.keys(env).length > 0) action.env = env;
  return action;
}

/**
 * Runs argv (with the prefix) and resolves when it exits 0. Any other outcome throws an ApplicationFailure:
 * - 'CommandFailed'    non-zero exit or killed by a signal; details carry exitCode/signal and output excerpts
 * - 'CommandTimedOut'  the timeout passed (the process is killed); retryable
 * - 'CommandNotFound'  the program does not exist (ENOENT); non-retryable
 * - 'CommandCanceled'  the signal was aborted
 */
export async function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const full = withPrefix(options.prefix, argv);
  const secrets = secretsOf(options);
  const shownArgv = full.map((a) => scrub(a, secrets));
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const [file, ...args] = full;
  if (!file) {
    throw ApplicationFailure.create({
      type: 'InvalidHostConfig',
      message: 'Cannot run an empty command: give at least the program name',
      nonRetryable: true,
    });
  }

  const result = await execa(file, args, {
    reject: false,
    shell: false,
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    timeout: timeoutMs,
    cancelSignal: options.signal,
    // A command that ignores SIGTERM is killed 5 s later, so the timeout is a real upper bound.
    forceKillAfterDelay: 5_000,
    maxBuffer: options.maxBuffer ?? 50 * 1024 * 1024,
    encoding: 'utf8',
    stripFinalNewline: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });

  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  const stdoutExcerpt = excerpt(scrub(stdout, secrets), EXCERPT_CHARS);
  const stderrExcerpt = excerpt(scrub(stderr, secrets), EXCERPT_CHARS);
  const shown = shownArgv.join(' ');

  if (!result.failed && result.exitCode === 0) {
    return { argv: shownArgv, exitCode: 0, stdout, stderr, durationMs: result.durationMs, stdoutExcerpt, stderrExcerpt };
  }

  const details = {
    argv: shownArgv,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    stdoutExcerpt,
    stderrExcerpt,
  };
  const output = stderrExcerpt || stdoutExcerpt;

  if (result.code === 'ENOENT' || (result.exitCode === undefined && /ENOENT/.test(result.message ?? ''))) {
    throw ApplicationFailure.create({
      type: 'CommandNotFound',
      message: `Cannot run ${shown}: program "${scrub(file, secrets)}" was not found; install it or give its absolute path`,
      nonRetryable: true,
      details: [details],
    });
  }
  if (result.timedOut) {
    throw ApplicationFailure.create({
      type: 'CommandTimedOut',
      message: `${shown} did not finish within ${timeoutMs} ms and was killed${output ? `; output: ${output}` : ''}`,
      nonRetryable: false,
      details: [details],
    });
  }
  if (result.isCanceled) {
    throw ApplicationFailure.create({
      type: 'CommandCanceled',
      message: `${shown} was canceled`,
      nonRetryable: true,
      details: [details],
    });
  }
  const how = result.exitCode !== undefined ? `exit code ${result.exitCode}` : `signal ${result.signal ?? 'unknown'}`;
  throw ApplicationFailure.create({
    type: 'CommandFailed',
    message: `${shown} failed with ${how}${output ? `: ${output}` : ''}`,
    nonRetryable: false,
    details: [details],
  });
}
