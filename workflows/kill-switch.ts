/**
 * Runbook §3, Kill-Switch: immediate deactivation without a restart.
 * Deletes every TrueNAS connection, waits for Pulse's poller tick (syncConnections drops the providers),
 * verifies the list is empty, then watches the resources until the TrueNAS source is stale or gone.
 * Follows Pulse where the runbook is wrong (pulse-api.md §8): a 404 truenas_not_found on delete means the
 * connection is already gone; in Feb Pulse the resources vanish instead of turning stale.
 *
 * Started on its own (not as an incident's containment) and not as a plan, it first opens the run's incident
 * record (runbook escalation step 3, workflows/support/incident-link.ts), so the record exists even when a
 * later step fails.
 */
import { ApplicationFailure, patched, sleep } from '@temporalio/workflow';
import type * as pulseActivities from '../activities/pulse-api.js';
import { KillSwitchInputSchema, type KillSwitchInput, type KillSwitchInputRaw } from '../src/config/kill-switch.js';
import type { StepId } from '../src/runbook/steps.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';
import { activityOptions } from './support/activity-options.js';
import { assertDecodable, parseWorkflowInput } from './support/parse-input.js';
import { linkIncidentRecord, reportFailureToIncident, reportOutcomeToIncident, stepsLeft } from './support/incident-link.js';
import { runProcedure, type ProcedureDefinition, type ProcedureResultBase } from './support/procedure.js';
import { pulseReadActivitySeconds } from './support/pulse-activity-timeout.js';
import { untilObserved } from './support/until-observed.js';

/**
 * Runs recorded before this patch took their input as given (a raw start without tickSeconds slept NaN) and their
 * activities the default 60 s timeout; from it on the input is checked by its schema (defaults filled, bad input
 * refused) and the timeout follows the Pulse request timeout like Enable's and Disable's.
 */
export const KILL_SWITCH_PARSES_INPUT = 'kill-switch-parses-input';

const killSwitchDefinition: ProcedureDefinition<KillSwitchInput, 'kill-switch'> = {
  procedure: 'kill-switch',
  parse: (raw) => {
    // A run whose input this worker could not decrypt fails here, clearly and at once (no command is issued).
    assertDecodable(raw, 'kill-switch');
    if (!patched(KILL_SWITCH_PARSES_INPUT)) return raw as KillSwitchInput;
    return parseWorkflowInput(KillSwitchInputSchema, raw, 'kill-switch', FAILURE_TYPES.invalidKillSwitchInput);
  },
};

export interface KillSwitchResult extends ProcedureResultBase<'kill-switch'> {
  deleted: string[];
  alreadyGone: string[];
  /** What the last resource check saw: TrueNAS resources that were still online, stale ones, and the total. */
  finalResources?: { total: number; online: number; stale: number };
  /** The incident record of this run: opened by it (escalation.3), or the incident that started it. */
  incidentId?: string;
}

