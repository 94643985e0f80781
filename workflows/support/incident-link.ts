/**
 * Runbook escalation step 3: "If kill-switch or rollback is executed, open an incident record". A Kill-Switch or
 * Code Rollback started on its own calls `openIncidentForProcedure` near its start; it starts the incident
 * workflow as a child that outlives the procedure (ParentClosePolicy ABANDON) and returns its id.
 *
 * Deterministic and idempotent:
 * - the incident id is derived from the procedure's workflow id (`incident-for-<workflowId>`), so a replay, a
 *   retry of the run or a second call never opens a second incident (an already started child is reused);
 * - a procedure that an incident started as its containment (memo INCIDENT_MEMO_KEY) already belongs to that
 *   incident: nothing is opened and the existing id is returned.
 *
 * Callers add it behind `patched()` so histories recorded before it replay unchanged, e.g.:
 *   if (patched('open-incident-record')) log.add((await openIncidentForProcedure('kill-switch', summary)).evidence);
 */
import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { INCIDENT_ID_PREFIX, INCIDENT_MEMO_KEY, type IncidentInputRaw, type LinkedProcedure } from '../../src/config/incident.js';
import type { Evidence } from '../../src/runbook/evidence.js';

export interface IncidentLink {
  incidentId: string;
  /** false when the incident already existed or the run belongs to an incident already. */
  opened: boolean;
  /** escalation.3 evidence for the caller's EvidenceLog. */
  evidence: Evidence;
}

/** Defaults per procedure: the ownership table's row, and the runbook impact the procedure itself causes. */
const DEFAULTS: Record<LinkedProcedure, Pick<IncidentInputRaw, 'scope' | 'impacts'>> = {
  // Deleting every connection stops TrueNAS monitoring: a single-feature outage (P2) until a person says more.
  'kill-switch': { scope: 'switch-operations', impacts: ['single-feature-outage'] },
  // Reverting the TrueNAS range removes the feature: a single-feature outage, coordinated by Engineering.
  'code-rollback': { scope: 'code-rollback', impacts: ['single-feature-outage'] },
};

export function incidentIdFor(workflowId: string): string {
  return `${INCIDENT_ID_PREFIX}for-${workflowId}`;
}

/**
 * Opens (or finds) the incident record of the running procedure. `overrides` lets the caller pass what it knows
 * (severity with a reason, summary, notification webhooks, business calendar).
 */
export async function openIncidentForProcedure(
  procedure: LinkedProcedure,
  summary: string,
  overrides: Partial<Omit<IncidentInputRaw, 'source' | 'openedBy'>> = {},
): Promise<IncidentLink> {
  const info = workflowInfo();
  const at = new Date().toISOString();
  const owning = info.memo?.[INCIDENT_MEMO_KEY];
  if (typeof owning === 'string' && owning.length > 0) {
    return {
      incidentId: owning,
      opened: false,
      evidence: { step: 'escalation.3', at, verdict: 'ok', summary: `This ${procedure} run was started by incident ${owning}, which records it.`, details: { incidentId: owning } },
    };
  }
  const incidentId = incidentIdFor(info.workflowId);
  const input: IncidentInputRaw = {
    title: `${procedure} executed: ${info.workflowId}`,
    summary,
    ...DEFAULTS[procedure],
    ...overrides,
    openedBy: `workflow:${info.workflowType}`,
    source: { procedure, workflowId: info.workflowId, runId: info.runId },
  };
  let opened = true;
  try {
    await startChild('incident', {
      workflowId: incidentId,
      args: [input],
      // The record must outlive the procedure: it waits for people to hand off, act and resolve.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      staticSummary: `Incident record for ${procedure} run ${info.workflowId}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    opened = false;
  }
  return {
    incidentId,
    opened,
    evidence: {
      step: 'escalation.3',
      at,
      verdict: 'ok',
      summary: opened ? `Opened incident record ${incidentId} for this ${procedure} run.` : `The incident record ${incidentId} of this run already exists.`,
      details: { incidentId, opened },
    },
  };
}
