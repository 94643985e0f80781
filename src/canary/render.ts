/**
 * The canary rollout's status as text for people at a terminal: where the rollout is, what it waits for, how much
 * of each gate is left (in hours and days, not seconds), the Phase Transition Checklist with ✓/✗, issues,
 * sign-offs, the last metric verdicts, and how it ended. Pure: the status query's answer in, text out, so the
 * CLI prints what the workflow computed and the unit test reads the same text.
 */
import type { CanaryResult } from './result.js';
import type { CanaryStatus } from './status.js';
import type { CanaryIssue, ChecklistItem, EvaluationRecord } from './state.js';
import { countsText } from './fleet.js';
import type { FleetSummary, InstanceDetail } from './status.js';

/**
 * Seconds in the largest two units that matter: "45 s", "12 min 5 s", "47 h 59 min", "6 d 4 h". Hours up to
 * three days, because the runbook speaks of the 24 h and 48 h gates in hours and of weeks and days beyond.
 */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const parts = (pairs: Array<[number, string]>) =>
    pairs
      .filter(([n], i) => i === 0 || n > 0)
      .map(([n, unit]) => `${n} ${unit}`)
      .join(' ');
  if (s < 60) return `${s} s`;
  if (s < 3600)
    return parts([
      [Math.floor(s / 60), 'min'],
      [s % 60, 's'],
    ]);
  if (s < 3 * 86_400)
    return parts([
      [Math.floor(s / 3600), 'h'],
      [Math.floor((s % 3600) / 60), 'min'],
    ]);
  return parts([
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
  ]);
}

/** The last n entries (none for 0: `slice(-0)` would be all of them). */
const latest = <T>(list: T[], n: number): T[] => (n > 0 ? list.slice(-n) : []);

const CHECK_MARK = { pass: '✓', fail: '✗', inconclusive: '?' } as const;
const mark = (ok: boolean) => (ok ? '✓' : '✗');

/** "2 h 10 min of 48 h (45 h 50 min left)" or "… (met)". */
function progress(have: number, needed: number | undefined, left: number | undefined): string {
  if (needed === undefined) return formatDuration(have);
  return `${formatDuration(have)} of ${formatDuration(needed)} (${left ? `${formatDuration(left)} left` : 'met'})`;
}

function gateLines(s: CanaryStatus): string[] {
  const g = s.gates;
  const lines = [
    `  Minimum duration: ${progress(g.inPhaseSeconds, g.minSeconds, g.minLeftSeconds)} in phase ${s.phase} since ${s.phaseStartedAt}`,
  ];
  const resets = s.greenClock.resetCount;
  const lastReset = s.greenClock.resets.at(-1);
  const resetText = resets ? `; reset ${resets} time(s), last at ${lastReset?.at}: ${lastReset?.reason}` : '; never reset';
  if (s.phase === 1) {
    const clock = g.greenSince
      ? `green since ${g.greenSince}: ${progress(g.greenForSeconds, g.greenNeededSeconds, g.greenLeftSeconds)}`
      : `not running (not green now), ${formatDuration(g.greenNeededSeconds ?? 0)} continuous green needed`;
    lines.push(`  Green clock: ${clock}${resetText}`);
  } else {
    lines.push(
      `  Green clock: ${g.greenSince ? `green since ${g.greenSince} (${formatDuration(g.greenForSeconds)})` : 'not green now'}${resetText}`,
    );
  }
  if (s.phase === 2) {
    lines.push(
      `  Quiet clock: no critical issue since ${g.quietSince}: ${progress(g.quietForSeconds ?? 0, g.quietNeededSeconds, g.quietLeftSeconds)}`,
    );
  }
  if (s.phase === 3) lines.push('  Phase 3 is permanent: no exit gate.');
  return lines;
}

function checklistLines(items: ChecklistItem[], phase: number): string[] {
  if (items.length === 0) return [];
  return [`Checklist to leave phase ${phase}:`, ...items.map((i) => `  ${mark(i.ok)} ${i.step.slice(-1)}. ${i.title}: ${i.detail}`)];
}

function issueLine(i: CanaryIssue, overdue: Set<string>): string {
  const state = i.resolved
    ? `resolved by ${i.resolved.by} at ${i.resolved.at}: ${i.resolved.note}`
    : i.triaged
      ? `open, triaged by ${i.triaged.by} at ${i.triaged.at}${i.triaged.late ? ' (late)' : ''}: ${i.triaged.note}`
      : `open, not triaged${i.triageDueAt ? `${overdue.has(i.id) ? '; TRIAGE OVERDUE since' : '; triage due by'} ${i.triageDueAt}` : ''}`;
  return `  ${i.id} [${i.severity}, ${i.source}${i.instance ? `, ${i.instance}` : ''}] ${i.title}, reported by ${i.reportedBy} at ${i.reportedAt} in phase ${i.phase}; ${state}`;
}

