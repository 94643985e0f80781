/**
 * Runbook §2, Disable: flag off where the service reads it, restart, verify the poller is off, wait the TrueNAS
 * staleness window on a durable timer, then verify the TrueNAS source went stale or its resources vanished.
 *
 * Where it follows Pulse rather than the runbook's text (pulse-api.md §5, §8):
 * - `false` is written explicitly by default: on v6 (2026-03-30+) an unset flag means ON.
 * - With the flag off the connections API answers 404 truenas_disabled (it does not "still respond"); the
 *   handlers and the poller share that gate, so this answer is the direct proof that the poller is off.
 * - "No poll activity" in the logs is read over the whole window after the restart (a check right after the
 *   restart would cover no tick at all); the read starts once the new process answers, so the old process's
 *   last lines do not count. Silence alone proves little (Feb logs nothing on success), so it only supports.
 * - On Feb the resources vanish instead of turning stale (§8.4); both end states pass.
 *
 * The window is measured from the moment the restarted Pulse answered healthy, and the resources are read as
 * soon as it ends: the run waits exactly the staleness window after the restart and no longer.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import type * as pulseActivities from '../activities/pulse-api.js';
import type { ResourceView } from '../activities/pulse-resources.js';
import { DisableInputSchema, DISABLE_FAILURES, type DisableInputRaw } from '../src/config/disable.js';
import { activityOptions } from './support/activity-options.js';
import { setFlagAndRestart } from './support/flag-restart.js';
import { procedureDefinition, runProcedure, type ProcedureResultBase } from './support/procedure.js';
import { pulseReadActivitySeconds } from './support/pulse-activity-timeout.js';
import { logActivitiesFor, readPulseLogs } from './support/read-pulse-logs.js';
import { untilObserved } from './support/until-observed.js';

export interface DisableResult extends ProcedureResultBase<'disable'> {
  flag?: { kind: string; path: string; changed: boolean; valueBefore: string | null; valueAfter: string | null };
  restarted: boolean;
  /** When the restarted Pulse answered healthy (the start of the staleness window). */
  restartedAt?: string;
  /** TrueNAS resources before anything changed. */
  before?: { total: number; online: number };
  /** What the last resource check saw, with each resource's status and TrueNAS source status. */
  finalResources?: { total: number; online: number; stale: number; offline: number; resources: ResourceView[] };
}

const disableDefinition = procedureDefinition('disable', DisableInputSchema, 'InvalidDisableInput');

