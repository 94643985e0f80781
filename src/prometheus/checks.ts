/**
 * The catalogue of the runbook's metric checks: every row of "Alert Thresholds" and the metric checkpoints and
 * abort criterion of "Canary Rollout Strategy", as PromQL with the pitfalls of shared/notes/promql.md handled.
 *
 * One shape for all of them. A check's query returns the *measured value* per series (not a filtered alert
 * expression), so a passing check still reports what it saw; the check FAILS (an alert fires, a gate is red)
 * for every series whose value satisfies `value <comparison> threshold`. Empty results and NaN values have an
 * explicit verdict per check, never a silent pass by accident (pitfall 3); Prometheus being unreachable is
 * always 'inconclusive' (see verdict.ts).
 *
 * Pure data and string building: safe to import in workflow code.
 *
 * Assumes Pulse is scraped with `honor_labels: true`, so Pulse's own `instance` label (the TrueNAS connection
 * id) survives (pitfall 1); verdict.ts warns when it sees `exported_instance` instead.
 */
import type { StepId } from '../runbook/steps.js';

export const ALERT_CHECK_IDS = [
  'consecutive-errors',
  'staleness-warning',
  'staleness-critical',
  'auth-errors',
  'timeouts',
  'connection-errors',
  'latency-p95',
  'pulse-scrape',
] as const;

export const GATE_CHECK_IDS = [
  'error-rate',
  'staleness-gauge-max',
  'staleness-never-succeeded',
  'staleness-last-success',
  'auth-gate',
  'abort-failure-rate',
  'resource-memory',
  'resource-cpu',
] as const;

export const CHECK_IDS = [...ALERT_CHECK_IDS, ...GATE_CHECK_IDS] as const;

export type AlertCheckId = (typeof ALERT_CHECK_IDS)[number];
export type GateCheckId = (typeof GATE_CHECK_IDS)[number];
export type CheckId = (typeof CHECK_IDS)[number];

export type CheckVerdict = 'pass' | 'fail' | 'inconclusive';
export type Severity = 'warning' | 'critical';
export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** What a query needs besides the check itself. */
export interface QueryParams {
  /** The window of range selectors (seconds); ignored by instant checks. */
  windowSeconds: number;
  /** The Prometheus job that scrapes Pulse's metrics listener (for `up`). */
  job: string;
  /**
   * A fleet's instances left out of the query (issue 17): every selector gets `<label>!~"a|b"`, so an instance
   * the rollout took out stops counting fleet-wide. Nothing to leave out: the query is unchanged.
   */
  exclude?: { label: string; values: string[] };
  /**
   * Per instance: the check aggregates `by (<label>)`, one series per Pulse instance (the value of its scrape
   * config's instance label). Only the checkpoints (PER_INSTANCE_CHECKS) have a per-instance form.
   */
  by?: string;
}

/** The checks with a per-instance form (`QueryParams.by`): the canary's monitoring checkpoints. */
export const PER_INSTANCE_CHECKS = [
  'error-rate',
  'staleness-gauge-max',
  'staleness-never-succeeded',
  'staleness-last-success',
  'auth-gate',
] as const satisfies readonly CheckId[];

export interface MetricCheck {
  id: CheckId;
  /** 'alert': a row of the Alert Thresholds table (or a guard of it); 'gate': a canary checkpoint or abort criterion. */
  kind: 'alert' | 'gate';
  /** Where the check comes from: the runbook section, the table row (1-based) and the runbook step id. */
  source: { section: 'Alert Thresholds' | 'Canary Rollout Strategy' | 'shared/notes/promql.md'; row?: number; step: StepId };
  /** The metric as the runbook names it. */
  metric: string;
  /** The condition as the runbook words it. */
  condition: string;
  severity: Severity;
  /** What the person on call does: the runbook's "Action" text. */
  action: string;
  /** Fails for each series with `value <comparison> threshold`. */
  comparison: Comparison;
  threshold: number;
  /** The runbook's window (seconds) for range checks; undefined for instant checks. */
  defaultWindowSeconds?: number;
  /** Verdict when the query returns no series at all. */
  onEmpty: CheckVerdict;
  /** Verdict for a series whose value is NaN (e.g. a ratio or quantile with no polls in the window). */
  onNaN: CheckVerdict;
  /** Why the query differs from the runbook's literal metric, when it does. */
  note?: string;
  query(p: QueryParams): string;
}

