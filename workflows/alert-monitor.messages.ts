/**
 * The alert monitor's contract: its type name, the status query and the stop signal. The CLI and tests use these
 * objects, never the names; renaming one breaks the build. The names are the ones saved histories and running
 * monitors carry: never change them.
 *
 * Imported by clients and workflow code: @temporalio/workflow's definitions, types and constants only.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AlertMonitorStatus } from './alert-monitor.js';
import type * as bundle from './index.js';

export const ALERT_MONITOR_WORKFLOW = 'alertMonitor' satisfies keyof typeof bundle;
export type AlertMonitorWorkflow = (typeof bundle)[typeof ALERT_MONITOR_WORKFLOW];

export const alertMonitorStatusQuery = defineQuery<AlertMonitorStatus>('status');
export const stopAlertMonitorSignal = defineSignal<[{ reason?: string }?]>('stop');
