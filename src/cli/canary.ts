/**
 * `pulse-runbook canary <sub-command>`: the canary rollout (runbook "Canary Rollout Strategy") for people at a
 * terminal. `start` starts the long-running workflow `canary-<rollout>` from a rollout file and returns; `status`
 * asks it (the `status` query) where it is and what it waits for; every other sub-command sends one update.
 *
 * Flags are checked with the same zod schemas the workflow's update validators use (src/config/canary.ts), so a
 * mistake is named by its flag before Temporal is contacted; what the rollout's state does not allow (a sign-off
 * before the gate, a non-approver) is refused by the workflow, printed with its failure type, and exits 1. Who
 * acts comes from src/identity (a verified token's subject, else the OS user; `--actor` is recorded as claimed,
 * and refused under a token policy when it names someone else). Free text is sanitized before it is sent, so a pasted token never reaches
 * history; rollout, Disable and Code Rollback files carry secrets only by reference (an env var name or a path).
 */
import { readFileSync } from 'node:fs';
import { assertWorkersCanReadFor } from './codec-check.js';
import { Command, Option } from 'commander';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { CANARY_UPDATE_SCHEMAS, CanaryInputSchema, ISSUE_SEVERITIES } from '../config/canary.js';
import { ConfigError, describeZodError } from '../config/load.js';
import { listRuns } from '../temporal/list-runs.js';
import { renderCanaryList, renderCanaryResult, renderCanaryStatus, renderInstanceDetail, type CanaryListRow } from '../canary/render.js';
import type { InstanceDetail } from '../canary/status.js';
import type { ChecklistItem } from '../canary/state.js';
import { sanitizeText } from '../incident/sanitize.js';
import type { CanaryResult, CanaryStatus } from '../../workflows/canary-rollout.js';
import {
  CANARY_ROLLOUT_WORKFLOW,
  CANARY_UPDATES,
  canaryInstanceQuery,
  canaryStatusQuery,
  type CanaryUpdateName,
  type CanaryUpdateResult,
} from '../../workflows/canary-rollout.messages.js';
import type { Identity } from '../identity/resolve.js';
import { EMBEDDED_UI, addActorFlag, addGlobalFlags, connect, loadSettings, type GlobalFlags, type Settings } from './context.js';
import { describeFailure, uiLink } from './follow.js';
import { simulateCommand } from './canary-simulate.js';
import { keywordStartAttributes } from '../temporal/search-attributes.js';

export const CANARY_ID_PREFIX = 'canary-';
const PROCEDURE = 'canary-rollout';

interface CommonFlags extends GlobalFlags {
  /** Resolved before the action runs (addActorFlag): the verified or claimed actor. */
  actor: string;
  identity?: Identity;
  json?: boolean;
  uiUrl?: string;
}

/** Global flags plus `--actor` (resolved before the action), `--json` and `--ui-url`, on every canary sub-command. */
function base(name: string, description: string): Command {
  return addActorFlag(addGlobalFlags(new Command(name).description(description)))
    .option('--json', 'print JSON')
    .option('--ui-url <url>', `Temporal Web UI base for links (or TEMPORAL_UI_URL; default ${EMBEDDED_UI})`);
}