/** Seconds as a PromQL duration: 300 → "5m", 3600 → "1h", 30 → "30s", 1.5 → "1500ms". */
export function promDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`a PromQL window must be a positive number of seconds, got ${seconds}`);
  if (!Number.isInteger(seconds)) return `${Math.round(seconds * 1000)}ms`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A subquery resolution for window W: about 30 points, between 1 s and 1 min. */
export function subqueryStep(windowSeconds: number): string {
  return promDuration(Math.max(1, Math.min(60, Math.round(windowSeconds / 30))));
}

const TN = 'instance_type="truenas"';
const POLL_ERRORS = `pulse_monitor_poll_total{${TN},result="error"}`;
const errorsOf = (type: string) => `pulse_monitor_poll_errors_total{${TN},error_type="${type}"}`;
const STALENESS = `pulse_monitor_poll_staleness_seconds{${TN}}`;

/** A label value as an exact regex alternative (instance names may hold dots). */
const regexLiteral = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The selectors of Pulse's series for a query: the runbook's, plus the fleet's exclusion when there is one. */
function selectors(p: Pick<QueryParams, 'exclude' | 'job'>) {
  const out = p.exclude?.values.length ? `,${p.exclude.label}!~${JSON.stringify(p.exclude.values.map(regexLiteral).join('|'))}` : '';
  const tn = `${TN}${out}`;
  return {
    polls: `pulse_monitor_poll_total{${tn}}`,
    pollErrors: `pulse_monitor_poll_total{${tn},result="error"}`,
    errorsOf: (type: string) => `pulse_monitor_poll_errors_total{${tn},error_type="${type}"}`,
    staleness: `pulse_monitor_poll_staleness_seconds{${tn}}`,
    lastSuccess: `pulse_monitor_poll_last_success_timestamp{${tn}}`,
    durationBuckets: `pulse_monitor_poll_duration_seconds_bucket{${tn}}`,
    /** The Pulse job's own series (process metrics, `up`). */
    job: `{job=${JSON.stringify(p.job)}${out}}`,
  };
}

/** `sum(` or, per instance, `sum by (pulse_instance) (`. */
const agg = (p: QueryParams, op: 'sum' | 'max' | 'min') => (p.by ? `${op} by (${p.by}) ` : op);

/** Zero errors when no error series exists: one 0 fleet-wide, or a 0 per instance that polls. */
const noErrors = (p: QueryParams, polls: string) => (p.by ? `(0 * group by (${p.by}) (${polls}))` : 'vector(0)');

function noPerInstanceForm(id: CheckId): (p: QueryParams) => void {
  return (p) => {
    if (p.by) throw new Error(`check "${id}" has no per-instance form; per instance: ${PER_INSTANCE_CHECKS.join(', ')}`);
  };
}

/**
 * How far back the sample before a window is looked for. A range selector skips the staleness markers Prometheus
 * writes after one failed scrape, so a scrape gap at the window's start is not mistaken for a counter's birth.
 */
const BEFORE_LOOKBACK = '10m';

/**
 * The exact number of increments of a Pulse counter within W, per series, as Pulse makes its counters
 * (shared/notes/promql.md pitfall 2 and "Measured on real Pulse v6.0.0"):
 * - a series that existed before the window: its value now minus its last value before the window. No
 *   extrapolation: increase() turns 5 timeouts into 5.04 or 4.9, and an error series' first error into nothing;
 * - a series born within the window (Pulse creates it at 1 on the first increment): its whole value;
 * - a series reset within the window (Pulse restarted, its counters start again at 1): increase(), which adds up
 *   the increments on both sides of the reset (extrapolated, so not a whole number); when the restart falls just
 *   before the window's first sample, the value since the restart. (A series both born and reset within one window
 *   loses its first increment: increase() does not see a birth.)
 * The result carries no metric name, so the arms match in `or`.
 */
export function incrementsOf(counter: string, w: string): string {
  const before = `last_over_time(${counter}[${BEFORE_LOOKBACK}] offset ${w})`;
  const reset = `(resets(${counter}[${w}]) > 0)`;
  return `(((${counter} - ${before}) >= 0) unless ${reset}) or (increase(${counter}[${w}]) and ${reset}) or (${counter} * 1)`;
}

