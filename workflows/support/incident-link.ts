/**
 * Runbook escalation step 3: "If kill-switch or rollback is executed, open an incident record". A Kill-Switch or
 * Code Rollback started on its own calls `linkIncidentRecord` before its first change; it starts the incident
 * workflow as a child that outlives the procedure (ParentClosePolicy ABANDON) and returns its id.
 *
 * Deterministic and idempotent:
 * - the incident id is derived from the procedure's workflow id (`incident-for-<workflowId>`), so a replay, a
 *   retry of the run or a second call never opens a second incident (an already started child is reused, and
 *   REJECT_DUPLICATE keeps a resolved record from being opened again by a late retry);
 * - a procedure that an incident started as its containment (memo INCIDENT_MEMO_KEY) already belongs to that
 *   incident: nothing is opened and the existing id is returned.
 *
 * `linkIncidentRecord` does the call behind `patched(INCIDENT_LINK_PATCH)`, so histories recorded before the
 * link existed (test/histories/kill-switch.json, code-rollback.json) replay unchanged.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { type Impact, type IncidentInputRaw, type LinkedProcedure, type ProcedureOutcome } from '../../src/config/incident.js';
import { classifySeverity, routeIncident } from '../../src/incident/rules.js';
import type { IncidentLinkSettings } from '../../src/config/incident-people.js';
import type { Evidence } from '../../src/runbook/evidence.js';
import { RUNBOOK_STEPS, type RunbookStep, type StepId } from '../../src/runbook/steps.js';
import {
  INCIDENT_ID_PREFIX,
  INCIDENT_MEMO_KEY,
  INCIDENT_WORKFLOW,
  OPENS_INCIDENT_MEMO_KEY,
  procedureOutcomeSignal,
  type IncidentWorkflow,
} from '../incident.messages.js';
import type { EvidenceLog } from './evidence-log.js';
import { describeStepFailure } from './record-failure.js';

/** The patch id of the incident link in Kill-Switch and Code Rollback (never rename: running histories carry it). */
export const INCIDENT_LINK_PATCH = 'open-incident-record';
/** The patch id of the outcome a procedure reports to the record it opened (never rename). */
export const INCIDENT_OUTCOME_PATCH = 'report-outcome-to-incident';

export interface IncidentLink {
  incidentId: string;
  /** false when the incident already existed or the run belongs to an incident already. */
  opened: boolean;
  /** true when an incident started this run as its containment (memo): that incident records the run. */
  containment?: boolean;
  /** escalation.3 evidence for the caller's EvidenceLog. */
  evidence: Evidence;
}

/** Defaults per procedure: the ownership table's row, and the runbook impact the procedure itself causes. */
const DEFAULTS: Record<LinkedProcedure, { scope: NonNullable<IncidentInputRaw['scope']>; impacts: Impact[] }> = {
  // Deleting every connection stops TrueNAS monitoring: a single-feature outage (P2) until a person says more.
  'kill-switch': { scope: 'switch-operations', impacts: ['single-feature-outage'] },
  // Reverting the TrueNAS range removes the feature: a single-feature outage, coordinated by Engineering.
  'code-rollback': { scope: 'code-rollback', impacts: ['single-feature-outage'] },
};

export function incidentIdFor(workflowId: string): string {
  return `${INCIDENT_ID_PREFIX}for-${workflowId}`;
}

/**
 * The incident id of the running procedure: the one its starter chose (memo OPENS_INCIDENT_MEMO_KEY, set by the
 * CLI, whose runs share a workflow id per Pulse), else `incident-for-<workflowId>`. Reading the memo issues no
 * command, and runs recorded without the memo get the id they always had.
 */
export function incidentIdOfRun(): string {
  const info = workflowInfo();
  const chosen = info.memo?.[OPENS_INCIDENT_MEMO_KEY];
  return typeof chosen === 'string' && chosen.startsWith(INCIDENT_ID_PREFIX) ? chosen : incidentIdFor(info.workflowId);
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
      containment: true,
      evidence: {
        step: 'escalation.3',
        at,
        verdict: 'ok',
        summary: `This ${procedure} run was started by incident ${owning}, which records it.`,
        details: { incidentId: owning },
      },
    };
  }
  const incidentId = incidentIdOfRun();
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
    await startChild<IncidentWorkflow>(INCIDENT_WORKFLOW, {
      workflowId: incidentId,
      args: [input],
      // The record must outlive the procedure: it waits for people to hand off, act and resolve.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      staticSummary: `Incident record for ${procedure} run ${info.workflowId}`,
      // A retry of the procedure after the incident was resolved finds the record, it does not open a new one.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
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
      summary: opened
        ? `Opened incident record ${incidentId} for this ${procedure} run.`
        : `The incident record ${incidentId} of this run already exists.`,
      details: { incidentId, opened },
    },
  };
}

/** What the incident of a run would be: its id, and the severity and owners the defaults give it. */
export function plannedIncident(
  procedure: LinkedProcedure,
  workflowId: string,
): { incidentId: string; severity: string; owner: string; escalationOwner: string } {
  const { scope, impacts } = DEFAULTS[procedure];
  const { severity } = classifySeverity(impacts);
  const { owner, escalationOwner } = routeIncident(scope, severity);
  return { incidentId: incidentIdFor(workflowId), severity, owner, escalationOwner };
}

