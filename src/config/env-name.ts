/**
 * The name of an environment variable that holds a secret (a Pulse token, a TrueNAS API key, a webhook URL).
 *
 * People paste the secret itself where its name belongs (`--token-env 3f9a…`). A name check that only asks for
 * "letters, digits and _" lets most tokens through (64 hex characters are such a string), and the value then
 * travels into workflow input, failure messages and logs as a "name". So a name is refused when it looks like a
 * secret, and the refusal never repeats the value: it says what kind of thing was given and what to give.
 */
import { z } from 'zod';
import { looksLikeSecret } from '../runbook/redact.js';

/** Letters, digits and underscore, not starting with a digit (POSIX's portable names, any case). */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME = 128;

/**
 * Why `value` is not a usable env var name, or undefined when it is. The text never contains the value.
 * `example` is a good name for this secret (PULSE_TOKEN); `what` names the secret ("the Pulse API token").
 */
export function envNameProblem(value: string, example: string, what: string): string | undefined {
  if (looksLikeSecret(value)) {
    return (
      `looks like ${what} itself, not the name of a variable (the value is not repeated here): give the NAME of the ` +
      `environment variable that holds it on the worker's host, e.g. export ${example}=… there and pass ${example}; ` +
      'if you pasted the secret into a shell, remove it from the shell history'
    );
  }
  if (value.length === 0) return `must be an environment variable name such as ${example}`;
  if (value.length > MAX_NAME) return `must be an environment variable name of at most ${MAX_NAME} characters, such as ${example}`;
  if (!ENV_NAME_PATTERN.test(value)) {
    return `must be an environment variable name (letters, digits and _, not starting with a digit) such as ${example}`;
  }
  return undefined;
}

/** A zod schema for such a name: the one check every input (flag, config file, workflow input) goes through. */
export function envNameSchema(example: string, what: string) {
  return z.string().superRefine((value, ctx) => {
    const problem = envNameProblem(value, example, what);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}
