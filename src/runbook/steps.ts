/**
 * Every numbered step of the runbook (../shared/runbook/truenas-runbook.md), with a stable id.
 * Workflows record evidence under these ids; plans, CLI progress and UI summaries use the same titles,
 * so a reader goes from the runbook to the code in one hop. `kind` says whether the software performs
 * the step ('auto') or waits for a person and records what they did ('human').
 * `deviation` names the place where the software follows Pulse rather than the runbook's text
 * (shared/pulse-api.md §8).
 */
export interface RunbookStep {
  title: string;
  kind: 'auto' | 'human';
  deviation?: string;
}

export const RUNBOOK_STEPS = {
  // Prerequisites
  'prereq.1': { title: 'Pulse is reachable', kind: 'auto' },
  'prereq.2': { title: 'Tools are installed (git, go; curl and jq are replaced by the HTTP client)', kind: 'auto' },
  'prereq.3': { title: 'The Pulse process can be restarted (systemd, container or custom command)', kind: 'auto' },
  'prereq.4': { title: 'Admin API access for write operations', kind: 'auto' },
  'prereq.5': { title: 'Auth header for protected endpoints (token read from an env var or file)', kind: 'auto' },

  // 1) Enable Path
  'enable.1': {
    title: 'Set the feature flag PULSE_ENABLE_TRUENAS=true',
    kind: 'auto',
    deviation:
      'A shell export does not reach the service: the flag is written where the service reads it (env file, drop-in or container env) (§8.8).',
  },
  'enable.2': { title: 'Restart Pulse', kind: 'auto' },
  'enable.3': { title: 'Verify the connections endpoint is enabled and returns an array', kind: 'auto' },
  'enable.4': {
    title: 'Verify the poller runs',
    kind: 'auto',
    deviation: 'Pulse logs no "poller started" line; the poller is verified by API answers, metrics and [TrueNASPoller] lines (§8.3).',
  },
  'enable.5': {
    title: 'Add a connection',
    kind: 'auto',
    deviation: 'Pulse accepts apiKey (camelCase) and needs "enabled": true; the runbook\'s api_key gets 400 (§8.1).',
  },
  'enable.6': {
    title: 'Test the connection',
    kind: 'auto',
    deviation: 'POST /api/truenas/connections/{id}/test exists only from 2026-03-30 (405 before); the body test is used otherwise (§8.6).',
  },
  'enable.7': {
    title: 'Verify TrueNAS resources appear',
    kind: 'auto',
    deviation:
      '/api/v2/resources is paginated and gone in v6; the legacy view never lists TrueNAS in Feb (§8.5, §8.9); v6 refreshes its resource store only when the frontend state is built, so GET /api/state is read first (§10).',
  },
  // Not numbered in the runbook: what a failed Enable does so that it leaves a known state.
  'undo.enable': {
    title: 'Undo what the failed enable changed (the connection it added, the flag it set, with one restart)',
    kind: 'auto',
  },

  // 2) Disable Path
  'disable.1': {
    title: 'Disable the feature flag',
    kind: 'auto',
    deviation: 'The flag is removed where the service reads it; on v6 an unset flag means ON, so false is written explicitly (§5).',
  },
  'disable.2': { title: 'Restart Pulse', kind: 'auto' },
  'disable.3': {
    title: 'Verify the poller is not running',
    kind: 'auto',
    deviation: 'With the flag off the connections API answers 404 truenas_disabled; it does not "still respond" (§8.2).',
  },
  'disable.4': { title: 'Wait for the TrueNAS staleness window (120 s)', kind: 'auto' },
  'disable.5': {
    title: 'Verify the TrueNAS source is stale or its resources are gone',
    kind: 'auto',
    deviation:
      'TrueNAS resources vanish rather than turn stale (§8.4); on v6 they are read after GET /api/state, which refreshes the store (§10).',
  },

  // 3) Kill-Switch
  'kill-switch.1': { title: 'List current TrueNAS connection ids', kind: 'auto' },
  'kill-switch.2': {
    title: 'Delete all TrueNAS connections',
    kind: 'auto',
    deviation: 'DELETE of an unknown id answers 404 truenas_not_found; it is counted as already gone so a retry never fails.',
  },
  'kill-switch.3': { title: 'Wait for syncConnections() on the next poller tick (60 s)', kind: 'auto' },
  'kill-switch.4': { title: 'Verify no configured connections remain', kind: 'auto' },
  'kill-switch.5': {
    title: 'Verify the TrueNAS source is stale or its resources are gone (within 120 s)',
    kind: 'auto',
    deviation:
      "TrueNAS resources vanish rather than turn stale (§8.4); v6 shows it only after the frontend state is built, so GET /api/state is read first and Pulse's own status is used; only the Feb line needs staleness computed from lastSeen (§10).",
  },
  'kill-switch.6': { title: 'Confirm no restart or env change was made', kind: 'auto' },

  // 4) Code Rollback
  'rollback.1': {
    title: 'Identify the rollback boundaries',
    kind: 'auto',
    deviation:
      "The runbook's range f9680ef8^..687ecd79 is not in public main history; it is validated against the configured repository (§8.7).",
  },
  'rollback.2': { title: 'Revert the TrueNAS range', kind: 'auto' },
  'rollback.3': { title: 'Resolve conflicts (a conflict aborts the revert) and verify the build', kind: 'auto' },
  'rollback.4': { title: 'Restart Pulse and verify the TrueNAS routes are absent', kind: 'auto' },
  'rollback.5': { title: 'Verify the frontend no longer renders TrueNAS badges and filters', kind: 'human' },

  // 5) Data Cleanup
  'cleanup.1': { title: 'Determine the active data directory', kind: 'auto' },
  'cleanup.2': { title: 'Locate truenas.enc', kind: 'auto' },
  'cleanup.3': { title: 'Confirm truenas.enc exists', kind: 'auto' },
  'cleanup.4': { title: 'Remove only truenas.enc', kind: 'auto' },
  'cleanup.5': { title: 'Verify the connections list is empty', kind: 'auto' },
  'cleanup.6': { title: 'Verify .encryption.key is intact', kind: 'auto' },
  'cleanup.7': { title: 'Do not delete .encryption.key', kind: 'auto' },

  // Ownership and escalation routing
  'escalation.1': { title: 'Classify the incident severity', kind: 'auto' },
  'escalation.2': { title: 'Route ownership by severity, with escalation timers', kind: 'auto' },
  'escalation.3': { title: 'Open an incident record after a kill-switch or rollback', kind: 'auto' },

  // Alert Thresholds: one id per row of the table (metric + condition), so alert evidence names its own row;
  // alerts.scrape is the guard every row depends on (no scrape, no series, no alert; shared/notes/promql.md).
  'alerts.1': { title: 'pulse_monitor_poll_total{instance_type="truenas",result="error"} > 3 consecutive errors', kind: 'auto' },
  'alerts.2': { title: 'pulse_monitor_poll_staleness_seconds{instance_type="truenas"} > 300s', kind: 'auto' },
  'alerts.3': { title: 'pulse_monitor_poll_staleness_seconds{instance_type="truenas"} > 600s', kind: 'auto' },
  'alerts.4': { title: 'pulse_monitor_poll_errors_total{instance_type="truenas",error_type="auth"} any increment', kind: 'auto' },
  'alerts.5': { title: 'pulse_monitor_poll_errors_total{instance_type="truenas",error_type="timeout"} > 5 in 10 minutes', kind: 'auto' },
  'alerts.6': { title: 'pulse_monitor_poll_errors_total{instance_type="truenas",error_type="connection"} any increment', kind: 'auto' },
  'alerts.7': { title: 'pulse_monitor_poll_duration_seconds{instance_type="truenas"} p95 > 10s', kind: 'auto' },
  'alerts.scrape': { title: "Pulse's metrics listener is scraped (up == 1), so the alert rows see data", kind: 'auto' },

  // Canary rollout
  'canary.phase1.1': { title: 'Phase 1: enable TrueNAS on internal/dev instances', kind: 'auto' },
  'canary.phase1.2': { title: 'Phase 1: run at least 48 hours', kind: 'auto' },
  'canary.phase1.3': { title: 'Phase 1: monitoring checkpoints (error rate, staleness, auth errors, baseline)', kind: 'auto' },
  'canary.phase1.4': { title: 'Phase 1 exit gate: 24 continuous green hours', kind: 'auto' },
  'canary.phase1.5': { title: 'Phase 1 rollback: the Disable path', kind: 'auto' },
  'canary.phase2.1': { title: 'Phase 2: early adopters enable the flag themselves', kind: 'human' },
  'canary.phase2.2': { title: 'Phase 2: run at least 1 week', kind: 'auto' },
  'canary.phase2.3': { title: 'Phase 2: checks across opt-in instances, triage within 24 h, no corruption', kind: 'auto' },
  'canary.phase2.4': { title: 'Phase 2 exit gate: zero critical issues for 5 continuous days', kind: 'auto' },
  'canary.phase2.5': { title: 'Phase 2 rollback: users unset the flag and restart', kind: 'human' },
  'canary.phase3.1': { title: 'Phase 3: release flips the flag default to true', kind: 'human' },
  'canary.phase3.2': { title: 'Phase 3: permanent operation', kind: 'auto' },
  'canary.phase3.3': { title: 'Phase 3: users may opt out with PULSE_ENABLE_TRUENAS=false', kind: 'human' },
  'canary.phase3.4': { title: 'Phase 3: Phase 2 checks, fleet error rate and staleness alerts', kind: 'auto' },
  'canary.phase3.5': { title: 'Phase 3 rollback: revert the default-on commit and release a patch', kind: 'auto' },
  'canary.abort.1': { title: 'Abort: poll failure > 50 % for > 5 minutes', kind: 'auto' },
  'canary.abort.2': { title: 'Abort: data corruption or cross-platform interference', kind: 'auto' },
  'canary.abort.3': { title: 'Abort: memory or CPU regression > 20 % (within 1 hour)', kind: 'auto' },
  'canary.abort.4': { title: 'Abort: auth errors persist > 10 minutes', kind: 'auto' },
  'canary.abort.5': { title: 'Abort: more than 3 critical bugs in 24 hours', kind: 'auto' },
  'canary.checklist.1': { title: 'Checklist: all monitoring checkpoints green', kind: 'auto' },
  'canary.checklist.2': { title: 'Checklist: no open critical or high issue', kind: 'auto' },
  'canary.checklist.3': { title: 'Checklist: rollback tested in staging', kind: 'human' },
  'canary.checklist.4': { title: 'Checklist: exit gate duration met', kind: 'auto' },
  'canary.checklist.5': { title: 'Checklist: stakeholder sign-off recorded', kind: 'human' },
} as const satisfies Record<string, RunbookStep>;

export type StepId = keyof typeof RUNBOOK_STEPS;
