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

/**
 * Rows of the table: `auto` steps the software performs, `human` steps a person does; `deviation` where the
 * software follows Pulse rather than the runbook's text.
 */
function stepOfKind<K extends RunbookStep['kind']>(kind: K) {
  return (title: string, deviation?: string): RunbookStep & { kind: K } =>
    deviation === undefined ? { title, kind } : { title, kind, deviation };
}
const auto = stepOfKind('auto');
const human = stepOfKind('human');

export const RUNBOOK_STEPS = {
  // Prerequisites
  'prereq.1': auto('Pulse is reachable'),
  'prereq.2': auto('Tools are installed (git, go; curl and jq are replaced by the HTTP client)'),
  'prereq.3': auto('The Pulse process can be restarted (systemd, container or custom command)'),
  'prereq.4': auto('Admin API access for write operations'),
  'prereq.5': auto('Auth header for protected endpoints (token read from an env var or file)'),

  // 1) Enable Path
  'enable.1': auto(
    'Set the feature flag PULSE_ENABLE_TRUENAS=true',
    'A shell export does not reach the service: the flag is written where the service reads it (env file, drop-in or container env) (§8.8).',
  ),
  'enable.2': auto('Restart Pulse'),
  'enable.3': auto('Verify the connections endpoint is enabled and returns an array'),
  'enable.4': auto(
    'Verify the poller runs',
    'Pulse logs no "poller started" line; the poller is verified by API answers, metrics and [TrueNASPoller] lines (§8.3).',
  ),
  'enable.5': auto(
    'Add a connection',
    'Pulse accepts apiKey (camelCase) and needs "enabled": true; the runbook\'s api_key gets 400 (§8.1).',
  ),
  'enable.6': auto(
    'Test the connection',
    'POST /api/truenas/connections/{id}/test exists only from 2026-03-30 (405 before); the body test is used otherwise (§8.6).',
  ),
  'enable.7': auto(
    'Verify TrueNAS resources appear',
    '/api/v2/resources is paginated and gone in v6; the legacy view never lists TrueNAS in Feb (§8.5, §8.9); v6 refreshes its resource store only when the frontend state is built, so GET /api/state is read first (§10).',
  ),
  // Not numbered in the runbook: what a failed Enable does so that it leaves a known state.
  'undo.enable': auto('Undo what the failed enable changed (the connection it added, the flag it set, with one restart)'),

  // 2) Disable Path
  'disable.1': auto(
    'Disable the feature flag',
    'The flag is removed where the service reads it; on v6 an unset flag means ON, so false is written explicitly (§5).',
  ),
  'disable.2': auto('Restart Pulse'),
  'disable.3': auto(
    'Verify the poller is not running',
    'With the flag off the connections API answers 404 truenas_disabled; it does not "still respond" (§8.2).',
  ),
  'disable.4': auto('Wait for the TrueNAS staleness window (120 s)'),
  'disable.5': auto(
    'Verify the TrueNAS source is stale or its resources are gone',
    'TrueNAS resources vanish rather than turn stale (§8.4); on v6 they are read after GET /api/state, which refreshes the store (§10).',
  ),

  // 3) Kill-Switch
  'kill-switch.1': auto('List current TrueNAS connection ids'),
  'kill-switch.2': auto(
    'Delete all TrueNAS connections',
    'DELETE of an unknown id answers 404 truenas_not_found; it is counted as already gone so a retry never fails.',
  ),
  'kill-switch.3': auto('Wait for syncConnections() on the next poller tick (60 s)'),
  'kill-switch.4': auto('Verify no configured connections remain'),
  'kill-switch.5': auto(
    'Verify the TrueNAS source is stale or its resources are gone (within 120 s)',
    "TrueNAS resources vanish rather than turn stale (§8.4); v6 shows it only after the frontend state is built, so GET /api/state is read first and Pulse's own status is used; only the Feb line needs staleness computed from lastSeen (§10).",
  ),
  'kill-switch.6': auto('Confirm no restart or env change was made'),

  // 4) Code Rollback
  'rollback.1': auto(
    'Identify the rollback boundaries',
    "The runbook's range f9680ef8^..687ecd79 is not in public main history; it is validated against the configured repository (§8.7).",
  ),
  'rollback.2': auto('Revert the TrueNAS range'),
  'rollback.3': auto('Resolve conflicts (a conflict aborts the revert) and verify the build'),
  'rollback.4': auto('Restart Pulse and verify the TrueNAS routes are absent'),
  'rollback.5': human('Verify the frontend no longer renders TrueNAS badges and filters'),

  // 5) Data Cleanup
  'cleanup.1': auto('Determine the active data directory'),
  'cleanup.2': auto('Locate truenas.enc'),
  'cleanup.3': auto('Confirm truenas.enc exists'),
  'cleanup.4': auto('Remove only truenas.enc'),
  'cleanup.5': auto('Verify the connections list is empty'),
  'cleanup.6': auto('Verify .encryption.key is intact'),
  'cleanup.7': auto('Do not delete .encryption.key'),

  // Ownership and escalation routing
  'escalation.1': auto('Classify the incident severity'),
  'escalation.2': auto('Route ownership by severity, with escalation timers'),
  'escalation.3': auto('Open an incident record after a kill-switch or rollback'),

  // Alert Thresholds: one id per row of the table (metric + condition), so alert evidence names its own row;
  // alerts.scrape is the guard every row depends on (no scrape, no series, no alert; shared/notes/promql.md).
  'alerts.1': auto('pulse_monitor_poll_total{instance_type="truenas",result="error"} > 3 consecutive errors'),
  'alerts.2': auto('pulse_monitor_poll_staleness_seconds{instance_type="truenas"} > 300s'),
  'alerts.3': auto('pulse_monitor_poll_staleness_seconds{instance_type="truenas"} > 600s'),
  'alerts.4': auto('pulse_monitor_poll_errors_total{instance_type="truenas",error_type="auth"} any increment'),
  'alerts.5': auto('pulse_monitor_poll_errors_total{instance_type="truenas",error_type="timeout"} > 5 in 10 minutes'),
  'alerts.6': auto('pulse_monitor_poll_errors_total{instance_type="truenas",error_type="connection"} any increment'),
  'alerts.7': auto('pulse_monitor_poll_duration_seconds{instance_type="truenas"} p95 > 10s'),
  'alerts.scrape': auto("Pulse's metrics listener is scraped (up == 1), so the alert rows see data"),

  // Canary rollout
  'canary.phase1.1': auto('Phase 1: enable TrueNAS on internal/dev instances'),
  'canary.phase1.2': auto('Phase 1: run at least 48 hours'),
  'canary.phase1.3': auto('Phase 1: monitoring checkpoints (error rate, staleness, auth errors, baseline)'),
  'canary.phase1.4': auto('Phase 1 exit gate: 24 continuous green hours'),
  'canary.phase1.5': auto('Phase 1 rollback: the Disable path'),
  'canary.phase2.1': human('Phase 2: early adopters enable the flag themselves'),
  'canary.phase2.2': auto('Phase 2: run at least 1 week'),
  'canary.phase2.3': auto('Phase 2: checks across opt-in instances, triage within 24 h, no corruption'),
  'canary.phase2.4': auto('Phase 2 exit gate: zero critical issues for 5 continuous days'),
  'canary.phase2.5': human('Phase 2 rollback: users unset the flag and restart'),
  'canary.phase3.1': human('Phase 3: release flips the flag default to true'),
  'canary.phase3.2': auto('Phase 3: permanent operation'),
  'canary.phase3.3': human('Phase 3: users may opt out with PULSE_ENABLE_TRUENAS=false'),
  'canary.phase3.4': auto('Phase 3: Phase 2 checks, fleet error rate and staleness alerts'),
  'canary.phase3.5': auto('Phase 3 rollback: revert the default-on commit and release a patch'),
  'canary.abort.1': auto('Abort: poll failure > 50 % for > 5 minutes'),
  'canary.abort.2': auto('Abort: data corruption or cross-platform interference'),
  'canary.abort.3': auto('Abort: memory or CPU regression > 20 % (within 1 hour)'),
  'canary.abort.4': auto('Abort: auth errors persist > 10 minutes'),
  'canary.abort.5': auto('Abort: more than 3 critical bugs in 24 hours'),
  'canary.checklist.1': auto('Checklist: all monitoring checkpoints green'),
  'canary.checklist.2': auto('Checklist: no open critical or high issue'),
  'canary.checklist.3': human('Checklist: rollback tested in staging'),
  'canary.checklist.4': auto('Checklist: exit gate duration met'),
  'canary.checklist.5': human('Checklist: stakeholder sign-off recorded'),
} as const satisfies Record<string, RunbookStep>;

export type StepId = keyof typeof RUNBOOK_STEPS;
