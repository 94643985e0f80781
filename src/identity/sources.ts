/**
 * How an actor's name was determined (src/identity/resolve.ts). Pure data, so workflow code and the zod schemas of
 * update payloads can import it.
 * - `token`: the subject of a signed identity token the CLI verified;
 * - `os-user`: the OS user of the CLI's process (proves only a local login);
 * - `claimed`: a name given with `--actor` where no token policy is configured (nothing checked it).
 */
export const ACTOR_SOURCES = ['os-user', 'token', 'claimed'] as const;
export type ActorSource = (typeof ACTOR_SOURCES)[number];