/**
 * The subquery step of the streak count (seconds): a new error counts at the first step after its scrape, so the
 * step bounds the delay (5 s with the default 15 min window); it must stay well below the 60 s poll interval so an error
 * before the last success never lands after it.
 */
export function streakStep(windowSeconds: number): number {
  return Math.max(1, Math.min(5, Math.round(windowSeconds / 180)));
}

/**
 * Failed polls since each connection's last success, counted over at most W (the streak itself, not an
 * extrapolated increase over a window of exactly N polls). Each subquery step counts the error increments since
 * the previous step (exact, births included); a step counts when it is later than the last success timestamp
 * Pulse exported (evaluated at the query's end: `@ end()`), or always for a connection with no success in the last
 * hour (its first-ever streak: no last-success series exists). An error series without a streak reads 0; the labels
 * are those of the error series, as before, so the alerts of a running monitor keep their identity.
 */
function streakQuery(p: QueryParams): string {
  const { pollErrors, lastSuccess: ls } = selectors(p);
  const r = promDuration(streakStep(p.windowSeconds));
  const newErrors = incrementsOf(pollErrors, r);
  const lastSuccess = `last_over_time(${ls}[1h] @ end())`;
  // A step counts unless the connection's last success is at or after it (no last success: every step counts).
  const sinceLastSuccess = `(${newErrors}) unless ignoring (result) (${lastSuccess} >= time())`;
  return `sum_over_time((${sinceLastSuccess})[${promDuration(p.windowSeconds)}:${r}]) or (${pollErrors} * 0)`;
}

/**
 * Seconds without a successful poll, per connection: since the last success Pulse exported (last hour, so a Pulse
 * restart that drops the series does not hide it), or, for a connection with no success at all, since the staleness
 * gauge first read -1 (its first failed poll, to the 5 s step; looked for over the last hour, so at most about 3600),
 * marked with the label `since="first failed poll, never succeeded"` (the other series keep their labels, so the
 * alerts of a running monitor keep their identity). Pulse's gauge itself freezes between polls and after a
 * kill-switch (pitfall 4), so it is not read for the age.
 */
function stalenessAgeQuery(p: QueryParams): string {
  const { lastSuccess: ls, staleness } = selectors(p);
  const lastSuccess = `last_over_time(${ls}[1h])`;
  const neverSince = `min_over_time(timestamp(${staleness} < 0)[1h:5s])`;
  return `(time() - ${lastSuccess}) or label_replace((time() - ${neverSince}) unless ${lastSuccess}, "since", "first failed poll, never succeeded", "", "")`;
}

/** Where a row of the Alert Thresholds table comes from: its row number and its own step id (alerts.<row>). */
const ALERT_ROW = (row: 1 | 2 | 3 | 4 | 5 | 6 | 7) => ({ section: 'Alert Thresholds' as const, row, step: `alerts.${row}` as const });

/** The fields every check spells out; the kind's constructor (alertCheck, gateCheck) adds the rest. */
type CheckFields = Omit<MetricCheck, 'id' | 'kind' | 'source' | 'onEmpty' | 'onNaN'> & Partial<Pick<MetricCheck, 'onEmpty' | 'onNaN'>>;

/** The query as written, refusing a per-instance form unless the check has one (PER_INSTANCE_CHECKS). */
function guarded(id: CheckId, query: MetricCheck['query']): MetricCheck['query'] {
  if ((PER_INSTANCE_CHECKS as readonly CheckId[]).includes(id)) return query;
  return (p) => (noPerInstanceForm(id)(p), query(p));
}

/** An alert: a row of the Alert Thresholds table (or a guard of it). No series is a pass; a NaN proves nothing. */
function alertCheck(id: AlertCheckId, source: MetricCheck['source'], fields: CheckFields): MetricCheck {
  return { id, kind: 'alert', source, onEmpty: 'pass', onNaN: 'inconclusive', ...fields, query: guarded(id, fields.query) };
}

/**
 * A canary gate: a Phase 1 monitoring checkpoint (canary.phase1.3, over 1 hour unless said) or an abort criterion.
 * Neither no series nor a NaN proves anything.
 */
