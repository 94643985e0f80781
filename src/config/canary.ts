/**
 * The input schemas of the canary rollout (runbook "Canary Rollout Strategy"): the workflow's input with every
 * duration and threshold at the runbook's default, and the zod schema of every update a person sends (their
 * definitions are in workflows/canary-rollout.messages.ts; the checks it reads and its failure types in src/canary). The CLI parses its flags
 * with these schemas and the workflow's validators parse the payloads again with the same ones, so an error names
 * the same field everywhere.
 *
 * Imported by workflow code: zod only, no Node built-ins.
 */
import { z } from 'zod';
import { CHECK_IDS } from '../prometheus/checks.js';
import { PrometheusTargetSchema } from './prometheus-target.js';
import { ActorSchema } from '../identity/actor.js';
import { CodeRollbackInputSchema } from './code-rollback-input.js';
import { DisableInputSchema, type DisableInput } from './disable.js';
import { EnableInputSchema, type EnableInput } from './enable.js';
import { RetrySettingsSchema } from './retry.js';

export const PHASES = [1, 2, 3] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_KEYS = ['phase1', 'phase2', 'phase3'] as const;
export type PhaseKey = (typeof PHASE_KEYS)[number];
export const phaseKey = (phase: Phase): PhaseKey => PHASE_KEYS[phase - 1];

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The runbook's defaults, in seconds, named once so the CLI help, the schema and the tests agree. */
export const CANARY_DEFAULTS = {
  phase1MinSeconds: 48 * HOUR,
  phase1GreenSeconds: 24 * HOUR,
  phase2MinSeconds: 7 * DAY,
  phase2QuietSeconds: 5 * DAY,
  triageSeconds: 24 * HOUR,
  checkEverySeconds: 60,
  regressionPercent: 20,
  /** Abort criterion 3 says "within 1 hour": a regression is confirmed over this long, then the abort runs at once. */
  regressionConfirmSeconds: 30 * 60,
  authPersistSeconds: 10 * 60,
  criticalBugsMax: 3,
  criticalBugWindowSeconds: 24 * HOUR,
} as const;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_HELP = 'must be 1-64 letters, digits, dot, dash or underscore';
const seconds = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a number of seconds` })
    .positive(`${field} must be positive`)
    .max(max, `${field} must be at most ${max} s`);

/**
 * An instance the rollout acts on. Phase 1 instances are enabled by the rollout (`enable`, run as a child Enable
 * workflow); an opt-in instance enables itself and is only registered. `disable` is what the phase's rollback runs
 * (a child Disable workflow); without it the rollback of that instance is a recorded human step.
 */
export const CanaryInstanceSchema = z
  .object({
    name: z.string().regex(NAME, NAME_HELP),
    /** Where its Pulse answers (shown in the status; the children carry their own target). */
    pulseUrl: z.url('must be a URL such as http://pulse:7655').optional(),
    enable: EnableInputSchema.optional(),
    disable: DisableInputSchema.optional(),
    /** Who to ask when the rollback of this instance is a human step (the opt-in user). */
    contact: z.string().max(200).optional(),
    /** Values for the fleet template's `{vars.<key>}` placeholders (fleet.template). */
    vars: z
      .record(
        z.string().regex(/^[A-Za-z0-9_]{1,40}$/, 'var names are 1-40 letters, digits or underscores'),
        z.union([z.string().max(500), z.number(), z.boolean()]),
      )
      .optional(),
  })
  .strict();
export type CanaryInstance = z.infer<typeof CanaryInstanceSchema>;
export type CanaryInstanceInput = z.input<typeof CanaryInstanceSchema>;

/** A Prometheus label name: where the scrape config names the Pulse instance on its series. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A JSON object whose strings may carry `{name}`, `{pulseUrl}` and `{vars.<key>}` placeholders. */
const TemplateObject = z.record(z.string(), z.unknown(), { error: 'must be a JSON object with the settings shared by every instance' });

/**
 * Many Pulse instances in one rollout (issue 17). Instances are enabled in waves of `waves.concurrency` child Enable
 * runs; more failures than the error budget stop new Enables and abort the rollout. With `instanceLabel` every
 * checkpoint is also evaluated per instance (grouped by that label) and an instance that breaks one is disabled on
 * its own; the fleet-wide checks leave it out from then on.
 */
export const FleetSchema = z
  .object({
    /**
     * The label that names a Pulse instance on its series (the instance's `name` is its value), set by the scrape
     * config, e.g. `static_configs: [{targets: [...], labels: {pulse_instance: pulse-17}}]`. Pulse's own `instance`
     * label is the TrueNAS connection id (honor_labels), so it cannot be this. Unset: no per-instance gates.
     */
    instanceLabel: z
      .string()
      .regex(LABEL_NAME, 'must be a Prometheus label name such as pulse_instance')
      .refine(
        (l) => l !== 'instance' && l !== 'job' && l !== 'instance_type',
        'must not be instance, job or instance_type: Pulse and Prometheus use those; use e.g. pulse_instance',
      )
      .optional(),
    waves: z
      .object({
        /** Child Enable runs per wave; the next wave starts when the whole wave has finished. */
        concurrency: z.number({ error: 'fleet.waves.concurrency must be a number' }).int().min(1).max(200).default(10),
        /** Error budget: more than this many failures (failed Enables, instances that broke a checkpoint) stop the waves and abort. */
        maxFailures: z.number().int().min(0).max(100_000).optional(),
        /** The same as a share of the instances to enable: more than floor(pct x instances / 100) failures. */
        maxFailurePercent: z.number().min(0).max(100).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Enable and Disable settings for every instance that gives none of its own, with `{name}`, `{pulseUrl}` and
     * `{vars.<key>}` replaced per instance in every string (e.g. "argv": ["systemctl", "-H", "{name}", "restart", "pulse"]).
     */
    template: z.object({ enable: TemplateObject.optional(), disable: TemplateObject.optional() }).strict().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.waves.maxFailures !== undefined && f.waves.maxFailurePercent !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['waves', 'maxFailurePercent'], message: 'give maxFailures or maxFailurePercent, not both' });
    }
  });
export type FleetSettings = z.infer<typeof FleetSchema>;

const VerdictSchema = z.enum(['pass', 'fail', 'inconclusive']);

const ApproversSchema = z
  .array(ActorSchema, { error: 'approvers must be a list of names' })
  .min(1, 'name at least one approver for every phase');

export const CanaryInputSchema = z
  .object({
    /** A name for the rollout, in ids and notifications (e.g. "truenas-2026-12"). */
    rollout: z.string().regex(NAME, NAME_HELP).default('truenas'),
    /** Who started the rollout; may not approve their own phases unless allowSelfApproval. */
    startedBy: ActorSchema,
    prometheus: PrometheusTargetSchema,
    /** The Prometheus job that scrapes Pulse's metrics listener (process metrics and `up`). */
    pulseJob: z.string().min(1).default('pulse'),
    /** Window per check in seconds, overriding the runbook's (short gates in rehearsals). */
    windows: z.partialRecord(z.enum(CHECK_IDS), seconds('windows.<check>', 7 * DAY)).default({}),
    /** The verdict of an empty or NaN answer per check, overriding the catalogue's (never a silent pass by default). */
    verdicts: z
      .partialRecord(z.enum(CHECK_IDS), z.object({ onEmpty: VerdictSchema.optional(), onNaN: VerdictSchema.optional() }).strict())
      .default({}),
    /** Durable timer between metric checkpoints. */
    checkEverySeconds: seconds('checkEverySeconds', DAY).default(CANARY_DEFAULTS.checkEverySeconds),
    phase1: z
      .object({
        /** The internal/dev instances the rollout enables (phase1.1). */
        instances: z.array(CanaryInstanceSchema).default([]),
        minSeconds: seconds('phase1.minSeconds', 365 * DAY).default(CANARY_DEFAULTS.phase1MinSeconds),
        /** The exit gate: every checkpoint green for this many continuous seconds. */
        greenSeconds: seconds('phase1.greenSeconds', 365 * DAY).default(CANARY_DEFAULTS.phase1GreenSeconds),
      })
      .strict()
      .prefault({}),
    phase2: z
      .object({
        /** Opt-in instances known at the start; more are registered while the phase runs. */
        instances: z.array(CanaryInstanceSchema).default([]),
        minSeconds: seconds('phase2.minSeconds', 365 * DAY).default(CANARY_DEFAULTS.phase2MinSeconds),
        /** The exit gate: zero critical issues for this many continuous seconds. */
        quietSeconds: seconds('phase2.quietSeconds', 365 * DAY).default(CANARY_DEFAULTS.phase2QuietSeconds),
        /** User reports must be triaged within this long. */
        triageSeconds: seconds('phase2.triageSeconds', 30 * DAY).default(CANARY_DEFAULTS.triageSeconds),
      })
      .strict()
      .prefault({}),
    phase3: z
      .object({
        /** Alert Thresholds rows watched in phase 3 besides the Phase 2 checks (the staleness alerts). */
        alertChecks: z.array(z.enum(CHECK_IDS)).default(['staleness-warning', 'staleness-critical']),
      })
      .strict()
      .prefault({}),
    aborts: z
      .object({
        regressionPercent: z.number().positive().max(1000).default(CANARY_DEFAULTS.regressionPercent),
        regressionConfirmSeconds: seconds('aborts.regressionConfirmSeconds', HOUR).default(CANARY_DEFAULTS.regressionConfirmSeconds),
        authPersistSeconds: seconds('aborts.authPersistSeconds', DAY).default(CANARY_DEFAULTS.authPersistSeconds),
        criticalBugsMax: z.number().int().min(0).max(1000).default(CANARY_DEFAULTS.criticalBugsMax),
        criticalBugWindowSeconds: seconds('aborts.criticalBugWindowSeconds', 30 * DAY).default(CANARY_DEFAULTS.criticalBugWindowSeconds),
      })
      .strict()
      .prefault({}),
    /** Many instances: waves, an error budget, per-instance gates, shared Enable/Disable settings. */
    fleet: FleetSchema.prefault({}),
    /** Who may sign off each phase's move (phase3: who may complete the rollout). */
    approvers: z.object({ phase1: ApproversSchema, phase2: ApproversSchema, phase3: ApproversSchema }).strict(),
    /** Distinct approvers needed per phase. */
    quorum: z
      .object({
        phase1: z.number().int().min(1).max(20).default(1),
        phase2: z.number().int().min(1).max(20).default(1),
        phase3: z.number().int().min(1).max(20).default(1),
      })
      .strict()
      .prefault({}),
    /**
     * Who else may act on the rollout (report, triage, confirm the staging test, register, pause, abort). When set,
     * anyone not listed here, not an approver and not the starter is refused; when absent anyone may report or abort
     * (stopping a rollout should never wait for a list).
     */
    operators: z.array(ActorSchema).max(200).optional(),
    /** The person who started the rollout may approve its phases (off: the runbook's "stakeholder" is someone else). */
    allowSelfApproval: z.boolean().default(false),
    /** A memory/CPU baseline measured before the rollout; otherwise phase 1 captures it (phase1.3). */
    baseline: z
      .object({ memoryBytes: z.number().positive().optional(), cpuCoresUsed: z.number().positive().optional() })
      .strict()
      .optional(),
    /** Monitoring cycles after which the run continues as new (also when Temporal suggests it), carrying the state. */
    cyclesPerRun: z.number().int().min(1).max(5000).default(500),
    /** Plan mode: one evaluation, and the phases, gates and children it would run; nothing is started or changed. */
    plan: z.boolean().default(false),
    retry: RetrySettingsSchema.default({ maximumAttempts: 3, initialIntervalSeconds: 1, maximumIntervalSeconds: 10 }),
    /**
     * The state carried across continue-as-new; not set by people. Its shape is src/canary/state.ts's CanaryState,
     * written by the workflow itself: an input schema names no domain type (src/canary builds on src/config).
     */
    state: z.custom<{ phase: unknown }>((v) => typeof v === 'object' && v !== null && 'phase' in v, 'must be a canary state').optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    for (const key of PHASE_KEYS) {
      const needed = input.quorum[key];
      const eligible = input.approvers[key].filter((a) => input.allowSelfApproval || a !== input.startedBy);
      if (new Set(eligible).size < needed) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvers', key],
          message: `${key} needs ${needed} approver(s) other than ${input.startedBy} (who started the rollout); list more approvers or lower quorum.${key}`,
        });
      }
    }
    const names = new Set<string>();
    [...input.phase1.instances, ...input.phase2.instances].forEach((instance, i) => {
      if (names.has(instance.name))
        ctx.addIssue({ code: 'custom', path: ['instances', i, 'name'], message: `duplicate instance name "${instance.name}"` });
      names.add(instance.name);
    });
    // Every instance the template serves must come out of it as valid Enable/Disable settings: say which one does not.
    for (const key of ['phase1', 'phase2'] as const) {
      input[key].instances.forEach((instance, i) => {
        for (const problem of templateProblems(input.fleet, instance)) {
          ctx.addIssue({ code: 'custom', path: [key, 'instances', i, ...problem.path], message: problem.message });
        }
      });
    }
  });

/**
 * Replaces `{name}`, `{pulseUrl}` and `{vars.<key>}` in every string of a template; an unknown placeholder is an
 * error. A string that is exactly one placeholder takes the value as it is (a number var fills a port).
 */
export function fillTemplate(template: unknown, instance: Pick<CanaryInstance, 'name' | 'pulseUrl' | 'vars'>): unknown {
  const PLACEHOLDER = /\{(name|pulseUrl|vars\.[A-Za-z0-9_]+)\}/g;
  const valueOf = (whole: string, key: string) => {
    const value = key === 'name' ? instance.name : key === 'pulseUrl' ? instance.pulseUrl : instance.vars?.[key.slice(5)];
    if (value === undefined)
      throw new TemplateError(
        `${whole} has no value for instance ${instance.name}: give it ${key === 'pulseUrl' ? 'a pulseUrl' : `vars.${key.slice(5)}`}`,
      );
    return value;
  };
  const fill = (text: string): unknown => {
    const whole = /^\{(name|pulseUrl|vars\.[A-Za-z0-9_]+)\}$/.exec(text);
    if (whole) return valueOf(whole[0], whole[1]);
    return text.replace(PLACEHOLDER, (w, key: string) => String(valueOf(w, key)));
  };
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? fill(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(template);
}

export class TemplateError extends Error {}

/** The Enable (or Disable) settings of an instance: its own, else the fleet template filled in for it. */
export function instanceSettings(fleet: FleetSettings, instance: CanaryInstance, which: 'enable'): EnableInput | undefined;
export function instanceSettings(fleet: FleetSettings, instance: CanaryInstance, which: 'disable'): DisableInput | undefined;
export function instanceSettings(
  fleet: FleetSettings,
  instance: CanaryInstance,
  which: 'enable' | 'disable',
): EnableInput | DisableInput | undefined {
  if (instance[which]) return instance[which];
  const template = fleet.template?.[which];
  if (!template) return undefined;
  const schema = which === 'enable' ? EnableInputSchema : DisableInputSchema;
  return schema.parse(fillTemplate(template, instance));
}

/** What is wrong with the template's settings for this instance, with the path in the template. */
export function templateProblems(fleet: FleetSettings, instance: CanaryInstance): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  for (const which of ['enable', 'disable'] as const) {
    const template = fleet.template?.[which];
    if (!template || instance[which]) continue;
    let filled: unknown;
    try {
      filled = fillTemplate(template, instance);
    } catch (err) {
      problems.push({ path: [which], message: `fleet.template.${which}: ${(err as Error).message}` });
      continue;
    }
    const parsed = (which === 'enable' ? EnableInputSchema : DisableInputSchema).safeParse(filled);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({
          path: [which, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          message: `fleet.template.${which} filled in for ${instance.name}: ${issue.message}`,
        });
      }
    }
  }
  return problems;
}

export type CanaryInput = z.infer<typeof CanaryInputSchema>;
export type CanaryInputRaw = z.input<typeof CanaryInputSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Updates a person sends. Every payload carries `actor`.

const text = (what: string, max = 2000) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(max);

export const SignOffSchema = z.object({ actor: ActorSchema, comment: text('a comment').optional() }).strict();
export const AbortSchema = z.object({ actor: ActorSchema, reason: text('the reason (--reason)') }).strict();
export const ISSUE_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type IssueSeverity = (typeof ISSUE_SEVERITIES)[number];
export const ReportIssueSchema = z
  .object({
    actor: ActorSchema,
    severity: z.enum(ISSUE_SEVERITIES, { error: `severity must be one of ${ISSUE_SEVERITIES.join(', ')}` }),
    title: text('a title (--title)', 300),
    instance: z.string().regex(NAME, NAME_HELP).optional(),
    /** A user report is a bug a user saw; it must be triaged within phase2.triageSeconds. */
    source: z.enum(['user', 'internal']).default('user'),
  })
  .strict();
export const IssueRefSchema = z
  .object({
    actor: ActorSchema,
    issue: z.string().regex(/^issue-\d+$/, 'must be an issue id such as issue-3'),
    note: text('a note (--note)'),
  })
  .strict();
export const DataCorruptionSchema = z
  .object({
    actor: ActorSchema,
    description: text('what was seen (--description)'),
    instance: z.string().regex(NAME, NAME_HELP).optional(),
  })
  .strict();
export const StagingRollbackSchema = z
  .object({
    actor: ActorSchema,
    /** What proves it: a run id of the Disable/Code Rollback workflow in staging, a ticket, a log link. */
    evidence: text('the evidence (--evidence: a staging run id, ticket or log link)'),
    workflowId: z.string().max(300).optional(),
  })
  .strict();
export const RegisterInstanceSchema = z.object({ actor: ActorSchema, instance: CanaryInstanceSchema }).strict();
export const DefaultOnReleaseSchema = z
  .object({
    actor: ActorSchema,
    version: text('the release version (--version)', 100),
    commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'must be the hex SHA of the commit that flips the default (7-40 characters)'),
    /** How to revert it if phase 3 aborts (runbook: "Revert the default-on commit and release a patch"). */
    rollback: CodeRollbackInputSchema.optional(),
  })
  .strict();
export const PauseSchema = z.object({ actor: ActorSchema, reason: text('the reason (--reason)') }).strict();
export const ResumeSchema = z.object({ actor: ActorSchema, note: text('a note').optional() }).strict();
export const CompleteSchema = z.object({ actor: ActorSchema, comment: text('a comment').optional() }).strict();

/** The schema each update of the rollout is checked by, by update name: the CLI before sending, the workflow's validator. */
export const CANARY_UPDATE_SCHEMAS = {
  signOff: SignOffSchema,
  abort: AbortSchema,
  reportIssue: ReportIssueSchema,
  triageIssue: IssueRefSchema,
  resolveIssue: IssueRefSchema,
  reportDataCorruption: DataCorruptionSchema,
  confirmStagingRollback: StagingRollbackSchema,
  registerInstance: RegisterInstanceSchema,
  recordDefaultOnRelease: DefaultOnReleaseSchema,
  pauseMonitoring: PauseSchema,
  resumeMonitoring: ResumeSchema,
  complete: CompleteSchema,
} as const;
/** The parsed payload of the update of that name. */
export type CanaryUpdateRequest<N extends keyof typeof CANARY_UPDATE_SCHEMAS> = (typeof CANARY_UPDATE_SCHEMAS)[N]['_output'];