/** Prints the value as JSON with --json, else the text for people. */
function print(flags: { json?: boolean }, value: unknown, text: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** The run's page in the Web UI: --ui-url, TEMPORAL_UI_URL, else the embedded dev server's UI. */
export function canaryUiLink(flags: { uiUrl?: string }, namespace: string, workflowId: string, env = process.env): string {
  const ui = (flags.uiUrl || env.TEMPORAL_UI_URL || EMBEDDED_UI).replace(/\/+$/, '');
  return uiLink(ui, namespace, workflowId)!;
}

/** `canary-<rollout>`; a bare rollout name is accepted too. */
export function canaryWorkflowId(idOrRollout: string): string {
  return idOrRollout.startsWith(CANARY_ID_PREFIX) ? idOrRollout : `${CANARY_ID_PREFIX}${idOrRollout}`;
}

async function withClient<T>(
  flags: GlobalFlags & { identity?: Identity },
  fn: (client: Client, settings: Settings) => Promise<T>,
): Promise<T> {
  const settings = loadSettings(flags);
  const { client } = await connect(settings, { identity: flags.identity });
  try {
    return await fn(client, settings);
  } finally {
    await client.connection.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// checking flags with the workflow's schemas

/** How a zod path is named for people: an exact flag, or a file flag followed by the path inside the file. */
interface FieldNames {
  exact?: Record<string, string>;
  files?: Array<{ prefix: string; flag: string }>;
}

function fieldName(path: string, names: FieldNames): string {
  const exact = names.exact?.[path];
  if (exact) return exact;
  for (const { prefix, flag } of names.files ?? []) {
    if (prefix === '') return path ? `${flag} ${path}` : flag;
    if (path === prefix) return flag;
    if (path.startsWith(`${prefix}.`)) return `${flag} ${path.slice(prefix.length + 1)}`;
  }
  return path || '(value)';
}

/** Parses with the schema or throws a ConfigError (exit 2) with one line per problem, each naming its flag. */
export function checkFlags<S extends z.ZodType>(schema: S, value: unknown, source: string, names: FieldNames): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const map = Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.'), fieldName(i.path.join('.'), names)]));
  throw new ConfigError(describeZodError(parsed.error, source, map));
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${what} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`,
    );
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${what} ${path}: ${(err as Error).message}; give a file with a JSON object`);
  }
}

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, min: 60, h: 3600, d: 86_400 };

/** "90", "90s", "5m", "1h", "2d" → seconds. */
export function parseDurationFlag(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$/.exec(value);
  if (!m) throw new ConfigError(`${flag} ${value}: must be seconds, or a number with s, m, h or d (e.g. 30s, 5m, 1h)`);
  return Number(m[1]) * UNITS[m[2] ?? ''];
}

/** Free text a person typed: a pasted secret is masked before it reaches history. */
const clean = (text: string | undefined) => (text === undefined ? undefined : sanitizeText(text));
/** Drops undefined fields, so `.strict()` schemas see only what was given. */
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

// ---------------------------------------------------------------------------------------------------------------
// start

interface StartFlags extends CommonFlags {
  rolloutFile?: string;
  rollout?: string;
  prometheusUrl?: string;
  checkEvery?: string;
  plan?: boolean;
}

/** The workflow input from the rollout file and the flags (flags win); checked with CanaryInputSchema. */
export function canaryInputFromFlags(
  flags: StartFlags,
  command = 'canary start',
): { raw: Record<string, unknown>; rollout: string; plan: boolean } {
  if (!flags.rolloutFile) {
    throw new ConfigError(
      `${command} --rollout-file: required; give the rollout file (JSON with prometheus, approvers, phase1.instances, durations)`,
    );
  }
  const file = readJsonObject(flags.rolloutFile, `${command} --rollout-file`);
  const source = `--rollout-file ${flags.rolloutFile}`;
  if ('startedBy' in file)
    throw new ConfigError(
      `${command} ${source} startedBy: who starts the rollout is the one running the command; remove it and give --actor`,
    );
  if ('state' in file)
    throw new ConfigError(
      `${command} ${source} state: is carried by the workflow across continue-as-new and is not set by people; remove it`,
    );
  const prometheus = file.prometheus && typeof file.prometheus === 'object' ? (file.prometheus as Record<string, unknown>) : undefined;
  const raw = defined({
    ...file,
    startedBy: flags.actor,
    rollout: flags.rollout ?? file.rollout,
    prometheus: flags.prometheusUrl ? { ...prometheus, url: flags.prometheusUrl } : file.prometheus,
    checkEverySeconds:
      flags.checkEvery !== undefined ? parseDurationFlag(flags.checkEvery, `${command} --check-every`) : file.checkEverySeconds,
    plan: flags.plan ? true : file.plan,
  });
  const input = checkFlags(CanaryInputSchema, raw, command, {
    exact: {
      startedBy: '--actor',
      rollout: flags.rollout !== undefined ? '--rollout' : `${source} rollout`,
      'prometheus.url': flags.prometheusUrl ? '--prometheus-url' : `${source} prometheus.url`,
      checkEverySeconds: flags.checkEvery !== undefined ? '--check-every' : `${source} checkEverySeconds`,
    },
    files: [{ prefix: '', flag: source }],
  });
  // The id comes from the rollout name: send it explicitly so the id and the input cannot disagree.
  return { raw: { ...raw, rollout: input.rollout }, rollout: input.rollout, plan: input.plan };
}

