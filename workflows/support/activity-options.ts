/** Activity options built from a procedure's retry settings, the same for every procedure. */
import type { ActivityOptions } from '@temporalio/workflow';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, type RetrySettings } from '../../src/config/retry.js';
import { NON_RETRYABLE_TYPES } from '../../src/runbook/failure-types.js';

/**
 * Every activity gets a heartbeat timeout (the activities heartbeat while they run, activities/support/heartbeat.ts):
 * a worker that dies mid-step is noticed after it, not after the whole start-to-close timeout. Only options change
 * here, never which commands a run issues, so saved histories replay as before.
 */
export function activityOptions(retry: RetrySettings, startToCloseSeconds = 60): ActivityOptions {
  return {
    startToCloseTimeout: `${startToCloseSeconds} seconds`,
    heartbeatTimeout: `${retry.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS} seconds`,
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: `${retry.initialIntervalSeconds} seconds`,
      maximumInterval: `${retry.maximumIntervalSeconds} seconds`,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
    },
  };
}
