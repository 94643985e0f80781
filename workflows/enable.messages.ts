/**
 * The Enable workflow's contract: its type name on the wire, typed as the function the bundle registers under it, so
 * a start or a child is checked against its input and result, and a rename breaks the build. Its progress query is
 * every procedure's (procedure.messages.ts). Imported by clients and parent workflows: types and constants only.
 */
import type * as bundle from './index.js';

/** The name saved histories and running workflows carry: never change it. */
export const ENABLE_WORKFLOW = 'enable' satisfies keyof typeof bundle;
export type EnableWorkflow = (typeof bundle)[typeof ENABLE_WORKFLOW];