function startCommand(): Command {
  const cmd = base('start', 'Start a canary rollout (phase 1 → 2 → 3) from a rollout file; returns once it is started');
  return cmd
    .option('--rollout-file <file>', 'the rollout: JSON with the canary input (prometheus, approvers, phase1.instances, durations…)')
    .option('--rollout <name>', 'rollout name (workflow id canary-<name>; default: the file\'s, else "truenas")')
    .option('--prometheus-url <url>', "Prometheus base URL, overriding the file's prometheus.url")
    .option('--check-every <duration>', 'time between metric checkpoints: seconds or 30s, 5m, 1h (default 60 s)')
    .option('--plan', 'plan the Enable children, evaluate once and show the gates; change nothing')
    .action(async (flags: StartFlags) => {
      const { raw, rollout, plan } = canaryInputFromFlags(flags);
      const workflowId = plan
        ? `${CANARY_ID_PREFIX}${rollout}-plan-${new Date().toISOString().replace(/[:.]/g, '-')}`
        : `${CANARY_ID_PREFIX}${rollout}`;
      await withClient(flags, async (client, settings) => {
        const summary = `Canary rollout ${rollout} ${plan ? 'planned' : 'started'} by ${flags.actor}`;
        let handle: WorkflowHandleWithFirstExecutionRunId;
        try {
          await assertWorkersCanReadFor(client, settings);
          handle = await client.workflow.start(CANARY_ROLLOUT_WORKFLOW, {
            taskQueue: settings.temporal.taskQueue,
            workflowId,
            args: [raw],
            staticSummary: summary,
            // Set at start as well as by the workflow, so the run is listed before a worker has picked it up.
            typedSearchAttributes: keywordStartAttributes({
              RunbookProcedure: 'canary-rollout',
              RunbookStatus: plan ? 'planning' : 'activating',
              CanaryPhase: 'phase-1',
            }),
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            throw new ConfigError(
              `canary start --rollout ${rollout}: the rollout ${workflowId} is already running; see \`pulse-runbook canary status ${workflowId}\`, ` +
                'abort it first, or choose another --rollout',
            );
          }
          throw err;
        }
        const link = canaryUiLink(flags, settings.temporal.namespace, workflowId);
        if (!plan) {
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ workflowId, runId: handle.firstExecutionRunId, rollout, startedBy: flags.actor, ui: link }, null, 2)}\n`
              : `${summary}: workflow ${workflowId}\nTemporal UI: ${link}\nStatus: pulse-runbook canary status ${workflowId}\n`,
          );
          return;
        }
        try {
          const result = (await handle.result()) as CanaryResult;
          print(flags, result, () => `PLAN (nothing was changed): ${renderCanaryResult(result, { uiLink: link })}`);
        } catch (err) {
          process.stderr.write(`pulse-runbook: canary start --plan: ${describeFailure(err)}\n`);
          process.exitCode = 1;
        }
      });
    });
}

// ---------------------------------------------------------------------------------------------------------------
// status

/** The status of a running rollout; right after the start the first workflow task may not have answered yet. */
async function queryStatus(handle: WorkflowHandle, timeoutMs: number): Promise<CanaryStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handle.query(canaryStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function statusCommand(): Command {
  return base('status', 'Show a rollout: phase, gates and time left, checklist, issues, sign-offs, last verdicts')
    .argument('<id>', 'workflow id (canary-<rollout>) or rollout name')
    .option('--evidence <n>', 'how many of the latest evidence entries to show', Number, 5)
    .option('--instance <name>', 'show one instance of the fleet in full (state, settings, runs, evidence)')
    .action(async (idArg: string, flags: CommonFlags & { evidence: number; instance?: string }) => {
      if (!Number.isInteger(flags.evidence) || flags.evidence < 0)
        throw new ConfigError('canary status --evidence: must be a whole number of entries, 0 or more');
      const id = canaryWorkflowId(idArg);
      await withClient(flags, async (client, settings) => {
        const handle = client.workflow.getHandle(id);
        const link = canaryUiLink(flags, settings.temporal.namespace, id);
        if (flags.instance !== undefined) {
          let detail: InstanceDetail | undefined;
          try {
            detail = await handle.query(canaryInstanceQuery, flags.instance);
          } catch (err) {
            throw new ConfigError(
              `canary status ${id} --instance ${flags.instance}: the rollout did not answer (${describeFailure(err)}); a rollout begun before fleets has no per-instance view, and an ended one needs a running worker`,
            );
          }
          if (!detail)
            throw new ConfigError(
              `canary status ${id} --instance ${flags.instance}: no such instance in this rollout; \`canary status ${id}\` lists those that need a person`,
            );
          print(flags, detail, () => renderInstanceDetail(detail, { uiLink: link, evidence: flags.evidence }));
          return;
        }
        let running: boolean;
        try {
          running = (await handle.describe()).status.name === 'RUNNING';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            throw new ConfigError(`canary status ${idArg}: no canary rollout ${id}; see \`pulse-runbook canary list\``);
          throw err;
        }
        let status: CanaryStatus | undefined;
        try {
          status = await queryStatus(handle, running ? 10_000 : 0);
        } catch (err) {
          if (running) {
            throw new ConfigError(
              `canary status ${id}: the rollout is running but no worker answered (${describeFailure(err)}); is a worker running on task queue ${settings.temporal.taskQueue}?`,
            );
          }
        }
        if (status) {
          print(flags, status, () => renderCanaryStatus(status, { uiLink: link, evidence: flags.evidence }));
          return;
        }
        // A closed run no worker can replay: its result is in history.
        try {
          const result = (await handle.result()) as CanaryResult;
          print(flags, result, () => renderCanaryResult(result, { uiLink: link, evidence: flags.evidence }));
        } catch (err) {
          process.stderr.write(`pulse-runbook: canary status ${id}: the run ended without a result: ${describeFailure(err)}\n`);
          process.exitCode = 1;
        }
      });
    });
}

