/**
 * The incident workflow's contract: its type name, the record query, the updates a person sends, the signal a
 * procedure sends when it ends, and how its runs are named and marked (id prefix, memo keys). The CLI, tests and the
 * procedures that open or belong to a record use these objects, never the names; renaming one breaks the build.
 * The names are the ones saved histories and running workflows carry: never change them.
 *
 * Imported by clients and workflow code: @temporalio/workflow's definitions, types and constants only.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { IncidentUpdateName, LinkedProcedure } from '../src/config/incident.js';
import type { IncidentRecord } from '../src/incident/types.js';
import { CODE_ROLLBACK_WORKFLOW } from './code-rollback.messages.js';
import { DISABLE_WORKFLOW } from './disable.messages.js';
import type * as bundle from './index.js';
import type { UpdateReceipt } from './incident.js';
import { KILL_SWITCH_WORKFLOW } from './kill-switch.messages.js';

export const INCIDENT_WORKFLOW = 'incident' satisfies keyof typeof bundle;
export type IncidentWorkflow = (typeof bundle)[typeof INCIDENT_WORKFLOW];

export const incidentRecordQuery = defineQuery<IncidentRecord>('record');

// Payloads are `unknown` on purpose: the validators parse them with the zod schemas in src/config/incident.ts.
export const acknowledgeUpdate = defineUpdate<UpdateReceipt, [unknown]>('acknowledge');
export const startResponseUpdate = defineUpdate<UpdateReceipt, [unknown]>('startResponse');
export const classifyUpdate = defineUpdate<UpdateReceipt, [unknown]>('classify');
export const handoffUpdate = defineUpdate<UpdateReceipt, [unknown]>('handoff');
export const recordActionUpdate = defineUpdate<UpdateReceipt, [unknown]>('recordAction');
export const resolveUpdate = defineUpdate<UpdateReceipt, [unknown]>('resolve');

/** Every update by the name of its payload schema (src/config/incident.ts UPDATE_SCHEMAS): one for each. */
export const INCIDENT_UPDATES = {
  acknowledge: acknowledgeUpdate,
  startResponse: startResponseUpdate,
  classify: classifyUpdate,
  handoff: handoffUpdate,
  recordAction: recordActionUpdate,
  resolve: resolveUpdate,
} as const satisfies Record<IncidentUpdateName, UpdateDefinition<UpdateReceipt, [unknown]>>;

/** Sent by the Kill-Switch or Code Rollback that opened this record, when it ends (workflows/support/incident-link.ts). */
export const procedureOutcomeSignal = defineSignal<[unknown]>('procedureOutcome');

/** The procedures an incident can run as its containment, as child workflows. */
export const CONTAINMENT_PROCEDURES = {
  'kill-switch': { workflowType: KILL_SWITCH_WORKFLOW, runbookSection: '## 3) Kill-Switch' },
  disable: { workflowType: DISABLE_WORKFLOW, runbookSection: '## 2) Disable Path' },
} as const;
export type ContainmentProcedure = keyof typeof CONTAINMENT_PROCEDURES;

/** The workflow of each procedure that opens a record of its own when started alone (runbook escalation step 3). */
export const LINKED_PROCEDURE_WORKFLOWS = {
  'kill-switch': KILL_SWITCH_WORKFLOW,
  'code-rollback': CODE_ROLLBACK_WORKFLOW,
} as const satisfies Record<LinkedProcedure, string>;

/** Prefix of every incident workflow id, so the CLI and the UI can tell incidents apart. */
export const INCIDENT_ID_PREFIX = 'incident-';
/** Memo key set on the child workflows an incident starts, so a procedure knows it already belongs to one. */
export const INCIDENT_MEMO_KEY = 'pulseIncidentId';
/**
 * Memo key: the id of the incident record a procedure run opens (escalation.3), chosen by whoever started it.
 * The CLI sets it because its procedure runs share one workflow id per Pulse (src/cli/target-lock.ts), so
 * `incident-for-<workflowId>` would name every run's record alike; without it that id is used, as before.
 */
export const OPENS_INCIDENT_MEMO_KEY = 'pulseOpensIncidentId';