function gateCheck(id: GateCheckId, fields: CheckFields & { step?: StepId }): MetricCheck {
  const { step = 'canary.phase1.3', ...rest } = fields;
  return {
    id,
    kind: 'gate',
    source: { section: 'Canary Rollout Strategy', step },
    defaultWindowSeconds: 3600,
    onEmpty: 'inconclusive',
    onNaN: 'inconclusive',
    ...rest,
    query: guarded(id, fields.query),
  };
}

/** Alert rows 2 and 3: the age of the last success, above 300 s (a warning) or 600 s (critical). */
function stalenessAlert(
  id: 'staleness-warning' | 'staleness-critical',
  row: 2 | 3,
  fields: Pick<MetricCheck, 'severity' | 'action' | 'threshold'>,
) {
  return alertCheck(id, ALERT_ROW(row), {
    metric: STALENESS,
    condition: `> ${fields.threshold}s`,
    comparison: '>',
    note:
      'The staleness gauge freezes when polling stops (kill-switch, disable), so the age of the last success is measured instead ' +
      '(pitfall 4); a connection that never succeeded has no last success and counts from its first failed poll (gauge -1).',
    query: stalenessAgeQuery,
    ...fields,
  });
}

/** Alert rows 4 and 6: any increment of an error counter in 5 minutes. */
function anyIncrementAlert(
  id: 'auth-errors' | 'connection-errors',
  row: 4 | 6,
  type: 'auth' | 'connection',
  fields: Pick<MetricCheck, 'severity' | 'action'>,
) {
  return alertCheck(id, ALERT_ROW(row), {
    metric: errorsOf(type),
    condition: 'Any increment',
    comparison: '>',
    threshold: 0,
    defaultWindowSeconds: 300,
    note: `${type === 'auth' ? 'Auth' : 'Connection'} errors counted exactly in the window; a series born within it counts with its whole value (increase() misses the first error, pitfall 2).`,
    query: (p) => incrementsOf(selectors(p).errorsOf(type), promDuration(p.windowSeconds)),
    ...fields,
  });
}

/**
 * Phase 1's "memory and CPU baseline" and abort criterion 3: measurements, not pass/fail rules. They never fail by
 * themselves (the threshold cannot be crossed); the rollout compares them with its baseline.
 */
function resourceGate(id: 'resource-memory' | 'resource-cpu', metric: string, note: string, query: (series: string, w: string) => string) {
  const what = id === 'resource-memory' ? 'memory' : 'CPU';
  return gateCheck(id, {
    metric,
    condition: `${what} baseline captured; abort on > 20 % regression`,
    severity: 'warning',
    action: 'Compare with the baseline; a regression above 20 % attributable to the poller aborts within 1 hour',
    comparison: '<',
    threshold: 0,
    note,
    query: (p) => query(`${metric}${selectors(p).job}`, promDuration(p.windowSeconds)),
  });
}