// ---------------------------------------------------------------------------------------------------------------
// updates

const COMMON_FIELDS: Record<string, string> = {
  actor: '--actor',
  comment: '--comment',
  reason: '--reason',
  note: '--note',
  severity: '--severity',
  title: '--title',
  instance: '--instance',
  source: '--source',
  issue: '--issue',
  description: '--description',
  evidence: '--evidence',
  workflowId: '--workflow-id',
  version: '--version',
  commit: '--commit',
};

/** The message of a refused or failed update, with its failure type (CanaryUpdateRefused). */
export function updateFailureMessage(err: unknown, workflowId: string): string {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return `${cause.type ? `${cause.type}: ` : ''}${cause.message}`;
    return (cause as Error | undefined)?.message ?? err.message;
  }
  if (err instanceof WorkflowNotFoundError)
    return `no running canary rollout ${workflowId} (not found, or it has ended); see \`pulse-runbook canary list\``;
  if (err instanceof WorkflowFailedError) return describeFailure(err);
  const message = (err as Error)?.message ?? String(err);
  if (/already completed|not found/i.test(message)) return `no running canary rollout ${workflowId} (it has ended): ${message}`;
  return message;
}

interface UpdateSpec<N extends CanaryUpdateName> {
  verb: string;
  /** The update's name: its definition (CANARY_UPDATES) and schema (CANARY_UPDATE_SCHEMAS). */
  update: N;
  payload: Record<string, unknown>;
  files?: FieldNames['files'];
  /** Names that differ from COMMON_FIELDS for this command. */
  exact?: Record<string, string>;
  /** One line for people once the workflow accepted the update. */
  describe: (result: CanaryUpdateResult<N>, workflowId: string) => string;
}