/**
 * escalation.3 in a procedure, called before the procedure's first change: opens (or finds) the run's incident
 * record and records it in `log`. Returns the incident id, or undefined when there is none (a plan, a history
 * from before the link, or an incident that could not be opened).
 *
 * - Plan mode opens nothing and records, as 'planned' evidence, the incident the run would open.
 * - A run that an incident started as its containment adds no evidence: that incident records the run.
 * - If the record cannot be opened the procedure goes on (a Kill-Switch must never wait on bookkeeping): the
 *   step is recorded 'failed' with the command that opens the same record by hand.
 */
export async function linkIncidentRecord(
  log: EvidenceLog,
  procedure: LinkedProcedure,
  opts: { plan: boolean; summary: string; incident?: IncidentLinkSettings },
): Promise<string | undefined> {
  if (!patched(INCIDENT_LINK_PATCH)) return undefined;
  const info = workflowInfo();
  log.begin('escalation.3');
  if (opts.plan) {
    const owning = info.memo?.[INCIDENT_MEMO_KEY];
    if (typeof owning === 'string' && owning) {
      log.note('escalation.3', 'planned', `Would open no incident record: this run belongs to incident ${owning}.`, { incidentId: owning });
      return undefined;
    }
    const planned = plannedIncident(procedure, info.workflowId);
    const roles = opts.incident?.roles;
    const who = roles
      ? `, roles ${Object.entries(roles)
          .map(([role, names]) => `${role}: ${names?.join(', ')}`)
          .join('; ')}`
      : ', anyone may act';
    log.note(
      'escalation.3',
      'planned',
      `Would open incident record ${planned.incidentId} (${planned.severity}, owner ${planned.owner}, escalation ${planned.escalationOwner}${who}) when run for real; a plan opens none.`,
      { ...planned, ...(roles && { roles }) },
    );
    return undefined;
  }
  try {
    const roles = opts.incident?.roles;
    const link = await openIncidentForProcedure(procedure, opts.summary, roles ? { roles } : {});
    if (!link.containment) log.add(link.evidence);
    return link.incidentId;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const incidentId = incidentIdOfRun();
    const reason = err instanceof Error ? err.message : String(err);
    log.note(
      'escalation.3',
      'failed',
      `Could not open incident record ${incidentId} (${reason}); the ${procedure} goes on. Open it by hand: ` +
        `pulse-runbook incident open --id ${incidentId.slice(INCIDENT_ID_PREFIX.length)} --scope ${DEFAULTS[procedure].scope} --impact ${DEFAULTS[procedure].impacts.join(' --impact ')} --title "${procedure} executed: ${info.workflowId}"`,
      { incidentId },
    );
    return undefined;
  }
}

/**
 * The runbook steps of a procedure (`prefix`, e.g. "rollback") that a person still has to do: every step after
 * the last one that completed, that no evidence shows done, and every human step. "rollback.5: Verify …".
 */
export function stepsLeft(prefix: string, evidence: readonly Evidence[]): string[] {
  const ids = (Object.keys(RUNBOOK_STEPS) as StepId[]).filter((id) => id.slice(0, id.lastIndexOf('.')) === prefix);
  const done = new Set(evidence.filter((e) => e.verdict === 'ok' || e.verdict === 'skipped').map((e) => e.step));
  const failed = new Set(evidence.filter((e) => e.verdict === 'failed' || e.verdict === 'inconclusive').map((e) => e.step));
  return ids
    .filter((id) => (RUNBOOK_STEPS[id] as RunbookStep).kind === 'human' || failed.has(id) || !done.has(id))
    .map((id) => `${id}: ${RUNBOOK_STEPS[id].title}`);
}

/**
 * Tells the incident record this run opened how the run ended (`procedureOutcome` signal), so the record never
 * hides a failure behind "mitigating". Nothing is sent for a plan, a run an incident started as its containment
 * (that incident records its child's result itself) or a run without a record. A record that is already closed
 * cannot take the signal: that is noted, and the procedure's own result stands.
 */
export async function reportOutcomeToIncident(
  log: EvidenceLog,
  incidentId: string | undefined,
  outcome: Omit<ProcedureOutcome, 'workflowId'>,
): Promise<void> {
  if (!incidentId || !patched(INCIDENT_OUTCOME_PATCH)) return;
  const info = workflowInfo();
  const owning = info.memo?.[INCIDENT_MEMO_KEY];
  if (typeof owning === 'string' && owning.length > 0) return;
  try {
    await getExternalWorkflowHandle(incidentId).signal(procedureOutcomeSignal, { ...outcome, workflowId: info.workflowId });
    log.note(
      'escalation.3',
      'ok',
      `Told incident record ${incidentId} that this run ${outcome.status}${outcome.leftToDo.length ? `; left to do: ${outcome.leftToDo.join('; ')}` : ''}.`,
      { incidentId },
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.note(
      'escalation.3',
      'failed',
      `Could not tell incident record ${incidentId} how this run ended (${err instanceof Error ? err.message : String(err)}); record it there by hand.`,
      { incidentId },
    );
  }
}

/**
 * A failed run tells its incident record where it stopped and why (the failure's type and message), and what is left
 * of the procedure's steps (`prefix`). Even a cancelled run does: the record must not show it still running.
 */
export async function reportFailureToIncident(
  log: EvidenceLog,
  incidentId: string | undefined,
  prefix: string,
  err: unknown,
  failedStep: StepId | undefined,
): Promise<void> {
  const { type, message } = describeStepFailure(err);
  await CancellationScope.nonCancellable(() =>
    reportOutcomeToIncident(log, incidentId, {
      status: 'failed',
      message: `${type ? `${type}: ` : ''}${message}`,
      ...(failedStep && { failedStep }),
      leftToDo: stepsLeft(prefix, log.progress.evidence),
    }),
  );
}
