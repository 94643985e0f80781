/**
 * The input schemas of the incident process (runbook "Ownership and Escalation Routing", "Incident Severity and
 * Response"): the words a person may use (severities, impacts, scopes, owners), the business calendar and escalation
 * timers, the incident workflow's input and the payload of every update a person sends. The CLI parses its flags
 * with these schemas and the workflow's update validators parse the payload again with the same ones, so an error
 * names the same field everywhere. The runbook's tables are in src/incident/tables.ts; the update, query and signal
 * definitions, id prefix and memo keys in workflows/incident.messages.ts.
 *
 * Imported by workflow code: no Node built-ins here (zod and Intl only).
 */
import { z } from 'zod';
import { DisableInputSchema } from './disable.js';
import { envNameSchema } from './env-name.js';
import { ActorSchema, ActorSourceSchema } from '../identity/actor.js';
import { IncidentRolesSchema, OWNER_ALIASES, OWNERS, required } from './incident-people.js';
import { KillSwitchInputSchema } from './kill-switch.js';
import { RetrySettingsSchema } from './retry.js';

// ---------------------------------------------------------------------------------------------------------------
// Severities and impacts (runbook "Incident Severity and Response"; the table itself: src/incident/tables.ts)

export const SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The runbook's words for what happened, one impact per clause of its severity list. A reporter names impacts;
 * the highest severity among them is the classification, and a person can override it with a reason.
 */
export const IMPACTS = [
  'data-loss',
  'security-breach',
  'broad-outage',
  'degraded-functionality',
  'single-feature-outage',
  'non-blocking-degradation',
  'monitoring-gap',
  'cosmetic',
  'documentation',
] as const;
export type Impact = (typeof IMPACTS)[number];

// ---------------------------------------------------------------------------------------------------------------
// Owners and scopes (runbook "Owner routing"; the table itself: src/incident/tables.ts; owners: incident-people.ts)

export {
  INCIDENT_COMMANDER,
  INCIDENT_ROLES,
  IncidentRolesSchema,
  OWNERS,
  type IncidentRole,
  type IncidentRoles,
  type Owner,
} from './incident-people.js';

export const SCOPES = ['poller-health', 'switch-operations', 'code-rollback', 'security'] as const;
export type Scope = (typeof SCOPES)[number];

// ---------------------------------------------------------------------------------------------------------------
// Small field schemas

export const SeveritySchema = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
  z.enum(SEVERITIES, { error: (i) => (i.input === undefined ? 'required: give P1, P2, P3 or P4' : 'must be P1, P2, P3 or P4') }),
);

export const OwnerSchema = z.preprocess(
  (v) => (typeof v === 'string' ? (OWNER_ALIASES[v.trim().toLowerCase()] ?? v) : v),
  z.enum(OWNERS, {
    error: (i) =>
      i.input === undefined
        ? 'required: name an owner: Pulse Operations (ops), Engineering (eng) or Security Response Owner (security)'
        : 'must be one of Pulse Operations (ops), Engineering (eng), Security Response Owner (security)',
  }),
);

export const ImpactSchema = z.enum(IMPACTS, { error: () => `must be one of ${IMPACTS.join(', ')}` });

export const ScopeSchema = z.enum(SCOPES, { error: () => `must be one of ${SCOPES.join(', ')}` });

/** Free text a person writes into the record: bounded, so one update cannot bloat the history. */
const text = (what: string, max = 2000) =>
  z.string(required(what)).trim().min(1, `must not be empty: ${what}`).max(max, `must be at most ${max} characters`);

const HttpUrl = z
  .url('must be a URL such as https://hooks.example/incident')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

/**
 * A notification URL. Credentials in it (https://user:pass@host/…) would be stored in the incident's history and
 * shown masked, so the notification would silently go out without them: they are refused, with the way to pass a
 * secret URL by reference (the whole URL in an env var on the worker's host).
 */
const WebhookUrl = HttpUrl.refine((u) => !/^https?:\/\/[^/?#]*@/i.test(u), {
  error:
    "must not contain a user or password (user:pass@host): put the whole URL, credentials included, in an env var on the worker's host and give its name instead (--webhook-env name=ENV_VAR, or urlEnv in the input)",
});

// ---------------------------------------------------------------------------------------------------------------
// Business calendar (P3/P4 escalate if unresolved by the next business day)

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM such as 09:00');
const LocalDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date YYYY-MM-DD such as 2026-12-25');

/**
 * When the business is open. "Next business day" means: the first day after the local date on which the
 * deadline started that is one of `days` and not a holiday; the escalation fires at `opensAt` of that day
 * (`escalateAt: 'start'`, the default) or at `closesAt` (`'end'`), in `timeZone`.
 */