/** Checks the payload with the validator's schema, sends the update, prints its answer or the refusal. */
async function sendUpdate<N extends CanaryUpdateName>(idArg: string, flags: CommonFlags, spec: UpdateSpec<N>): Promise<void> {
  const id = canaryWorkflowId(idArg);
  const payload = defined(spec.payload);
  checkFlags(CANARY_UPDATE_SCHEMAS[spec.update], payload, `canary ${spec.verb}`, {
    exact: { ...COMMON_FIELDS, ...spec.exact },
    files: spec.files,
  });
  await withClient(flags, async (client) => {
    const handle = client.workflow.getHandle(id);
    try {
      const result = await handle.executeUpdate(CANARY_UPDATES[spec.update] as UpdateDefinition<CanaryUpdateResult<N>, [unknown]>, {
        args: [payload],
      });
      print(flags, result, () => spec.describe(result, id));
    } catch (err) {
      process.stderr.write(`pulse-runbook: canary ${spec.verb} ${id}: ${updateFailureMessage(err, id)}\n`);
      process.exitCode = 1;
    }
  });
}

const checklistText = (items: ChecklistItem[]) =>
  items.map((i) => `  ${i.ok ? '✓' : '✗'} ${i.step.slice(-1)}. ${i.title}: ${i.detail}`).join('\n');
const issueRef = (value: string) => (/^\d+$/.test(value) ? `issue-${value}` : value);

/**
 * An update sub-command whose payload is the actor plus its flags (`--workflow-id` → workflowId); a `<text>` flag is
 * free text and is sanitized before it is sent, a name or id is sent as given.
 */
function updateCommand<N extends CanaryUpdateName>(
  update: N,
  [name, description]: [string, string],
  options: [flags: string, description: string][],
  describe: UpdateSpec<N>['describe'],
): Command {
  const command = base(name, description).argument('<id>', 'workflow id or rollout name');
  for (const [flags, text] of options) command.option(flags, text);
  return command.action((id: string, flags: CommonFlags & Record<string, string | undefined>) => {
    const payload = options
      .map(([f]) => new Option(f))
      .map((o) => [o.attributeName(), o.flags.endsWith('<text>') ? clean(flags[o.attributeName()]) : flags[o.attributeName()]]);
    return sendUpdate(id, flags, { verb: name, update, describe, payload: { actor: flags.actor, ...Object.fromEntries(payload) } });
  });
}

const signOffCommand = () =>
  updateCommand(
    'signOff',
    ['sign-off', "Sign off the current phase's move (checklist item 5): approvers only, once the other items are green"],
    [['--comment <text>', 'a comment recorded with the sign-off']],
    (s, wf) => `${wf}: ${s.actor} signed off phase ${s.phase} at ${s.at}; checklist as seen:\n${checklistText(s.snapshot)}`,
  );

const abortCommand = () =>
  updateCommand(
    'abort',
    ['abort', "Abort the rollout: the phase's rollback runs (Disable children, or the recorded revert in phase 3)"],
    [['--reason <text>', 'why (recorded with the abort)']],
    (r, wf) => `${wf}: abort accepted at ${r.at}; the phase's rollback runs now (see \`pulse-runbook canary status ${wf}\`)`,
  );

function reportCommand(): Command {
  return base('report', 'Report an issue attributed to TrueNAS (critical/high ones block the move; user reports need triage within 24 h)')
    .argument('<id>', 'workflow id or rollout name')
    .addOption(new Option('--severity <severity>', `one of ${ISSUE_SEVERITIES.join(', ')}`))
    .option('--title <text>', 'one line: what is wrong')
    .option('--instance <name>', 'the instance where it was seen')
    .addOption(new Option('--source <source>', 'a user report (triage deadline) or an internal finding').choices(['user', 'internal']))
    .action((id: string, flags: CommonFlags & { severity?: string; title?: string; instance?: string; source?: string }) =>
      sendUpdate(id, flags, {
        verb: 'report',
        update: 'reportIssue',
        payload: {
          actor: flags.actor,
          severity: flags.severity,
          title: clean(flags.title),
          instance: flags.instance,
          source: flags.source,
        },
        describe: (i, wf) =>
          `${wf}: recorded ${i.id} (${i.severity}, ${i.source}) at ${i.reportedAt}${i.triageDueAt ? `; triage due by ${i.triageDueAt}` : ''}`,
      }),
    );
}

