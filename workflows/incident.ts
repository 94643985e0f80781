/**
 * An incident (runbook "Ownership and Escalation Routing" and "Incident Severity and Response") as a workflow
 * that lives until a person resolves it.
 *
 * - escalation.1: the severity is classified from the runbook's impact words (or set by a person, with a reason).
 * - escalation.2: ownership is routed by the ownership table; P1 pages Pulse Operations and notifies Security
 *   Response Owner + Engineering at once; a durable timer escalates to the escalation owner when the response
 *   target is missed (P1: containment not started in 15 min; P2: mitigation not active in 1 h; P3/P4: unresolved
 *   by the next business day of the configured calendar). Escalating hands ownership to the escalation owner.
 * - escalation.3: an incident opened by a procedure (workflows/support/incident-link.ts) records that run.
 *
 * People act through updates that carry their identity (acknowledge, startResponse, classify, handoff,
 * recordAction, resolve); validators refuse bad input naming the field, and every accepted update is recorded
 * with who and when (workflow time). Containment can run the Kill-Switch or Disable workflow as a child.
 * The record is the `record` query and the result; severity, owner and status are search attributes and a short
 * summary is the run's current details, so the Temporal UI shows the incident.
 */
import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as notifyActivities from '../activities/incident-notify.js';
import {
  IncidentInputSchema,
  ProcedureOutcomeSchema,
  type IncidentInput,
  type IncidentInputRaw,
  type IncidentUpdateName,
} from '../src/config/incident.js';
import {
  applyAcknowledge,
  applyClassify,
  applyEscalation,
  applyHandoff,
  applyProcedureOutcome,
  applyRecordAction,
  applyResolve,
  applySourceProcedure,
  applyStartResponse,
  armTimer,
  checkUpdate,
  compactResult,
  openRecord,
  settleTimer,
  timerConditionMet,
  type UpdateInputs,
} from '../src/incident/record.js';
import { INCIDENT_FAILURE_TYPES } from '../src/incident/failure-types.js';
import { renderIncidentDetails } from '../src/incident/report.js';
import { sanitizeText } from '../src/incident/sanitize.js';
import type { IncidentAction, IncidentNotification, IncidentRecord } from '../src/incident/types.js';
import type { Evidence } from '../src/runbook/evidence.js';
import { keywordAttributes } from '../src/temporal/search-attributes.js';
import { activityOptions } from './support/activity-options.js';
import { EvidenceLog } from './support/evidence-log.js';
import {
  CONTAINMENT_PROCEDURES,
  INCIDENT_MEMO_KEY,
  LINKED_PROCEDURE_WORKFLOWS,
  acknowledgeUpdate,
  classifyUpdate,
  handoffUpdate,
  incidentRecordQuery,
  procedureOutcomeSignal,
  recordActionUpdate,
  resolveUpdate,
  startResponseUpdate,
} from './incident.messages.js';
import { parseWorkflowInput } from './support/parse-input.js';

export type { IncidentRecord } from '../src/incident/types.js';

/** What every update answers: the time it was applied and the incident's state after it. */
export interface UpdateReceipt {
  at: string;
  status: IncidentRecord['status'];
  severity: IncidentRecord['severity'];
  owner: IncidentRecord['owner'];
  /** The action an update recorded (startResponse, recordAction). */
  actionIndex?: number;
  /** The child workflow a containment started. */
  childWorkflowId?: string;
}

export interface IncidentResult {
  procedure: 'incident';
  plan: boolean;
  startedAt: string;
  finishedAt: string;
  evidence: Evidence[];
  incident: IncidentRecord;
}

