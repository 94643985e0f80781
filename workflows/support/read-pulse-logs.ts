/**
 * Pulse's logs are supporting evidence, never the only proof (Pulse logs nothing on a successful poll and has no
 * "poller started" line, §8.3). So a log source that cannot be read (no journal access, a missing file) is
 * recorded as 'inconclusive' with the reason, and the run goes on to decide on the API's answers.
 */
import { ActivityFailure, type ActivityInterfaceFor } from '@temporalio/workflow';
import type * as logActivities from '../../activities/logs.js';
import type { CheckPulseLogsInput, LogCheck } from '../../activities/logs.js';
import type { RetrySettings } from '../../src/config/retry.js';
import type { StepOutcome } from '../../src/runbook/evidence.js';
import { activityOptions } from './activity-options.js';
import type { EvidenceLog } from './evidence-log.js';
import { failureMessage, failureType } from './flag-restart.js';

/** The log activities, each call's UI summary named after the step it reads the logs for. */
export function logActivitiesFor(log: EvidenceLog, retry: RetrySettings): ActivityInterfaceFor<typeof logActivities> {
  return log.activities<typeof logActivities>(activityOptions(retry));
}

export async function readPulseLogs(
  log: EvidenceLog,
  retry: RetrySettings,
  args: CheckPulseLogsInput,
): Promise<StepOutcome<LogCheck> | undefined> {
  try {
    const checked = await logActivitiesFor(log, retry).checkPulseLogs(args);
    log.add(checked.evidence);
    return checked;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.note(
      args.step,
      'inconclusive',
      `Pulse's logs could not be read (${failureType(err) ?? 'error'}: ${failureMessage(err)}); the API's answers decide this step.`,
    );
    return undefined;
  }
}
