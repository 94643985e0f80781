/**
 * Who acts, as every update payload and input names it. The CLI fills it from src/identity: a verified token's
 * subject, else the OS user, or `--actor` (refused under a token policy when it differs from the token). The workflow
 * records it as sent: what the name proves depends on how it was determined (`actorSource`) and on who may reach the
 * Temporal frontend at all (docs/identity.md).
 *
 * Imported by workflow code and the input schemas of src/config: zod only.
 */
import { z } from 'zod';
import { ACTOR_SOURCES } from './sources.js';

const WHO = 'who acts (the CLI fills it from the OS user, the identity token or --actor)';

export const ActorSchema = z
  .string({ error: (issue) => (issue.input === undefined ? `required: ${WHO}` : undefined) })
  .trim()
  .min(1, `must not be empty: say ${WHO}`)
  .max(100, 'must be at most 100 characters')
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

export type Actor = z.infer<typeof ActorSchema>;

/** How the CLI determined the actor: `token`, `os-user`, or `claimed` (src/identity/sources.ts). */
export const ActorSourceSchema = z.enum(ACTOR_SOURCES, { error: () => `must be one of ${ACTOR_SOURCES.join(', ')}` });
