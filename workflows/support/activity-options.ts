/** Activity options built from a procedure's retry settings, the same for every procedure. */
import type { ActivityOptions } from '@temporalio/workflow';
import type { RetrySettings } from '../../src/config/retry.js';
import { NON_RETRYABLE_TYPES } from '../../src/runbook/failure-types.js';

export function activityOptions(retry: RetrySettings, startToCloseSeconds = 60): ActivityOptions {
  return {
    startToCloseTimeout: `${startToCloseSeconds} seconds`,
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: `${retry.initialIntervalSeconds} seconds`,
      maximumInterval: `${retry.maximumIntervalSeconds} seconds`,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
    },
  };
}