export async function disable(raw: DisableInputRaw): Promise<DisableResult> {
  return runProcedure(disableDefinition, raw, ({ input, log, base, target }) => {
    // Several requests per activity (pages, list + POST): room for a few slow answers at the configured timeout.
    // Each call's summary in the Web UI names the runbook step it belongs to.
    const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry, pulseReadActivitySeconds(input.pulse.timeoutMs)));
    const logs = logActivitiesFor(log, input.retry);
    const stale = input.staleThresholdSeconds;
    const result: DisableResult = {
      ...base,
      restarted: false,
    };
    const inspect = (step: 'prereq.1' | 'disable.5', expect: 'report' | 'stale-or-gone') =>
      pulse.inspectTrueNASResources({ ...target, step, staleThresholdSeconds: stale, expect });

    const steps = async () => {
      // Prerequisite 1: Pulse answers; how it answers now, and what TrueNAS resources it lists before the change.
      log.begin('prereq.1');
      const before = await pulse.verifyConnectionsEndpoint({ ...target, step: 'prereq.1', expect: 'report' });
      if (before.line) target.line = before.line;
      log.add(before.evidence);
      const baseline = await inspect('prereq.1', 'report');
      log.add(baseline.evidence);
      result.before = { total: baseline.value.total, online: baseline.value.online };

      // Steps 1 and 2.
      const applied = await setFlagAndRestart(log, input, {
        flagStep: 'disable.1',
        restartStep: 'disable.2',
        value: input.flagValue === 'unset' ? null : 'false',
        desired: 'disabled',
        current: before.value.state,
      });
      const { kind, path, changed, valueBefore, valueAfter } = applied.flag;
      result.flag = { kind, path, changed, valueBefore, valueAfter };
      result.restarted = applied.restarted;
      if (applied.restartedAt !== undefined) result.restartedAt = new Date(applied.restartedAt).toISOString();

      // Step 3, first half: the API answers 404 truenas_disabled (the same gate as the poller's Start()).
      log.begin('disable.3');
      const mark = (await logs.markLogPosition({ plan: input.plan, source: input.logs, step: 'disable.3' })).value;
      const endpoint = await pulse.verifyConnectionsEndpoint({ ...target, step: 'disable.3', expect: 'disabled' });
      log.add(endpoint.evidence);
      if (!input.plan && endpoint.value.state !== 'disabled') {
        const why =
          input.flagValue === 'unset'
            ? 'the flag was removed, and on v6 (2026-03-30+) an unset PULSE_ENABLE_TRUENAS means ON: run again with flagValue false (--flag-value false)'
            : `Pulse did not read PULSE_ENABLE_TRUENAS=false from ${path} (${kind}); check that the service reads that file and, for a container, that the restart re-creates it`;
        throw ApplicationFailure.nonRetryable(
          `The TrueNAS connections API still answers an array after the restart: ${why}.`,
          DISABLE_FAILURES.flagNotApplied,
        );
      }

      // Step 4: the staleness window, on a durable timer that starts when the restarted Pulse answered.
      log.begin('disable.4', `the ${stale} s TrueNAS staleness window after the restart`);
      const waitAction = {
        kind: 'wait' as const,
        seconds: stale,
        reason: `Pulse marks the TrueNAS source stale ${stale} s after its last poll (registry.go defaultStaleThresholds)`,
      };
      let alreadyDone = false;
      if (input.plan) {
        log.note('disable.4', 'planned', `Would wait ${stale} s after the restart on a durable timer.`, undefined, [waitAction]);
      } else if (applied.restartedAt === undefined) {
        // No restart was needed: Pulse was off before this run began, possibly long ago. Look before waiting.
        const now = await inspect('disable.5', 'stale-or-gone');
        alreadyDone = now.value.online === 0;
        if (alreadyDone) {
          log.note(
            'disable.4',
            'skipped',
            'Pulse was already disabled before this run and no TrueNAS resource reports fresh data: there is no window left to wait.',
          );
        } else {
          await sleep(stale * 1000, log.timer());
          log.note(
            'disable.4',
            'ok',
            `Pulse was already disabled, but resources still looked fresh: waited the full ${stale} s.`,
            undefined,
            [waitAction],
          );
        }
      } else {
        const remainingMs = stale * 1000 - (Date.now() - applied.restartedAt);
        if (remainingMs > 0) await sleep(remainingMs, log.timer());
        log.note(
          'disable.4',
          'ok',
          `Waited until ${stale} s after the restarted Pulse answered (${result.restartedAt}).`,
          { restartedAt: result.restartedAt, windowSeconds: stale },
          [waitAction],
        );
      }

      // Step 3, second half: no poll activity in Pulse's logs over that window.
      const silence = await readPulseLogs(log, input.retry, {
        plan: input.plan,
        source: input.logs,
        step: 'disable.3',
        mark,
        prefix: input.prefix,
        expect: 'poller-silent',
      });
      if (silence && silence.evidence.verdict === 'failed') {
        throw ApplicationFailure.nonRetryable(
          `${silence.evidence.summary}; the disabled Pulse should not poll TrueNAS at all`,
          DISABLE_FAILURES.pollerStillActive,
        );
      }

      // Step 5: the TrueNAS source is stale or its resources are gone; watched for the grace period at most.
      log.begin(
        'disable.5',
        `TrueNAS resources to be stale or gone${input.graceSeconds > 0 ? ` (up to ${input.graceSeconds} s more)` : ''}`,
      );
      if (input.plan) {
        log.add((await inspect('disable.5', 'stale-or-gone')).evidence);
      } else {
        const watched = await untilObserved({
          check: () => inspect('disable.5', 'stale-or-gone'),
          done: (o) => o.value.online === 0,
          everySeconds: input.verifyEverySeconds,
          withinSeconds: alreadyDone ? 0 : input.graceSeconds,
          timer: log.pollTimer(input.verifyEverySeconds),
        });
        log.add(watched.last.evidence);
        const { total, online, stale: staleCount, offline, resources } = watched.last.value;
        result.finalResources = { total, online, stale: staleCount, offline, resources };
        if (!watched.observed) {
          throw ApplicationFailure.nonRetryable(
            `${online} TrueNAS resource(s) still report fresh data ${stale + input.graceSeconds} s after the restart`,
            DISABLE_FAILURES.truenasStillOnline,
          );
        }
      }
    };
    return { result, steps };
  });
}
