/**
 * The first two steps Enable and Disable share (runbook enable.1/2, disable.1/2): write PULSE_ENABLE_TRUENAS
 * where the service reads it, then restart Pulse and wait until it answers healthy.
 *
 * - The restart is skipped only when it cannot change anything: the file already said the value AND Pulse
 *   already answers the desired way. (A flag write whose completion was lost reports "unchanged" on its retry,
 *   so "unchanged" alone is not enough: Pulse's answer decides.)
 * - A restart runs once. Its completion is recorded in history; on replay (a new worker) the result comes from
 *   there, so a restart is repeated only when an attempt's completion was never recorded.
 * - A restart command that fails (RestartFailed) leaves the old process running with the old value, so the
 *   flag write is put back: the env file and the running Pulse agree again, and nothing is left changed.
 *   When Pulse was restarted but never came back (PulseNotHealthy) the new value is what it started with, so
 *   the file is left as it is and the failure says so.
 */
import { ActivityFailure, ApplicationFailure, type ActivityInterfaceFor } from '@temporalio/workflow';
import type * as flagActivities from '../../activities/feature-flag.js';
import type * as restartActivities from '../../activities/restart.js';
import type { FeatureFlagResult, FlagValue } from '../../activities/feature-flag.js';
import type { CommandPrefix, FlagTarget, RestartConfig } from '../../src/config/host.js';
import type { PulseTarget } from '../../src/config/pulse-target.js';
import type { RetrySettings } from '../../src/config/retry.js';
import { activityOptions } from './activity-options.js';
import type { EvidenceLog } from './evidence-log.js';
import { FAILURE_TYPES } from '../../src/runbook/failure-types.js';

export interface FlagRestartInput {
  plan: boolean;
  pulse: PulseTarget;
  flag: FlagTarget;
  restart: RestartConfig;
  prefix: CommandPrefix;
  retry: RetrySettings;
}

export interface FlagRestartSteps {
  flagStep: 'enable.1' | 'disable.1';
  restartStep: 'enable.2' | 'disable.2';
  value: FlagValue;
  /** What the connections API must answer once the value is live. */
  desired: 'enabled' | 'disabled';
  /** What it answered before this run changed anything. */
  current: 'enabled' | 'disabled';
  /** Called as soon as the flag is written, before the restart: a caller that must undo it knows it changed. */
  onWritten?: (flag: FeatureFlagResult) => void;
}

export interface FlagRestartOutcome {
  flag: FeatureFlagResult;
  /** Whether Pulse was restarted by this run (false in plan mode and when the restart was not needed). */
  restarted: boolean;
  /** Workflow time (ms since epoch) at which the restarted Pulse answered healthy. */
  restartedAt?: number;
}

/** Covers every command of the restart (daemon-reload + restart) and the health wait, with room to spare. */
export function restartTimeoutSeconds(restart: RestartConfig, daemonReload: boolean): number {
  return Math.ceil(((daemonReload ? 2 : 1) * restart.commandTimeoutMs + restart.healthTimeoutMs) / 1000) + 30;
}

export function failureType(err: unknown): string | undefined {
  const inner = err instanceof ActivityFailure ? err.cause : err;
  return inner instanceof ApplicationFailure ? (inner.type ?? undefined) : undefined;
}

export function failureMessage(err: unknown): string {
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return inner instanceof Error ? inner.message : String(inner);
}

/** The value to write to restore what the file said before, or undefined when it cannot be written exactly. */
export function restoreValue(before: string | null): FlagValue | undefined {
  if (before === null) return null;
  return before === 'true' || before === 'false' ? before : undefined;
}

export async function setFlagAndRestart(log: EvidenceLog, input: FlagRestartInput, steps: FlagRestartSteps): Promise<FlagRestartOutcome> {
  const daemonReload = input.flag.kind === 'systemd-dropin';
  const flagActs = log.activities<typeof flagActivities>(activityOptions(input.retry));
  const restartActs = log.activities<typeof restartActivities>(
    activityOptions(input.retry, restartTimeoutSeconds(input.restart, daemonReload)),
  );

  log.begin(steps.flagStep);
  const written = await flagActs.setFeatureFlag({ plan: input.plan, target: input.flag, value: steps.value, step: steps.flagStep });
  log.add(written.evidence);
  const flag = written.value;
  steps.onWritten?.(flag);

  log.begin(
    steps.restartStep,
    `Pulse to restart and answer 200 on its health URL (up to ${Math.round(input.restart.healthTimeoutMs / 1000)} s)`,
  );
  if (!flag.changed && steps.current === steps.desired) {
    log.note(
      steps.restartStep,
      input.plan ? 'planned' : 'skipped',
      `${input.plan ? 'Would not restart' : 'Not restarted'}: ${flag.path} already says ${flag.valueAfter ?? '(unset)'} and Pulse already answers as ${steps.desired}.`,
    );
    return { flag, restarted: false };
  }

  try {
    const restarted = await restartActs.restartPulse({
      plan: input.plan,
      restart: input.restart,
      prefix: input.prefix,
      pulseUrl: input.pulse.url,
      daemonReload,
      step: steps.restartStep,
    });
    log.add(restarted.evidence);
  } catch (err) {
    if (failureType(err) !== FAILURE_TYPES.restartFailed || !flag.changed) throw err;
    throw await putFlagBack(log, flagActs, input, steps, flag, err);
  }
  return input.plan ? { flag, restarted: false } : { flag, restarted: true, restartedAt: Date.now() };
}

/** After a failed restart command: restores the file's earlier value and returns the failure to raise. */
async function putFlagBack(
  log: EvidenceLog,
  flagActs: ActivityInterfaceFor<typeof flagActivities>,
  input: FlagRestartInput,
  steps: FlagRestartSteps,
  flag: FeatureFlagResult,
  cause: unknown,
): Promise<ApplicationFailure> {
  const value = restoreValue(flag.valueBefore);
  let what: string;
  if (value === undefined) {
    what = `the flag in ${flag.path} was left at ${flag.valueAfter}; it said ${flag.valueBefore} before, which cannot be written back exactly: put it back by hand`;
    log.note(steps.flagStep, 'human', what, undefined, [{ kind: 'human', instruction: `Restore ${flag.path} to ${flag.valueBefore}` }]);
  } else {
    try {
      const back = await flagActs.setFeatureFlag({ plan: false, target: input.flag, value, step: steps.flagStep });
      log.add({ ...back.evidence, summary: `Put back after the failed restart: ${back.evidence.summary}` });
      what = `the flag in ${flag.path} was put back to ${flag.valueBefore ?? '(unset)'}${flag.created ? ' (the file this run created is left empty)' : ''}, so it matches the running Pulse again`;
    } catch (err) {
      what = `putting the flag in ${flag.path} back failed too (${failureMessage(err)}): it still says ${flag.valueAfter}`;
      log.note(steps.flagStep, 'failed', what);
    }
  }
  return ApplicationFailure.create({
    type: FAILURE_TYPES.restartFailed,
    message: `${failureMessage(cause).replace(/[.\s]+$/, '')}. ${what.charAt(0).toUpperCase()}${what.slice(1)}.`,
    nonRetryable: true,
  });
}