function evaluationLines(e: EvaluationRecord | undefined, nextCheckAt: string | undefined): string[] {
  if (!e) return [`Last evaluation: none yet${nextCheckAt ? `; next check at ${nextCheckAt}` : ''}`];
  return [
    `Last evaluation at ${e.at}: ${e.green ? 'green' : 'not green'}${e.reachable ? '' : ' (Prometheus could not be queried)'}${nextCheckAt ? `; next check at ${nextCheckAt}` : ''}`,
    ...e.checks.map((c) => `  ${CHECK_MARK[c.verdict]} ${c.check}: ${c.verdict}: ${c.reason}`),
  ];
}

export interface RenderStatusOptions {
  /** The run in the Temporal Web UI. */
  uiLink?: string;
  /** How many of the latest evidence entries to show (default 5). */
  evidence?: number;
}

/** The whole status, one fact per line. */
export function renderCanaryStatus(s: CanaryStatus, opts: RenderStatusOptions = {}): string {
  const overdue = new Set(s.overdueTriage);
  const lines = [
    `Canary rollout ${s.rollout} (${s.workflowId}): phase ${s.phase}, ${s.status}; started by ${s.startedBy} at ${s.rolloutStartedAt}`,
    `Waiting for: ${s.waitingFor}`,
  ];
  if (s.pause) lines.push(`Paused by ${s.pause.by} at ${s.pause.at}: ${s.pause.reason}`);
  if (s.abort) {
    lines.push(
      `ABORTED in phase ${s.abort.phase} at ${s.abort.at} (${s.abort.criterion}${s.abort.actor ? `, by ${s.abort.actor}` : ''}): ${s.abort.reason}`,
    );
    for (const c of s.abort.rollback?.children ?? [])
      lines.push(
        `  rollback ${c.workflowType}${c.instance ? ` ${c.instance}` : ''}: ${c.outcome} (${c.workflowId})${c.message ? `: ${c.message}` : ''}`,
      );
    for (const h of s.abort.rollback?.humanSteps ?? []) lines.push(`  ☐ by hand: ${h}`);
  }
  if (s.completed)
    lines.push(`COMPLETED by ${s.completed.by} at ${s.completed.at}${s.completed.comment ? `: ${s.completed.comment}` : ''}`);

  lines.push(`Phase ${s.phase} gates:`, ...gateLines(s));
  lines.push(...checklistLines(s.checklist, s.phase));

  const open = s.issues.filter((i) => !i.resolved);
  lines.push(s.issues.length ? `Issues (${open.length} open of ${s.issues.length}):` : 'Issues: none reported');
  lines.push(...s.issues.map((i) => issueLine(i, overdue)));
  if (overdue.size) lines.push(`Overdue triage: ${[...overdue].join(', ')}`);

  lines.push(s.signOffs.length ? 'Sign-offs:' : 'Sign-offs: none yet');
  lines.push(...s.signOffs.map((o) => `  phase ${o.phase}: ${o.actor} at ${o.at}${o.comment ? `: ${o.comment}` : ''}`));
  if (s.stagingTests.length) {
    lines.push(
      'Staging rollback tests:',
      ...s.stagingTests.map((t) => `  phase ${t.phase}: ${t.actor} at ${t.at}: ${t.evidence}${t.workflowId ? ` (${t.workflowId})` : ''}`),
    );
  }
  if (s.instances.length) {
    lines.push(
      'Instances:',
      ...s.instances.map(
        (i) =>
          `  ${i.name} (phase ${i.phase}${i.pulseUrl ? `, ${i.pulseUrl}` : ''}; rollback by ${i.rollback === 'workflow' ? 'Disable workflow' : 'a person'})` +
          `${i.enabled ? `: enable ${i.enabled.outcome}${i.enabled.message ? ` (${i.enabled.message})` : ''}` : ''}`,
      ),
    );
  }
  if (s.fleet) lines.push(...fleetLines(s.fleet));
  if (s.release)
    lines.push(
      `Default-on release: ${s.release.version} (commit ${s.release.commit}) recorded by ${s.release.by} at ${s.release.at}; revert ${s.release.rollbackConfigured ? 'configured' : 'by hand'}`,
    );

  lines.push(...evaluationLines(s.lastEvaluation, s.nextCheckAt));
  lines.push(`Monitoring: ${s.cycles} check(s) over ${s.runs} run(s)`);

  const shown = latest(s.evidence, opts.evidence ?? 5);
  if (shown.length)
    lines.push(
      `Latest evidence (${shown.length} of ${s.evidence.length}):`,
      ...shown.map((e) => `  ${e.at} [${e.step}] ${e.verdict}: ${e.summary}`),
    );
  if (opts.uiLink) lines.push(`Temporal UI: ${opts.uiLink}`);
  return lines.join('\n');
}

