/**
 * What a secret looks like, and hiding it in text commander echoes. Free of zod on purpose: the CLI's entry point
 * (src/cli/main.ts) needs hideEchoedValues for every parse, and loading zod costs ~0.1 s of a ~0.2 s start-up.
 */

/**
 * Whether a would-be name looks like a generated secret rather than a name people choose. Real names are
 * words joined by underscores (PULSE_TOKEN, TRUENAS_E2E_KEY_1A2B3C4D); tokens are one long run of random
 * characters. A run of 16+ characters without an underscore counts as random when it mixes letters and digits
 * (hex keys, base62 tokens) or when it is 24+ characters long; anything of 40+ characters counts too.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length >= 40) return true;
  return value.split(/[^A-Za-z0-9]+/).some((run) => {
    if (run.length < 16) return false;
    if (run.length >= 24) return true;
    const digits = /\d/.test(run);
    const letters = /[A-Za-z]/.test(run);
    return digits && letters;
  });
}

/**
 * Hides `--flag=value` values in text commander echoes (an unknown option, a bad choice), and any run that looks
 * like a secret: a person who typed `--token=<secret>` must not see it printed back into a terminal log.
 */
export function hideEchoedValues(text: string): string {
  return text
    .replace(/(?<![\w-])(--?[A-Za-z][\w-]*)=("[^"]*"|'[^']*'|[^\s'"]+)/g, '$1=<hidden>')
    .replace(/[A-Za-z0-9+/=_.:-]{16,}/g, (run) => (looksLikeSecret(run) && !/^--/.test(run) ? '<hidden>' : run));
}
