/**
 * What a failed Enable does so that it leaves a known state (step undo.enable). By default it undoes what the
 * run changed, newest first: the connection it added (a DELETE, so the poller stops polling it), then the flag
 * it wrote, put back to the value the file had, with one restart so the running Pulse reads it. With
 * `keepOnFailure` it changes nothing and lists exactly what is left. Either way a re-run converges: after an undo
 * it starts from the old state; after a keep it finds the flag already on and the connection already stored.
 *
 * Only what the run itself changed is touched: a connection that existed before (outcome "exists") and a flag
 * the file already had stay. Each undo step is recorded as evidence; one that fails is reported and the rest
 * still run, so the final message lists what was undone and what is left.
 */
import { patched } from '@temporalio/workflow';
import type * as flagActivities from '../../activities/feature-flag.js';
import type { FeatureFlagResult, FlagValue } from '../../activities/feature-flag.js';
import type * as pulseActivities from '../../activities/pulse-api.js';
import type * as restartActivities from '../../activities/restart.js';
import type { EnableInput } from '../../src/config/enable.js';
import { activityOptions } from './activity-options.js';
import type { EvidenceLog } from './evidence-log.js';
import { failureMessage, restartTimeoutSeconds, restoreValue } from './flag-restart.js';

/** The patch id of the undo (never rename: histories of failed runs carry it). */
export const ENABLE_UNDO_PATCH = 'enable-undo-on-failure';

/** What the run changed, as it went. */
export interface EnableChanges {
  /** The connection this run added (outcome "added" or "already-added"), not one that existed before. */
  addedConnection?: { id: string; host: string };
  /** The flag write, when it changed the file. */
  flag?: FeatureFlagResult;
  /** Whether Pulse was restarted with the new value (the running Pulse then reads it). */
  restarted: boolean;
}

export interface UndoReport {
  undone: string[];
  left: string[];
}

/** Runs undo.enable; returns what was undone and what is left (both empty when the run changed nothing). */
export async function undoEnable(log: EvidenceLog, input: EnableInput, changes: EnableChanges): Promise<UndoReport | undefined> {
  if (input.plan || !patched(ENABLE_UNDO_PATCH)) return undefined;
  const report: UndoReport = { undone: [], left: [] };
  const flagChanged = changes.flag?.changed === true;
  if (!changes.addedConnection && !flagChanged) return report;

  log.begin('undo.enable', input.keepOnFailure ? undefined : 'the changes of this run to be undone');
  if (input.keepOnFailure) {
    if (changes.addedConnection) {
      report.left.push(
        `connection ${changes.addedConnection.id} (${changes.addedConnection.host}) stays stored and enabled, so Pulse polls it every tick`,
      );
    }
    if (flagChanged && changes.flag) {
      report.left.push(
        `${changes.flag.path} says PULSE_ENABLE_TRUENAS=${changes.flag.valueAfter ?? '(unset)'} (it said ${changes.flag.valueBefore ?? '(unset)'})` +
          (changes.restarted ? ', and Pulse runs with it' : ', not yet read by Pulse (no successful restart)'),
      );
    }
    log.note('undo.enable', 'skipped', `keepOnFailure: nothing is undone. Left: ${report.left.join('; ')}.`, { left: report.left });
    return report;
  }

  const target = { pulse: input.pulse, plan: false };
  if (changes.addedConnection) {
    const { id, host } = changes.addedConnection;
    const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry));
    try {
      const deleted = await pulse.deleteConnection({ ...target, id, step: 'undo.enable' });
      log.add(deleted.evidence);
      report.undone.push(`deleted connection ${id} (${host}) that this run added (${deleted.value.outcome})`);
    } catch (err) {
      const why = failureMessage(err);
      log.note('undo.enable', 'failed', `Could not delete connection ${id}: ${why}`);
      report.left.push(
        `connection ${id} (${host}) is still stored: deleting it failed (${why}); delete it with pulse-runbook kill-switch or in Pulse's UI`,
      );
    }
  }

  if (flagChanged && changes.flag) {
    const flag = changes.flag;
    const value = restoreValue(flag.valueBefore);
    if (value === undefined) {
      report.left.push(
        `${flag.path} says PULSE_ENABLE_TRUENAS=${flag.valueAfter}; it said "${flag.valueBefore}" before, which cannot be written back exactly: put it back by hand`,
      );
      log.note('undo.enable', 'human', report.left[report.left.length - 1], undefined, [
        { kind: 'human', instruction: `Restore ${flag.path} to ${flag.valueBefore}` },
      ]);
    } else {
      await restoreFlag(log, input, flag, value, changes.restarted, report);
    }
  }
  return report;
}

async function restoreFlag(
  log: EvidenceLog,
  input: EnableInput,
  flag: FeatureFlagResult,
  value: FlagValue,
  restarted: boolean,
  report: UndoReport,
): Promise<void> {
  const flagActs = log.activities<typeof flagActivities>(activityOptions(input.retry));
  const daemonReload = input.flag.kind === 'systemd-dropin';
  const restartActs = log.activities<typeof restartActivities>(
    activityOptions(input.retry, restartTimeoutSeconds(input.restart, daemonReload)),
  );
  const shown = flag.valueBefore ?? '(unset)';
  try {
    const back = await flagActs.setFeatureFlag({ plan: false, target: input.flag, value, step: 'undo.enable' });
    log.add(back.evidence);
    if (!back.value.changed && !restarted) {
      // Already put back (a failed restart command restores the file itself) and never live: nothing to restart.
      report.undone.push(`PULSE_ENABLE_TRUENAS in ${flag.path} says ${shown} again, and Pulse never ran with the new value`);
      return;
    }
    report.undone.push(`put PULSE_ENABLE_TRUENAS in ${flag.path} back to ${shown}`);
  } catch (err) {
    const why = failureMessage(err);
    log.note('undo.enable', 'failed', `Could not put the flag back: ${why}`);
    report.left.push(`${flag.path} still says PULSE_ENABLE_TRUENAS=${flag.valueAfter ?? '(unset)'}: writing ${shown} back failed (${why})`);
    return;
  }
  try {
    const r = await restartActs.restartPulse({
      plan: false,
      restart: input.restart,
      prefix: input.prefix,
      pulseUrl: input.pulse.url,
      daemonReload,
      step: 'undo.enable',
    });
    log.add(r.evidence);
    report.undone.push('restarted Pulse once so it runs with the old value');
  } catch (err) {
    const why = failureMessage(err);
    log.note('undo.enable', 'failed', `The restart after putting the flag back failed: ${why}`);
    report.left.push(
      restarted
        ? `Pulse still runs with PULSE_ENABLE_TRUENAS=${flag.valueAfter ?? '(unset)'} (the restart to the old value failed: ${why}); restart it by hand`
        : `Pulse's state after the failed restarts is unknown (${why}); restart it by hand, the file says ${shown} again`,
    );
  }
}

/** "Undone: …. Left as it is: …." for the failure message; empty when nothing was outstanding. */
export function undoText(report: UndoReport | undefined): string {
  if (!report) return '';
  const parts: string[] = [];
  if (report.undone.length) parts.push(`Undone: ${report.undone.join('; ')}.`);
  if (report.left.length) parts.push(`Left as it is: ${report.left.join('; ')}.`);
  return parts.join(' ');
}
