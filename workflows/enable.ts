/**
 * Runbook §1, Enable: flag on where the service reads it, restart, verify the connections API answers an array,
 * add a connection the way Pulse really takes it (apiKey, enabled: true), test it, verify the poller works on it,
 * and verify TrueNAS resources appear (all pages).
 *
 * Where it follows Pulse rather than the runbook's text (pulse-api.md §8): the flag is written to the env file /
 * drop-in / container env (a shell export never reaches a service); the runbook's api_key is sent as apiKey; the
 * per-id test is used where Pulse has it, else the body test; and "poller started" is never grepped for (no
 * Pulse logs it). The poller is verified after the connection is added, because an idle poller changes nothing
 * that can be seen: that is why enable.4's evidence comes after enable.6's.
 *
 * The new connection's id is chosen here (uuid4 is replay-safe) and sent in the POST, so a retried add finds its
 * own connection instead of adding a duplicate (Pulse has no uniqueness check). The API key stays a reference.
 */
import { ApplicationFailure, CancellationScope, uuid4 } from '@temporalio/workflow';
import type * as pulseActivities from '../activities/pulse-api.js';
import type { LogMark } from '../activities/logs.js';
import { EnableInputSchema, ENABLE_FAILURES, type EnableInputRaw } from '../src/config/enable.js';
import type { StepId } from '../src/runbook/steps.js';
import { activityOptions } from './support/activity-options.js';
import { failureType, setFlagAndRestart } from './support/flag-restart.js';
import { procedureDefinition, runProcedure, type ProcedureResultBase } from './support/procedure.js';
import { pulseReadActivitySeconds } from './support/pulse-activity-timeout.js';
import { logActivitiesFor, readPulseLogs } from './support/read-pulse-logs.js';
import { describeStepFailure } from './support/record-failure.js';
import { undoEnable, undoText, type EnableChanges } from './support/undo-enable.js';
import { untilObserved } from './support/until-observed.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';

export interface EnableResult extends ProcedureResultBase<'enable'> {
  flag?: { kind: string; path: string; changed: boolean; valueBefore: string | null; valueAfter: string | null };
  /** Whether this run restarted Pulse (false when the flag and Pulse already agreed, and in plan mode). */
  restarted: boolean;
  connection?: { id: string; outcome: string; testedWith?: string };
  /** What showed the poller at work: v6 poll state, resources, or its log lines. */
  poller?: { signal: string };
  resources?: { total: number; online: number; stale: number; offline: number };
  warnings: string[];
}

/** What the failure of an Enable run carries besides its message: what was undone and what is left. */
export interface EnableFailureDetails {
  failedStep?: string;
  undone: string[];
  left: string[];
}

const enableDefinition = procedureDefinition('enable', EnableInputSchema, 'InvalidEnableInput');

