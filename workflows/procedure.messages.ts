/**
 * What every procedure answers, whichever it is: the `progress` query of its evidence log (steps done, the step under
 * way, evidence so far). Clients, tests and the evidence log use this definition, never the name.
 *
 * Imported by clients and workflow code: @temporalio/workflow's definitions and types only.
 */
import { defineQuery } from '@temporalio/workflow';
import type { Progress } from './support/evidence-log.js';

/** The name saved histories and running workflows carry: never change it. */
export const progressQuery = defineQuery<Progress>('progress');

/** A workflow type name the bundle registers (workflows/index.ts); each contract exports its own as a constant. */
export type WorkflowName = keyof typeof import('./index.js');