function issueRefCommand(verb: 'triage' | 'resolve'): Command {
  return base(
    verb,
    verb === 'triage' ? 'Record the triage of an issue (user reports: within 24 h)' : 'Resolve an issue (it no longer blocks the move)',
  )
    .argument('<id>', 'workflow id or rollout name')
    .option('--issue <issue-N>', 'the issue id, e.g. issue-3')
    .option('--note <text>', verb === 'triage' ? 'what the triage found' : 'how it was resolved')
    .action((id: string, flags: CommonFlags & { issue?: string; note?: string }) =>
      sendUpdate(id, flags, {
        verb,
        update: verb === 'triage' ? 'triageIssue' : 'resolveIssue',
        payload: { actor: flags.actor, issue: flags.issue === undefined ? undefined : issueRef(flags.issue), note: clean(flags.note) },
        describe: (i, wf) =>
          verb === 'triage'
            ? `${wf}: ${i.id} triaged by ${i.triaged?.by} at ${i.triaged?.at}${i.triaged?.late ? ' (later than the triage deadline)' : ''}`
            : `${wf}: ${i.id} resolved by ${i.resolved?.by} at ${i.resolved?.at}`,
      }),
    );
}

const reportCorruptionCommand = () =>
  updateCommand(
    'reportDataCorruption',
    ['report-corruption', 'Report data corruption or cross-platform interference: abort criterion 2, the rollout aborts at once'],
    [
      ['--description <text>', 'what was seen'],
      ['--instance <name>', 'the instance where it was seen'],
    ],
    (r, wf) => `${wf}: data corruption report accepted at ${r.at}; the rollout aborts (abort criterion 2) and its rollback runs`,
  );

const confirmStagingCommand = () =>
  updateCommand(
    'confirmStagingRollback',
    ['confirm-staging-rollback', "Record that this phase's rollback was tested in staging (checklist item 3)"],
    [
      ['--evidence <text>', 'what proves it: a staging run id, ticket or log link'],
      ['--workflow-id <id>', 'the staging Disable / Code Rollback workflow run'],
    ],
    (items, wf) => `${wf}: staging rollback test recorded; checklist now:\n${checklistText(items)}`,
  );

function registerInstanceCommand(): Command {
  return base('register-instance', 'Register an opt-in instance (phase 2): its user enables TrueNAS; the rollback disables it')
    .argument('<id>', 'workflow id or rollout name')
    .option('--name <name>', 'instance name (letters, digits, dot, dash, underscore)')
    .option('--pulse-url <url>', 'where its Pulse answers, e.g. http://pulse:7655')
    .option('--contact <who>', 'who to ask when its rollback is a human step')
    .option('--disable-config <file>', 'JSON with the Disable settings the rollback runs for it (without it, the rollback asks a person)')
    .action((id: string, flags: CommonFlags & { name?: string; pulseUrl?: string; contact?: string; disableConfig?: string }) => {
      const disable = flags.disableConfig ? readJsonObject(flags.disableConfig, 'canary register-instance --disable-config') : undefined;
      return sendUpdate(id, flags, {
        verb: 'register-instance',
        update: 'registerInstance',
        payload: {
          actor: flags.actor,
          instance: defined({ name: flags.name, pulseUrl: flags.pulseUrl, contact: clean(flags.contact), disable }),
        },
        files: [
          { prefix: 'instance.name', flag: '--name' },
          { prefix: 'instance.pulseUrl', flag: '--pulse-url' },
          { prefix: 'instance.contact', flag: '--contact' },
          { prefix: 'instance.disable', flag: `--disable-config ${flags.disableConfig}` },
        ],
        exact: { instance: '--name / --pulse-url / --contact / --disable-config' },
        describe: (r, wf) =>
          r.total === undefined
            ? `${wf}: registered ${flags.name}; instances now: ${r.instances.join(', ')}`
            : `${wf}: registered ${flags.name}; ${r.total} instance(s) now (newest: ${r.instances.join(', ')})`,
      });
    });
}