export async function enable(raw: EnableInputRaw): Promise<EnableResult> {
  return runProcedure(enableDefinition, raw, ({ input, log, base, target }) => {
    // Several requests per activity (pages, list + POST): room for a few slow answers at the configured timeout.
    // Each call's summary in the Web UI names the runbook step it belongs to.
    const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry, pulseReadActivitySeconds(input.pulse.timeoutMs)));
    const logs = logActivitiesFor(log, input.retry);
    const result: EnableResult = {
      ...base,
      restarted: false,
      warnings: [],
    };
    const changes: EnableChanges = { restarted: false };

    const steps = async () => {
      // Prerequisite 1: Pulse answers, and how: whether TrueNAS is on decides if a restart is needed at all.
      log.begin('prereq.1');
      const before = await pulse.verifyConnectionsEndpoint({ ...target, step: 'prereq.1', expect: 'report' });
      if (before.line) target.line = before.line;
      log.add(before.evidence);

      // Where "since the change" begins for the poller's log lines (enable.4).
      const mark: LogMark = (await logs.markLogPosition({ plan: input.plan, source: input.logs, step: 'enable.4' })).value;

      // Steps 1 and 2.
      const applied = await setFlagAndRestart(log, input, {
        flagStep: 'enable.1',
        restartStep: 'enable.2',
        value: 'true',
        desired: 'enabled',
        current: before.value.state,
        onWritten: (flag) => {
          if (!input.plan) changes.flag = flag;
        },
      }).catch((err: unknown) => {
        // A failed restart command already put the file back (or says why it could not): nothing left to undo there.
        if (failureType(err) === FAILURE_TYPES.restartFailed) changes.flag = undefined;
        throw err;
      });
      changes.restarted = applied.restarted;
      const { kind, path, changed, valueBefore, valueAfter } = applied.flag;
      result.flag = { kind, path, changed, valueBefore, valueAfter };
      result.restarted = applied.restarted;

      // Step 3: the connections endpoint must answer an array now.
      log.begin('enable.3');
      const endpoint = await pulse.verifyConnectionsEndpoint({ ...target, step: 'enable.3', expect: 'array' });
      log.add(endpoint.evidence);
      if (!input.plan && endpoint.value.state !== 'enabled') {
        throw ApplicationFailure.nonRetryable(
          `Pulse still answers 404 truenas_disabled after the restart: it did not read PULSE_ENABLE_TRUENAS=true from ${path} (${kind}). ` +
            'Check that the service reads that file (systemd EnvironmentFile=, compose env_file) and, for a container, that the restart re-creates it.',
          ENABLE_FAILURES.flagNotApplied,
        );
      }

      // Steps 5 and 6: add the connection (once), then test it.
      let watchId: string | undefined;
      if (input.connection) {
        log.begin('enable.5');
        const added = await pulse.addConnection({ ...target, step: 'enable.5', connection: input.connection, id: uuid4() });
        log.add(added.evidence);
        result.warnings.push(...added.value.warnings);
        result.connection = { id: added.value.id, outcome: added.value.outcome };
        watchId = added.value.id;
        if (added.value.outcome === 'added' || added.value.outcome === 'already-added') {
          changes.addedConnection = { id: added.value.id, host: added.value.host };
        }

        log.begin('enable.6', `Pulse to test connection ${watchId}`);
        const tested = await pulse.testConnection({ ...target, step: 'enable.6', id: watchId, connection: input.connection });
        log.add(tested.evidence);
        result.connection.testedWith = tested.value.method;
      } else {
        const skipped = 'No connection was given to this run (connection / --connection-host): none is added.';
        log.note('enable.5', input.plan ? 'planned' : 'skipped', skipped);
        log.note('enable.6', input.plan ? 'planned' : 'skipped', 'No connection was added, so none is tested.');
        watchId = endpoint.value.connections.find((c) => c.enabled !== false)?.id;
      }

      // Step 4: the poller, verified by what its work changes (see the activity), now that it has work.
      log.begin('enable.4', `the poller to poll ${watchId ?? 'a connection'} (up to ${input.appearWithinSeconds} s)`);
      const pollerLogs = {
        plan: input.plan,
        source: input.logs,
        step: 'enable.4' as const,
        mark,
        prefix: input.prefix,
        expect: 'poller-active' as const,
      };
      if (!watchId) {
        log.note(
          'enable.4',
          input.plan ? 'planned' : 'inconclusive',
          'No enabled connection is configured: an idle poller logs nothing and reports nothing, so it cannot be verified until a connection is added.',
        );
      } else if (input.plan) {
        log.add((await pulse.verifyPollerRuns({ ...target, step: 'enable.4', id: watchId })).evidence);
        await readPulseLogs(log, input.retry, pollerLogs);
      } else {
        const id = watchId;
        const watched = await untilObserved({
          check: () => pulse.verifyPollerRuns({ ...target, step: 'enable.4', id }),
          done: (o) => o.value.observed,
          everySeconds: input.verifyEverySeconds,
          withinSeconds: input.appearWithinSeconds,
          timer: log.pollTimer(input.verifyEverySeconds),
        });
        log.add(watched.last.evidence);
        const failure = watched.last.value.failure;
        if (watched.observed && failure) {
          // Pulse polled it and the poll failed: say so now, in Pulse's words, not as a missing resource later.
          throw ApplicationFailure.nonRetryable(
            `Pulse polled connection ${id} and the poll failed (category "${failure.category}"): ${failure.message}. This means ${failure.meaning}; ${failure.fix}.`,
            ENABLE_FAILURES.pollFailed,
          );
        }
        if (watched.observed) {
          result.poller = { signal: watched.last.value.signal };
        } else {
          // Last resort: a poller that runs but fails shows only in its log lines.
          const lines = await readPulseLogs(log, input.retry, pollerLogs);
          if (!lines || lines.value.total - lines.value.shutdown === 0) {
            throw ApplicationFailure.nonRetryable(
              `No sign of the TrueNAS poller within ${input.appearWithinSeconds} s: connection ${id} has no poll state, no TrueNAS resource is listed and no poller line was logged. ` +
                "Check that the connection is enabled and Pulse's logs for errors.",
              ENABLE_FAILURES.pollerNotObserved,
            );
          }
          result.poller = { signal: 'logs' };
        }
      }

      // Step 7: TrueNAS resources appear (every page of the unified resources).
      log.begin('enable.7', `TrueNAS resources to appear (up to ${input.appearWithinSeconds} s)`);
      const inspect = () => pulse.inspectTrueNASResources({ ...target, step: 'enable.7', staleThresholdSeconds: 120, expect: 'present' });
      if (input.plan) {
        log.add((await inspect()).evidence);
      } else if (!watchId) {
        log.note('enable.7', 'skipped', 'No connection is configured, so no TrueNAS resource can appear.');
      } else {
        const watched = await untilObserved({
          check: inspect,
          done: (o) => o.value.total > 0,
          everySeconds: input.verifyEverySeconds,
          withinSeconds: input.appearWithinSeconds,
          timer: log.pollTimer(input.verifyEverySeconds),
        });
        log.add(watched.last.evidence);
        const { total, online, stale, offline } = watched.last.value;
        result.resources = { total, online, stale, offline };
        if (!watched.observed) {
          throw ApplicationFailure.nonRetryable(
            `No TrueNAS resource appeared within ${input.appearWithinSeconds} s on ${watched.last.value.endpoint}` +
              (result.poller?.signal === 'logs' ? ': the poller runs but its polls fail (see its log lines under enable.4)' : ''),
            ENABLE_FAILURES.resourcesMissing,
          );
        }
      }
    };

    /** Even a cancelled run undoes its changes: the point is a known state. */
    const onFailure = async (err: unknown, failedStep: StepId | undefined) => {
      const undo = await CancellationScope.nonCancellable(() => undoEnable(log, input, changes));
      if (!undo) return err;
      // The failure names the step that failed and what the undo did, so the caller knows the state left behind.
      const { type, message } = describeStepFailure(err);
      const details: EnableFailureDetails = { ...(failedStep && { failedStep }), undone: undo.undone, left: undo.left };
      const undone = undoText(undo);
      return ApplicationFailure.create({
        type,
        message: undone ? `${message.replace(/[.\s]+$/, '')}. ${undone}` : message,
        nonRetryable: true,
        details: [details],
      });
    };
    return { result, steps, onFailure };
  });
}
