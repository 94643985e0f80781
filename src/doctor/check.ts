/**
 * One line of `pulse-runbook doctor`: what was checked, how it went, what was seen and how to fix it. Shared by
 * the CLI side (Temporal, worker, key) and the worker-host side (token, Pulse, flag, restart, data dir,
 * Prometheus), so the table reads the same whichever side ran a check. No node: imports (workflows carry it).
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export type CheckId =
  | 'temporal'
  | 'namespace'
  | 'worker'
  | 'payload-key'
  | 'worker-host'
  | 'token'
  | 'pulse'
  | 'pulse-auth'
  | 'flag'
  | 'restart'
  | 'data-dir'
  | 'prometheus';

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** What was seen (never a secret). */
  detail: string;
  /** How to fix it, for warn and fail. */
  fix?: string;
}

export const CHECK_TITLES: Record<CheckId, string> = {
  temporal: 'Temporal reachable',
  namespace: 'Namespace and search attributes',
  worker: 'A worker polls the task queue',
  'payload-key': "Payload key matches the worker's",
  'worker-host': "Checks run on the worker's host",
  token: 'Pulse token readable on the worker',
  pulse: 'Pulse reachable from the worker',
  'pulse-auth': 'Pulse authenticated, scopes, line',
  flag: 'Flag location writable',
  restart: 'Restart method present',
  'data-dir': 'Pulse data dir present',
  prometheus: 'Prometheus reachable',
};

/** The checks that run on the worker's host, in the table's order. */
export const HOST_CHECKS: readonly CheckId[] = ['token', 'pulse', 'pulse-auth', 'flag', 'restart', 'data-dir', 'prometheus'];

export function check(id: CheckId, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return { id, title: CHECK_TITLES[id], status, detail, ...(fix !== undefined && { fix }) };
}

/** A check not run because one it depends on failed: the why names that check. */
export function skippedBecause(id: CheckId, failed: CheckResult): CheckResult {
  return check(id, 'skip', `skipped: depends on "${failed.title}", which failed`);
}