function recordReleaseCommand(): Command {
  return base('record-release', 'Record the default-on release (phase 3) and, optionally, how to revert it if phase 3 aborts')
    .argument('<id>', 'workflow id or rollout name')
    .option('--version <version>', 'the release version, e.g. v6.1.0')
    .option('--commit <sha>', 'the commit that flips the PULSE_ENABLE_TRUENAS default')
    .option('--rollback-config <file>', 'JSON with the Code Rollback settings that revert it (without it, the revert is a human step)')
    .action((id: string, flags: CommonFlags & { version?: string; commit?: string; rollbackConfig?: string }) => {
      const rollback = flags.rollbackConfig ? readJsonObject(flags.rollbackConfig, 'canary record-release --rollback-config') : undefined;
      return sendUpdate(id, flags, {
        verb: 'record-release',
        update: 'recordDefaultOnRelease',
        payload: { actor: flags.actor, version: flags.version, commit: flags.commit, rollback },
        files: [{ prefix: 'rollback', flag: `--rollback-config ${flags.rollbackConfig}` }],
        describe: (r, wf) =>
          `${wf}: default-on release ${r.version} (commit ${r.commit}) recorded${rollback ? '; its revert runs as a Code Rollback if phase 3 aborts' : ''}`,
      });
    });
}

const pauseCommand = () =>
  updateCommand(
    'pauseMonitoring',
    ['pause', 'Pause the metric checks (the green clock stops and resets; abort still works)'],
    [['--reason <text>', 'why']],
    (r, wf) => `${wf}: monitoring paused at ${r.at}; resume with \`pulse-runbook canary resume ${wf}\``,
  );

const resumeCommand = () =>
  updateCommand(
    'resumeMonitoring',
    ['resume', 'Resume the metric checks after a pause'],
    [['--note <text>', 'a note']],
    (r, wf) => `${wf}: monitoring resumed at ${r.at}`,
  );

const completeCommand = () =>
  updateCommand(
    'complete',
    ['complete', 'Complete the rollout in phase 3 (an approver): TrueNAS is default-on'],
    [['--comment <text>', 'a comment']],
    (r, wf) => `${wf}: rollout completed at ${r.at}`,
  );

// ---------------------------------------------------------------------------------------------------------------
// list

function listCommand(): Command {
  return base('list', 'List running and recent canary rollouts (id, phase, status, start)')
    .option('--running', 'only running rollouts')
    .option('--limit <n>', 'at most this many', Number, 20)
    .action(async (flags: CommonFlags & { running?: boolean; limit: number }) => {
      if (!Number.isInteger(flags.limit) || flags.limit < 1)
        throw new ConfigError('canary list --limit: must be a whole number of at least 1');
      const clauses = [`RunbookProcedure = '${PROCEDURE}'`];
      if (flags.running) clauses.push(`ExecutionStatus = 'Running'`);
      await withClient(flags, async (client) => {
        const rows: CanaryListRow[] = [];
        const seen = new Set<string>();
        for await (const w of listRuns(client, clauses.join(' AND '))) {
          // Continue-as-new leaves one closed execution per run: the newest (listed first) speaks for the rollout.
          if (seen.has(w.workflowId)) continue;
          seen.add(w.workflowId);
          rows.push({
            id: w.workflowId,
            phase: w.searchAttributes.CanaryPhase ?? '',
            status: w.searchAttributes.RunbookStatus ?? '',
            execution: w.status,
            started: w.startTime.toISOString(),
          });
          if (rows.length >= flags.limit) break;
        }
        print(flags, rows, () => renderCanaryList(rows));
      });
    });
}

export function canaryCommand(): Command {
  return new Command('canary')
    .description('Canary rollout of TrueNAS (phase 1 internal → 2 opt-in → 3 default-on): gates, checklist, sign-offs, aborts')
    .addCommand(startCommand())
    .addCommand(statusCommand())
    .addCommand(signOffCommand())
    .addCommand(abortCommand())
    .addCommand(reportCommand())
    .addCommand(issueRefCommand('triage'))
    .addCommand(issueRefCommand('resolve'))
    .addCommand(reportCorruptionCommand())
    .addCommand(confirmStagingCommand())
    .addCommand(registerInstanceCommand())
    .addCommand(recordReleaseCommand())
    .addCommand(pauseCommand())
    .addCommand(resumeCommand())
    .addCommand(completeCommand())
    .addCommand(listCommand())
    .addCommand(simulateCommand());
}