export const CHECKS: Record<CheckId, MetricCheck> = {
  'consecutive-errors': alertCheck('consecutive-errors', ALERT_ROW(1), {
    metric: POLL_ERRORS,
    condition: '> 3 consecutive errors',
    severity: 'warning',
    action: 'Check TrueNAS connection, verify API key',
    comparison: '>=',
    threshold: 4,
    // How far back the streak is counted: 15 polls at 60 s, well beyond the 4th error.
    defaultWindowSeconds: 900,
    note:
      "Pulse exports no streak metric: the value is the failed polls since the connection's last success (its last-success " +
      'timestamp), counted exactly over at most the window, a first-ever streak included; 4 means more than 3 in a row.',
    query: streakQuery,
  }),
  'staleness-warning': stalenessAlert('staleness-warning', 2, {
    severity: 'warning',
    action: 'Investigate poll failures, check network',
    threshold: 300,
  }),
  'staleness-critical': stalenessAlert('staleness-critical', 3, {
    severity: 'critical',
    action: 'TrueNAS data is stale, operator intervention needed',
    threshold: 600,
  }),
  'auth-errors': anyIncrementAlert('auth-errors', 4, 'auth', {
    severity: 'critical',
    action: 'API key revoked or expired, immediate attention',
  }),
  timeouts: alertCheck('timeouts', ALERT_ROW(5), {
    metric: errorsOf('timeout'),
    condition: '> 5 in 10 minutes',
    severity: 'warning',
    action: 'TrueNAS API response time degraded',
    comparison: '>',
    threshold: 5,
    defaultWindowSeconds: 600,
    note: 'Timeouts counted exactly in the window (increase() extrapolates 5 into 5.04); a series born within it counts with its whole value (pitfall 2).',
    query: (p) => `sum by (instance) (${incrementsOf(selectors(p).errorsOf('timeout'), promDuration(p.windowSeconds))})`,
  }),
  'connection-errors': anyIncrementAlert('connection-errors', 6, 'connection', {
    severity: 'warning',
    action: 'Network connectivity to TrueNAS lost',
  }),
  'latency-p95': alertCheck('latency-p95', ALERT_ROW(7), {
    metric: 'pulse_monitor_poll_duration_seconds{instance_type="truenas"}',
    condition: 'p95 > 10s',
    severity: 'warning',
    action: 'TrueNAS API latency elevated',
    comparison: '>',
    threshold: 10,
    defaultWindowSeconds: 900,
    // No poll in the window: rate() is 0 in every bucket and the quantile is NaN. Latency is then unknown
    // (the staleness alerts speak for a poller that stopped).
    onNaN: 'inconclusive',
    note: 'Polls run every 60 s: the window is 15 min so the quantile rests on about 15 polls (pitfall 5).',
    query: (p) =>
      `histogram_quantile(0.95, sum by (instance, le) (rate(${selectors(p).durationBuckets}[${promDuration(p.windowSeconds)}])))`,
  }),
  'pulse-scrape': alertCheck(
    'pulse-scrape',
    { section: 'shared/notes/promql.md', step: 'alerts.scrape' },
    {
      metric: 'up{job="<pulse job>"}',
      condition: 'Pulse metrics listener not scraped',
      severity: 'warning',
      action:
        "Prometheus cannot scrape Pulse's metrics listener (:9091/metrics); the TrueNAS alerts see no data: check Pulse and the scrape job",
      comparison: '<',
      threshold: 1,
      // No `up` series: the job does not exist in Prometheus, so every other check is blind. Say so.
      onEmpty: 'fail',
      note: 'Not a row of the table: every TrueNAS alert reads "no series" as "no problem", so a scrape gap must be an alert of its own.',
      query: (p) => `up${selectors(p).job}`,
    },
  ),

  // Canary Rollout Strategy: Phase 1 monitoring checkpoints (maintained in phases 2 and 3) and abort criteria.
  'error-rate': gateCheck('error-rate', {
    metric: POLL_ERRORS,
    condition: 'error rate remains below 5% over a rolling 1-hour window',
    severity: 'warning',
    action: 'Hold the phase: investigate the failing polls before the exit gate',
    comparison: '>=',
    threshold: 0.05,
    note:
      'Failed polls over all polls in the window, each counted exactly: the first error of a new error series counts (Pulse creates ' +
      'it at 1, increase() does not see it). No error series counts as zero errors (or vector(0)); no poll at all gives no value, which proves nothing.',
    query: (p) => {
      const { pollErrors, polls } = selectors(p);
      const w = promDuration(p.windowSeconds);
      return `(${agg(p, 'sum')}(${incrementsOf(pollErrors, w)}) or ${noErrors(p, polls)}) / ${agg(p, 'sum')}(${incrementsOf(polls, w)})`;
    },
  }),
  'staleness-gauge-max': gateCheck('staleness-gauge-max', {
    metric: STALENESS,
    condition: 'remains below 300 seconds continuously',
    severity: 'warning',
    action: 'Hold the phase: a connection went stale during the window',
    comparison: '>=',
    threshold: 300,
    query: (p) => `${agg(p, 'max')}(max_over_time(${selectors(p).staleness}[${promDuration(p.windowSeconds)}]))`,
  }),
  'staleness-never-succeeded': gateCheck('staleness-never-succeeded', {
    metric: STALENESS,
    condition: 'remains below 300 seconds continuously (-1 = never succeeded)',
    severity: 'warning',
    action: 'Hold the phase: a connection has never polled successfully',
    comparison: '<',
    threshold: 0,
    note: 'The gauge reads -1 until the first success: a max below 300 can hide a connection that never worked.',
    query: (p) => `${agg(p, 'min')}(min_over_time(${selectors(p).staleness}[${promDuration(p.windowSeconds)}]))`,
  }),
  'staleness-last-success': gateCheck('staleness-last-success', {
    metric: STALENESS,
    condition: 'remains below 300 seconds continuously (age of the last success)',
    severity: 'warning',
    action: 'Hold the phase: polling stopped or failed for 300 s or more',
    comparison: '>=',
    threshold: 300,
    note: 'Catches a stopped poller whose staleness gauge froze (pitfall 4).',
    query: (p) =>
      `max_over_time((time() - ${agg(p, 'min')}(${selectors(p).lastSuccess}))[${promDuration(p.windowSeconds)}:${subqueryStep(p.windowSeconds)}])`,
  }),
  'auth-gate': gateCheck('auth-gate', {
    metric: errorsOf('auth'),
    condition: 'does not increment (no auth errors)',
    severity: 'critical',
    action: 'Hold the phase: an API key was refused; see the auth-errors alert',
    comparison: '>',
    threshold: 0,
    note: 'Auth errors counted exactly in the window, a series born within it included; no auth series at all is 0.',
    query: (p) =>
      `${agg(p, 'sum')}(${incrementsOf(selectors(p).errorsOf('auth'), promDuration(p.windowSeconds))}) or ${noErrors(p, selectors(p).polls)}`,
  }),
  'abort-failure-rate': gateCheck('abort-failure-rate', {
    step: 'canary.abort.1',
    metric: POLL_ERRORS,
    condition: 'poll failure rate exceeds 50% across all connections for more than 5 minutes',
    severity: 'critical',
    action: 'Perform an immediate abort',
    comparison: '>',
    threshold: 0.5,
    defaultWindowSeconds: 300,
    note:
      'The lowest failure ratio (failed over all polls in the window, counted exactly, new error series included) over the window: ' +
      'it is above 50 % only if it stayed there the whole time; exactly 50 % does not abort.',
    query: (p) => {
      const { pollErrors, polls } = selectors(p);
      const w = promDuration(p.windowSeconds);
      return `min_over_time(((sum(${incrementsOf(pollErrors, w)}) or vector(0)) / sum(${incrementsOf(polls, w)}))[${w}:${subqueryStep(p.windowSeconds)}])`;
    },
  }),
  'resource-memory': resourceGate(
    'resource-memory',
    'process_resident_memory_bytes',
    "Averaged over the window so one garbage-collection peak is not a regression; Pulse's own process metrics on its metrics listener.",
    (series, w) => `avg_over_time(${series}[${w}])`,
  ),
  'resource-cpu': resourceGate(
    'resource-cpu',
    'process_cpu_seconds_total',
    'CPU cores used on average over the window.',
    (series, w) => `rate(${series}[${w}])`,
  ),
};

