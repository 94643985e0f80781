/**
 * What a secret looks like, and hiding it in text commander echoes. Free of zod on purpose: the CLI's entry point
 * (src/cli/main.ts) needs hideEchoedValues for every parse, and loading zod costs ~0.1 s of a ~0.2 s start-up.
 */

// One definition of what a secret looks like (src/runbook/redact.ts, which loads nothing either).
import { looksLikeSecret } from '../runbook/redact.js';

export { looksLikeSecret };

/**
 * Hides `--flag=value` values in text commander echoes (an unknown option, a bad choice), and any run that looks
 * like a secret: a person who typed `--token=<secret>` must not see it printed back into a terminal log.
 */
export function hideEchoedValues(text: string): string {
  return text
    .replace(/(?<![\w-])(--?[A-Za-z][\w-]*)=("[^"]*"|'[^']*'|[^\s'"]+)/g, '$1=<hidden>')
    .replace(/[A-Za-z0-9+/=_.:-]{16,}/g, (run) => (looksLikeSecret(run) && !/^--/.test(run) ? '<hidden>' : run));
}