/** A fleet in a few lines: counts per state, waves, the error budget, and only the instances that need a person. */
function fleetLines(f: FleetSummary): string[] {
  const lines = [
    `Fleet: ${f.total} instance(s): ${countsText(f.counts)}`,
    `  Waves: ${f.waves} started${f.waveInFlight ? `, ${f.waveInFlight} Enable(s) in flight` : ''}; error budget: ${f.budget.text}${f.budget.spent ? ' (SPENT)' : ''}`,
    `  Per-instance gates: ${f.instanceLabel ? `on (series labelled ${f.instanceLabel}="<name>")` : 'off (no fleet.instanceLabel)'}`,
  ];
  if (f.attentionTotal === 0) return [...lines, '  Needs a person: none'];
  lines.push(`  Needs a person (${f.attentionTotal}${f.attention.length < f.attentionTotal ? `, first ${f.attention.length}` : ''}):`);
  for (const m of f.attention) lines.push(`    ${m.name} (phase ${m.phase}): ${m.state} since ${m.since}${m.note ? `: ${m.note}` : ''}`);
  lines.push('  One in full: pulse-runbook canary status <id> --instance <name>');
  return lines;
}

/** One instance of a fleet in full. */
export function renderInstanceDetail(d: InstanceDetail, opts: RenderStatusOptions = {}): string {
  const m = d.member;
  const lines = [
    `Instance ${m.name} (phase ${m.phase}): ${m.state} since ${m.since}${m.note ? `: ${m.note}` : ''}`,
    `  Pulse: ${d.definition.pulseUrl ?? 'no pulseUrl given'}${d.definition.contact ? `; contact ${d.definition.contact}` : ''}`,
    `  In the rollout: ${m.out ? 'taken out (left out of the fleet-wide checks)' : 'yes'}${m.failed ? '; counted against the error budget' : ''}${m.manual ? '; enabled by a person' : ''}${
      m.registered ? `; registered by ${m.registered.by} at ${m.registered.at}` : ''
    }`,
    `  Enable: ${d.enable ? `${d.enable.pulse.url}, flag ${d.enable.flag.kind}${'path' in d.enable.flag ? ` ${d.enable.flag.path}` : ''}, restart ${d.enable.restart.kind}` : 'none (a person enables it)'}`,
    `  Disable: ${d.disable ? `${d.disable.pulse.url}, flag ${d.disable.flag.kind}${'path' in d.disable.flag ? ` ${d.disable.flag.path}` : ''}, restart ${d.disable.restart.kind}` : 'none (a person disables it)'}`,
  ];
  if (d.series) lines.push(`  Its series: ${d.series.label}="${d.series.value}"`);
  const runs = Object.entries(d.runs);
  lines.push(runs.length ? `  Runs: ${runs.map(([k, id]) => `${k} ${id}`).join('; ')}` : '  Runs: none yet');
  const shown = latest(d.evidence, opts.evidence ?? 10);
  if (shown.length)
    lines.push(
      `  Evidence naming it (${shown.length} of ${d.evidence.length} kept):`,
      ...shown.map((e) => `    ${e.at} [${e.step}] ${e.verdict}: ${e.summary}`),
    );
  if (opts.uiLink) lines.push(`Temporal UI: ${opts.uiLink}`);
  return lines.join('\n');
}

/** A finished run read from its result (no worker needed): how it ended and its evidence. */
export function renderCanaryResult(r: CanaryResult, opts: RenderStatusOptions = {}): string {
  const lines = [`Canary rollout ${r.rollout}: ${r.outcome} in phase ${r.phase} (started ${r.startedAt}, finished ${r.finishedAt})`];
  if (r.abort) lines.push(`Abort (${r.abort.criterion}${r.abort.actor ? `, by ${r.abort.actor}` : ''}): ${r.abort.reason}`);
  if (r.completed)
    lines.push(`Completed by ${r.completed.by} at ${r.completed.at}${r.completed.comment ? `: ${r.completed.comment}` : ''}`);
  if (r.planned) {
    lines.push('Plan (nothing was changed):', ...r.planned.enable.map((e) => `  enable ${e.instance}: ${e.outcome} (${e.workflowId})`));
    lines.push(...checklistLines(r.planned.checklist, r.phase));
  }
  const shown = latest(r.evidence, opts.evidence ?? 10);
  if (shown.length)
    lines.push(
      `Evidence (${shown.length} of ${r.evidence.length}):`,
      ...shown.map((e) => `  ${e.at} [${e.step}] ${e.verdict}: ${e.summary}`),
    );
  if (opts.uiLink) lines.push(`Temporal UI: ${opts.uiLink}`);
  return lines.join('\n');
}

export interface CanaryListRow {
  id: string;
  phase: string;
  status: string;
  execution: string;
  started: string;
}

export function renderCanaryList(rows: CanaryListRow[]): string {
  if (rows.length === 0) return 'No canary rollouts.';
  const width = Math.max(...rows.map((r) => r.id.length));
  return rows
    .map((r) => `${r.id.padEnd(width)}  ${r.phase.padEnd(8)}  ${r.status.padEnd(12)}  ${r.execution.padEnd(10)}  ${r.started}`)
    .join('\n');
}