export async function killSwitch(raw: KillSwitchInputRaw): Promise<KillSwitchResult> {
  return runProcedure(killSwitchDefinition, raw, ({ input, log, base, target }) => {
    // Each call's summary in the Web UI names the runbook step it belongs to.
    // (patched() answers as it did when parse() asked it: the same patch decides both.)
    const timeout = patched(KILL_SWITCH_PARSES_INPUT) ? pulseReadActivitySeconds(input.pulse.timeoutMs) : undefined;
    const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry, timeout));
    const result: KillSwitchResult = {
      ...base,
      deleted: [],
      alreadyGone: [],
    };

    const steps = async () => {
      // Escalation step 3, before anything changes: a kill-switch is itself an incident (behind a patch, so runs
      // recorded before it replay).
      const incidentId = await linkIncidentRecord(log, 'kill-switch', {
        plan: input.plan,
        incident: input.incident,
        summary: `Kill-Switch started on its own against ${input.pulse.url}: every TrueNAS connection is deleted without a restart (runbook §3), so TrueNAS monitoring stops until connections are added again.`,
      });
      if (incidentId) result.incidentId = incidentId;

      // Step 1: list the connection ids.
      log.begin('kill-switch.1');
      const listed = await pulse.listConnections({ ...target, step: 'kill-switch.1' });
      if (listed.line) target.line = listed.line;
      log.add(listed.evidence);
      const { ids, disabled } = listed.value;

      // Step 2: delete each one; one activity per id, so a retry repeats only the delete that failed.
      log.begin('kill-switch.2');
      if (disabled) {
        log.note(
          'kill-switch.2',
          'skipped',
          'The TrueNAS integration is disabled (404 truenas_disabled): there are no connections to delete.',
        );
      } else if (ids.length === 0) {
        log.note('kill-switch.2', 'ok', 'No TrueNAS connections are configured: nothing to delete.');
      }
      for (const id of disabled ? [] : ids) {
        const outcome = await pulse.deleteConnection({ ...target, id, step: 'kill-switch.2' });
        log.add(outcome.evidence);
        if (outcome.value.outcome === 'deleted') result.deleted.push(id);
        if (outcome.value.outcome === 'already-gone') result.alreadyGone.push(id);
      }

      // Step 3: Pulse's poller reloads truenas.enc once per tick; nothing in its API says when that happened,
      // so the runbook's wait is a durable timer of one tick.
      log.begin('kill-switch.3', `the next poller tick (${input.tickSeconds} s)`);
      const tickAction = {
        kind: 'wait' as const,
        seconds: input.tickSeconds,
        reason: 'syncConnections() drops removed connections on the next tick',
      };
      if (input.plan || disabled) {
        log.note(
          'kill-switch.3',
          input.plan ? 'planned' : 'skipped',
          disabled
            ? 'The poller does not run while the integration is disabled.'
            : `Would wait ${input.tickSeconds} s for the poller tick.`,
          undefined,
          [tickAction],
        );
      } else {
        await sleep(input.tickSeconds * 1000, log.timer());
        log.note('kill-switch.3', 'ok', `Waited ${input.tickSeconds} s for the poller tick.`, undefined, [tickAction]);
      }

      // Step 4: verify no configured connection remains.
      log.begin('kill-switch.4');
      if (disabled) {
        log.note('kill-switch.4', 'skipped', 'The connections endpoint answers 404 truenas_disabled while the integration is off.');
      } else {
        const remaining = await pulse.verifyNoConnections({ ...target, step: 'kill-switch.4' });
        log.add(remaining.evidence);
      }

      // Step 5: watch the resources until every TrueNAS resource is stale or gone, reading them every
      // verifyEverySeconds, for at most the staleness window; finish as soon as it is observed.
      log.begin('kill-switch.5', `TrueNAS resources to turn stale or vanish (up to ${input.staleThresholdSeconds} s)`);
      const check = () =>
        pulse.checkTrueNASResources({
          ...target,
          step: 'kill-switch.5',
          staleThresholdSeconds: input.staleThresholdSeconds,
          expect: 'stale-or-gone',
        });
      if (input.plan) {
        const planned = await check();
        log.add(planned.evidence);
      } else {
        const watched = await untilObserved({
          check,
          done: (o) => o.value.online === 0,
          everySeconds: input.verifyEverySeconds,
          withinSeconds: input.staleThresholdSeconds,
          timer: log.pollTimer(input.verifyEverySeconds),
        });
        log.add(watched.last.evidence);
        result.finalResources = { total: watched.last.value.total, online: watched.last.value.online, stale: watched.last.value.stale };
        if (!watched.observed) {
          throw ApplicationFailure.nonRetryable(
            `${watched.last.value.online} TrueNAS resource(s) were still online ${input.staleThresholdSeconds} s after the connections were removed`,
            FAILURE_TYPES.truenasStillOnline,
          );
        }
      }

      // Step 6: the kill-switch only calls Pulse's API; the evidence above is the proof.
      log.begin('kill-switch.6');
      const calls = log.progress.evidence.flatMap((e) => e.actions ?? []);
      const hostActions = calls.filter((a) => a.kind === 'command' || a.kind === 'file');
      log.note(
        'kill-switch.6',
        hostActions.length === 0 ? 'ok' : 'failed',
        hostActions.length === 0
          ? `${input.plan ? 'Would need' : 'Needed'} no restart and no env change: only Pulse API calls (${calls.filter((a) => a.kind === 'http').length}) and waits.`
          : `Unexpected host actions: ${hostActions.length}`,
      );

      await reportOutcomeToIncident(log, result.incidentId, {
        status: 'completed',
        message: `deleted ${result.deleted.length} connection(s) (${result.alreadyGone.length} already gone); ${result.finalResources ? `${result.finalResources.online} TrueNAS resource(s) still online` : 'no resource check'}`,
        leftToDo: stepsLeft('kill-switch', log.progress.evidence),
      });
    };

    /** A run that failed at a step tells its incident record how it ended. */
    const onFailure = async (err: unknown, failedStep: StepId | undefined) => {
      if (failedStep) await reportFailureToIncident(log, result.incidentId, 'kill-switch', err, failedStep);
      return err;
    };
    return { result, steps, onFailure };
  });
}