export async function incident(rawInput: IncidentInputRaw): Promise<IncidentResult> {
  const input: IncidentInput = parseWorkflowInput(IncidentInputSchema, rawInput, 'incident', INCIDENT_FAILURE_TYPES.invalidInput);
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const log = new EvidenceLog('incident', input.plan);
  const record = openRecord(info.workflowId, input, Date.now());
  const background: Array<Promise<void>> = [];
  const notifier = proxyActivities<typeof notifyActivities>(
    activityOptions(input.notify.retry, Math.ceil(input.notify.timeoutMs / 1000) + 5),
  );
  setHandler(incidentRecordQuery, () => record);

  // --- visibility: search attributes (only when they change: each upsert is a history event), memo, details
  let published = '';
  const publish = () => {
    const attributes = {
      RunbookProcedure: 'incident',
      RunbookStatus: input.plan ? 'planned' : record.status,
      IncidentSeverity: record.severity,
      IncidentOwner: record.owner,
    };
    const key = JSON.stringify(attributes);
    if (key !== published) {
      published = key;
      upsertSearchAttributes(keywordAttributes(attributes));
      upsertMemo({ incident: { title: record.title, severity: record.severity, owner: record.owner, status: record.status } });
    }
    setCurrentDetails(renderIncidentDetails(record));
  };

  // --- notifications: recorded at once; delivered in the background so a slow webhook never delays a timer
  const deliver = (n: IncidentNotification) => {
    for (const target of input.notify.webhooks) {
      if (input.plan) {
        n.deliveries.push({ target: target.name, status: 'planned', at: n.at });
        continue;
      }
      const message = {
        incidentId: record.id,
        title: record.title,
        severity: record.severity,
        owner: record.owner,
        status: record.status,
        kind: n.kind,
        to: n.to,
        reason: n.reason,
        at: n.at,
      };
      background.push(
        notifier.notifyIncidentWebhook({ target, message, timeoutMs: input.notify.timeoutMs }).then(
          (r) => void n.deliveries.push({ target: target.name, status: 'sent', at: new Date().toISOString(), httpStatus: r.httpStatus }),
          (err: unknown) =>
            void n.deliveries.push({
              target: target.name,
              status: 'failed',
              at: new Date().toISOString(),
              error: sanitizeText(failureMessage(err)),
            }),
        ),
      );
    }
  };

  // --- escalation.1 / escalation.3 / escalation.2 at opening
  const first = record.severityHistory[0];
  log.note(
    'escalation.1',
    'ok',
    `Classified ${record.severity} by ${first.source === 'rules' ? `the rules: ${first.reason}` : `${first.by}: ${first.reason}`}.`,
    {
      severity: record.severity,
      impacts: first.impacts,
    },
  );
  if (record.source) {
    applySourceProcedure(record, Date.now());
    log.note('escalation.3', 'ok', `Incident record opened for the ${record.source.procedure} run ${record.source.workflowId}.`, {
      ...record.source,
    });
  }
  let timer = armTimer(record, input, Date.now());
  log.note(
    'escalation.2',
    input.plan ? 'planned' : 'ok',
    `Owner ${record.owner} (escalation owner ${record.escalationOwner}); ${record.notifications.map((n) => `${n.kind} ${n.to}`).join(', ')}; ${timer.rule}: deadline ${timer.deadline}.`,
    { owner: record.owner, escalationOwner: record.escalationOwner, deadline: timer.deadline },
  );
  for (const n of record.notifications) deliver(n);
  publish();

  /** The run's result once it has finished (its record and every step's evidence). */
  const finished = (plan: boolean): IncidentResult => ({
    procedure: 'incident',
    plan,
    startedAt,
    finishedAt: new Date().toISOString(),
    evidence: log.progress.evidence,
    incident: record,
  });

  if (input.plan) {
    log.finish('completed');
    return finished(true);
  }

  // --- updates: validators refuse bad input (naming the field) and updates the state does not allow
  let generation = 0; // bumped when the severity changes: the main loop re-arms the timer
  const receipt = (extra: Partial<UpdateReceipt> = {}): UpdateReceipt => ({
    at: new Date().toISOString(),
    status: record.status,
    severity: record.severity,
    owner: record.owner,
    ...extra,
  });
  const validator = (name: IncidentUpdateName) => (raw: unknown) => void checkUpdate(record, name, raw);
  const handle =
    <N extends IncidentUpdateName>(name: N, apply: (input: UpdateInputs[N]) => Partial<UpdateReceipt> | void) =>
    (raw: unknown): UpdateReceipt => {
      const extra = apply(checkUpdate(record, name, raw)) ?? {};
      publish();
      return receipt(extra);
    };

  setHandler(
    acknowledgeUpdate,
    handle('acknowledge', (i) => applyAcknowledge(record, i, Date.now())),
    { validator: validator('acknowledge') },
  );
  setHandler(
    classifyUpdate,
    handle('classify', (i) => {
      const { changed, notifications } = applyClassify(record, i, Date.now());
      log.note(
        'escalation.1',
        'human',
        `${i.actor} set the severity to ${i.severity}${changed ? '' : ' (unchanged)'}: ${sanitizeText(i.reason)}.`,
        { severity: i.severity },
      );
      notifications.forEach(deliver);
      if (changed) generation++;
    }),
    { validator: validator('classify') },
  );
  setHandler(
    handoffUpdate,
    handle('handoff', (i) => {
      const from = record.owner;
      applyHandoff(record, i, Date.now());
      log.note('escalation.2', 'human', `${record.handoffs.at(-1)!.by} handed the incident from ${from} to ${record.owner}.`);
    }),
    { validator: validator('handoff') },
  );
  setHandler(
    recordActionUpdate,
    handle('recordAction', (i) => ({ actionIndex: applyRecordAction(record, i, Date.now()).index })),
    {
      validator: validator('recordAction'),
    },
  );
  setHandler(
    resolveUpdate,
    handle('resolve', (i) => {
      applyResolve(record, i, Date.now());
      log.note('escalation.2', 'human', `Resolved by ${record.resolution!.by}; final resolution owner ${record.resolution!.finalOwner}.`);
    }),
    { validator: validator('resolve') },
  );
  setHandler(procedureOutcomeSignal, (raw: unknown) => {
    const parsed = ProcedureOutcomeSchema.safeParse(raw);
    if (!parsed.success) return; // only the procedure's own workflow sends it; a malformed one changes nothing
    const action = applyProcedureOutcome(record, parsed.data, Date.now(), LINKED_PROCEDURE_WORKFLOWS);
    if (!action?.child) return;
    const { status, failedStep, outcome, leftToDo } = action.child;
    log.note(
      'escalation.3',
      status === 'failed' ? 'failed' : 'ok',
      `The ${action.child.procedure} run ${action.child.workflowId} that opened this record ${status}${failedStep ? ` at ${failedStep}` : ''}: ${outcome}${leftToDo?.length ? `. Left to do: ${leftToDo.join('; ')}` : ''}.`,
      { workflowId: action.child.workflowId, status },
    );
    publish();
  });
  setHandler(
    startResponseUpdate,
    async (raw: unknown): Promise<UpdateReceipt> => {
      const i = checkUpdate(record, 'startResponse', raw);
      const action = applyStartResponse(record, i, Date.now());
      publish();
      if (!i.procedure) return receipt({ actionIndex: action.index });
      const childWorkflowId = await startContainment(action, i.procedure.name, i.procedure.input);
      publish();
      return receipt({ actionIndex: action.index, childWorkflowId });
    },
    { validator: validator('startResponse') },
  );

  /**
   * Runs a containment procedure as a child. ABANDON (close policy and cancellation): a kill-switch or disable
   * that is half done is worse than one that finishes after the incident's run was terminated or cancelled.
   * The memo tells the child it belongs to this incident, so it does not open another one.
   */
  async function startContainment(
    action: IncidentAction,
    procedure: keyof typeof CONTAINMENT_PROCEDURES,
    childInput: unknown,
  ): Promise<string> {
    const spec = CONTAINMENT_PROCEDURES[procedure];
    const workflowId = `${record.id}.${procedure}-${action.index + 1}`;
    action.child = { procedure, workflowType: spec.workflowType, workflowId, status: 'running' };
    try {
      const child = await startChild(spec.workflowType, {
        workflowId,
        args: [childInput],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        memo: { [INCIDENT_MEMO_KEY]: record.id },
        staticSummary: `${procedure} as ${action.kind} of incident ${record.id} (${record.severity})`,
      });
      action.child.runId = child.firstExecutionRunId;
      background.push(
        child.result().then(
          (result: unknown) => {
            const compact = compactResult(result);
            Object.assign(action.child!, {
              status: 'completed',
              finishedAt: new Date().toISOString(),
              outcome: compact.outcome,
              result: compact.result,
            });
            publish();
          },
          (err: unknown) => {
            Object.assign(action.child!, {
              status: 'failed',
              finishedAt: new Date().toISOString(),
              outcome: sanitizeText(failureMessage(err)),
            });
            publish();
          },
        ),
      );
    } catch (err) {
      Object.assign(action.child, {
        status: 'failed',
        finishedAt: new Date().toISOString(),
        outcome: `could not start: ${sanitizeText(failureMessage(err))}`,
      });
    }
    return workflowId;
  }

  // --- the main loop: wait for the timer's condition, a severity change or the resolution
  while (!record.resolution) {
    const seen = generation;
    if (timer.outcome === 'pending') {
      const remaining = Date.parse(timer.deadline) - Date.now();
      const current = timer;
      const settled = await condition(
        () => record.resolution !== undefined || generation !== seen || timerConditionMet(record, current),
        Math.max(remaining, 1),
      );
      if (generation !== seen) {
        timer = armTimer(record, input, Date.now());
        log.note('escalation.2', 'ok', `Severity now ${record.severity}: ${timer.rule}: deadline ${timer.deadline}.`, {
          deadline: timer.deadline,
        });
        publish();
      } else if (settled) {
        settleTimer(current, 'met', Date.now());
      } else {
        const n = applyEscalation(record, current, Date.now());
        log.note('escalation.2', 'failed', `Response target missed: ${n.reason}.`, { escalatedTo: n.to, deadline: current.deadline });
        deliver(n);
        publish();
      }
    } else {
      await condition(() => record.resolution !== undefined || generation !== seen);
      if (generation !== seen) {
        timer = armTimer(record, input, Date.now());
        log.note('escalation.2', 'ok', `Severity now ${record.severity}: ${timer.rule}: deadline ${timer.deadline}.`, {
          deadline: timer.deadline,
        });
        publish();
      }
    }
  }

  // Let running update handlers, child procedures and deliveries finish, so the result holds their outcome.
  await condition(allHandlersFinished);
  while (background.length > 0) await Promise.all(background.splice(0));
  log.finish('completed');
  publish();
  return finished(false);
}

function failureMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; cause?: { message?: string } } };
  const inner = e?.cause?.cause?.message ?? e?.cause?.message;
  return inner && inner !== e.message ? `${e.message}: ${inner}` : (e?.message ?? String(err));
}