export const BusinessCalendarSchema = z
  .object({
    timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin, America/New_York or UTC').default('UTC'),
    days: z
      .array(z.enum(WEEKDAYS, { error: () => `must be one of ${WEEKDAYS.join(', ')}` }))
      .min(1, 'must name at least one business day, e.g. Mon..Fri')
      .default(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']),
    opensAt: TimeOfDay.default('09:00'),
    closesAt: TimeOfDay.default('17:00'),
    holidays: z.array(LocalDate).max(1000).default([]),
    escalateAt: z.enum(['start', 'end'], { error: () => 'must be start or end (of the next business day)' }).default('start'),
  })
  .strict()
  .refine((c) => c.opensAt < c.closesAt, { error: 'opensAt must be earlier than closesAt', path: ['closesAt'] });

export type BusinessCalendar = z.infer<typeof BusinessCalendarSchema>;
export type BusinessCalendarInput = z.input<typeof BusinessCalendarSchema>;

/** The runbook's response windows, as parameters so tests and drills can shorten them. */
export const EscalationTimersSchema = z
  .object({
    /** P1: escalate if containment has not started within this many minutes. */
    p1ContainmentMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(15),
    /** P2: escalate to Engineering if mitigation is not active within this many minutes. */
    p2MitigationMinutes: z
      .number()
      .positive()
      .max(7 * 24 * 60)
      .default(60),
  })
  .strict();

export type EscalationTimers = z.infer<typeof EscalationTimersSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Notifications

/**
 * A webhook that receives a JSON POST per page, notification and escalation. Webhook URLs often carry a secret
 * (Slack, Teams), so a URL can be given by reference (`urlEnv`, read by the activity on the worker's host) and
 * the record and reports only ever show the `name`.
 */
export const NotificationTargetSchema = z
  .object({
    name: z.string().trim().min(1, 'must name the target, e.g. ops-chat').max(60, 'must be at most 60 characters'),
    url: WebhookUrl.optional(),
    urlEnv: envNameSchema('INCIDENT_WEBHOOK_URL', 'the webhook URL').optional(),
  })
  .strict()
  .refine((t) => Boolean(t.url) !== Boolean(t.urlEnv), { error: 'give exactly one of url or urlEnv', path: ['url'] });

export type NotificationTarget = z.infer<typeof NotificationTargetSchema>;

export const NotifySettingsSchema = z
  .object({
    webhooks: z.array(NotificationTargetSchema).max(20).default([]),
    timeoutMs: z.number().int().positive().max(60_000).default(10_000),
    retry: RetrySettingsSchema.default({ maximumAttempts: 5, initialIntervalSeconds: 2, maximumIntervalSeconds: 60 }),
  })
  .strict();

export type NotifySettings = z.infer<typeof NotifySettingsSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Procedures linked to an incident record

/** The procedures that open an incident record when started on their own (runbook escalation step 3). */
export const LINKED_PROCEDURES = ['kill-switch', 'code-rollback'] as const;
export type LinkedProcedure = (typeof LINKED_PROCEDURES)[number];

// ---------------------------------------------------------------------------------------------------------------
// The incident workflow's input

export const IncidentSourceSchema = z
  .object({
    procedure: z.enum(LINKED_PROCEDURES),
    workflowId: z.string().min(1),
    runId: z.string().optional(),
  })
  .strict();

export type IncidentSource = z.infer<typeof IncidentSourceSchema>;

export const ProcedureOutcomeSchema = z
  .object({
    workflowId: z.string().min(1),
    status: z.enum(['completed', 'failed']),
    /** One line: what the procedure reported, or why it failed (already redacted by the procedure). */
    message: z.string().max(4000),
    /** The step it failed at, when it failed. */
    failedStep: z.string().optional(),
    /** What a person still has to do: the steps that did not complete, and anything left changed. */
    leftToDo: z.array(z.string().max(1000)).max(50).default([]),
  })
  .strict();

export type ProcedureOutcome = z.infer<typeof ProcedureOutcomeSchema>;

export const IncidentInputSchema = z
  .object({
    title: text('a one-line title of what is wrong', 200),
    summary: text('what is known so far').optional(),
    /** The runbook's impact words; the highest severity among them is the classification. */
    impacts: z.array(ImpactSchema).max(IMPACTS.length).default([]),
    /** A person's classification, overriding the rules; needs `severityReason`. */
    severity: SeveritySchema.optional(),
    severityReason: text('why this severity').optional(),
    /** Which row of the ownership table applies; default: security for a security breach, else poller health. */
    scope: ScopeSchema.optional(),
    openedBy: ActorSchema,
    /** How the CLI determined `openedBy` (absent when not sent by the CLI, e.g. opened by a procedure). */
    openedBySource: ActorSourceSchema.optional(),
    /** Who may act (src/incident/roles.ts); absent: anyone may. */
    roles: IncidentRolesSchema.optional(),
    /** Set when a procedure opened this record (runbook escalation step 3). */
    source: IncidentSourceSchema.optional(),
    calendar: BusinessCalendarSchema.default(BusinessCalendarSchema.parse({})),
    timers: EscalationTimersSchema.default({ p1ContainmentMinutes: 15, p2MitigationMinutes: 60 }),
    notify: NotifySettingsSchema.default(NotifySettingsSchema.parse({})),
    /** Plan mode: classify, route and compute the deadlines, then return without waiting or notifying. */
    plan: z.boolean().default(false),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.severity && !input.severityReason) {
      ctx.addIssue({
        code: 'custom',
        path: ['severityReason'],
        message: 'required when severity is set: say why a person chose this severity',
      });
    }
    if (!input.severity && input.impacts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['impacts'],
        message: `give at least one impact (${IMPACTS.join(', ')}) or set severity with a reason`,
      });
    }
  });