export const DEFAULT_JOB = 'pulse';

/** The query of a check with the runbook's window unless another one is given (fleet: an exclusion, or per instance). */
export function checkQuery(
  id: CheckId,
  opts: { windowSeconds?: number; job?: string; exclude?: QueryParams['exclude']; by?: string } = {},
): { query: string; windowSeconds?: number } {
  const check = CHECKS[id];
  const windowSeconds = check.defaultWindowSeconds === undefined ? undefined : (opts.windowSeconds ?? check.defaultWindowSeconds);
  return {
    query: check.query({ windowSeconds: windowSeconds ?? 0, job: opts.job ?? DEFAULT_JOB, exclude: opts.exclude, by: opts.by }),
    windowSeconds,
  };
}

/** The query of a check as an evaluation request asks for it: its window from the request's windows, else the runbook's. */
export function requestedQuery(
  id: CheckId,
  request: { windows?: Partial<Record<CheckId, number>>; job?: string; exclude?: QueryParams['exclude'] },
): { query: string; windowSeconds?: number } {
  return checkQuery(id, { windowSeconds: request.windows?.[id], job: request.job, exclude: request.exclude });
}

/** "Alert Thresholds, row 4" / "Canary Rollout Strategy (canary.phase1.3)". */
export function checkReference(check: MetricCheck): string {
  return check.source.row !== undefined
    ? `${check.source.section}, row ${check.source.row}`
    : `${check.source.section} (${check.source.step})`;
}

export function compare(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** Parses Prometheus's value string: "NaN" → NaN, "+Inf"/"-Inf" → ±Infinity. */
export function parseValue(value: string): number {
  if (value === '+Inf' || value === 'Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value);
}