export type IncidentInput = z.infer<typeof IncidentInputSchema>;
export type IncidentInputRaw = z.input<typeof IncidentInputSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Updates a person sends. Every payload carries `actor` (see ActorSchema) and, from the CLI, `actorSource`.

export const AcknowledgeSchema = z
  .object({ actor: ActorSchema, actorSource: ActorSourceSchema.optional(), note: text('a note').optional() })
  .strict();

/** Evidence a person attaches to an action: links, a workflow run, small facts. Secrets are masked on entry. */
export const ActionEvidenceSchema = z
  .object({
    links: z.array(HttpUrl).max(20).optional(),
    workflowId: z.string().min(1).max(300).optional(),
    details: z.record(z.string(), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict();

export type ActionEvidence = z.infer<typeof ActionEvidenceSchema>;

export const StartResponseSchema = z
  .object({
    actor: ActorSchema,
    actorSource: ActorSourceSchema.optional(),
    /** Containment stops the damage (P1, within 15 min); mitigation reduces it (P2, within 1 h). */
    phase: z.enum(['containment', 'mitigation'], { error: () => 'must be containment or mitigation' }),
    summary: text('what is being done'),
    /**
     * Optionally run a procedure as a child workflow. Its input is checked here with the procedure's own schema
     * (defaults filled), so a wrong field is refused before anything starts, named as procedure.input.<field>.
     */
    procedure: z
      .discriminatedUnion(
        'name',
        [
          z.object({ name: z.literal('kill-switch'), input: KillSwitchInputSchema }).strict(),
          z.object({ name: z.literal('disable'), input: DisableInputSchema }).strict(),
        ],
        { error: () => 'procedure.name must be kill-switch or disable' },
      )
      .refine((p) => !p.input.plan, {
        error: 'a containment run must act: run the plan on its own first (pulse-runbook kill-switch --plan / disable --plan)',
        path: ['input', 'plan'],
      })
      .optional(),
    evidence: ActionEvidenceSchema.optional(),
  })
  .strict();

export const ClassifySchema = z
  .object({
    actor: ActorSchema,
    actorSource: ActorSourceSchema.optional(),
    severity: SeveritySchema,
    reason: text('why this severity'),
    impacts: z.array(ImpactSchema).max(IMPACTS.length).optional(),
  })
  .strict();

export const HandoffSchema = z
  .object({
    actor: ActorSchema,
    actorSource: ActorSourceSchema.optional(),
    to: OwnerSchema,
    reason: text('why the owner changes').optional(),
  })
  .strict();

export const RecordActionSchema = z
  .object({
    actor: ActorSchema,
    actorSource: ActorSourceSchema.optional(),
    summary: text('what was done'),
    evidence: ActionEvidenceSchema.optional(),
  })
  .strict();

export const ResolveSchema = z
  .object({
    actor: ActorSchema,
    actorSource: ActorSourceSchema.optional(),
    /** The runbook asks for the final resolution owner in the record: resolving without one is refused. */
    finalOwner: OwnerSchema,
    summary: text('how it was resolved'),
  })
  .strict();

/** Every update a person sends, by its name (its definition is in workflows/incident.messages.ts). */
export const UPDATE_SCHEMAS = {
  acknowledge: AcknowledgeSchema,
  startResponse: StartResponseSchema,
  classify: ClassifySchema,
  handoff: HandoffSchema,
  recordAction: RecordActionSchema,
  resolve: ResolveSchema,
} as const;

export type IncidentUpdateName = keyof typeof UPDATE_SCHEMAS;
/** The parsed payload of the update of that name. */
export type IncidentUpdateInput<N extends IncidentUpdateName> = (typeof UPDATE_SCHEMAS)[N]['_output'];
