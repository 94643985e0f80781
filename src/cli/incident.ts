/**
 * `pulse-runbook incident open|ack|contain|mitigate|classify|handoff|action|resolve|list|report`: the incident
 * workflow (runbook "Ownership and Escalation Routing") for people at a terminal.
 *
 * Every command checks its flags with the same zod schema the workflow's update validator uses, so a mistake is
 * named by its flag before anything is sent; the workflow still refuses what its state does not allow (resolved
 * already, handing off to the current owner, an actor outside the incident's roles). Who acts comes from
 * src/identity (a verified token's subject, else the OS user; `--actor` is recorded as claimed, and refused under
 * a token policy when it names someone else); every update carries the actor and how it was determined
 * (`actorSource`). Text is sanitized before it is sent, so a pasted token never reaches history.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { assertWorkersCanReadFor } from './codec-check.js';
import { Command, Option } from 'commander';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { IMPACTS, IncidentInputSchema, OWNERS, SCOPES, UPDATE_SCHEMAS, type IncidentUpdateName } from '../config/incident.js';
import { listRuns } from '../temporal/list-runs.js';
import { ConfigError, parseOrExplain, resolvePulseTarget } from '../config/load.js';
import { renderIncidentJson, renderIncidentMarkdown } from '../incident/report.js';
import { sanitizeValue } from '../incident/sanitize.js';
import type { IncidentRecord } from '../incident/types.js';
import type { IncidentResult } from '../../workflows/incident.js';
import {
  INCIDENT_ID_PREFIX,
  INCIDENT_UPDATES,
  INCIDENT_WORKFLOW,
  incidentRecordQuery,
  type IncidentWorkflow,
} from '../../workflows/incident.messages.js';
import type { Identity } from '../identity/resolve.js';
import { addActorFlag, addGlobalFlags, addPulseFlags, connect, loadSettings, type GlobalFlags, type Settings } from './context.js';
import { describeFailure, uiLink } from './follow.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Global flags plus `--actor` (resolved to `flags.actor` / `flags.identity` before the action) and `--json`. */
function base(name: string, description: string): Command {
  return addActorFlag(addGlobalFlags(new Command(name).description(description))).option('--json', 'print JSON');
}

async function withClient<T>(
  flags: GlobalFlags & { identity?: Identity },
  fn: (client: Client, settings: Settings, uiUrl?: string) => Promise<T>,
): Promise<T> {
  const settings = loadSettings(flags);
  const { client, uiUrl } = await connect(settings, { identity: flags.identity });
  try {
    return await fn(client, settings, uiUrl);
  } finally {
    await client.connection.close();
  }
}

function incidentId(id: string): string {
  return id.startsWith(INCIDENT_ID_PREFIX) ? id : `${INCIDENT_ID_PREFIX}${id}`;
}

function pairs(values: string[] | undefined, flag: string): Array<[string, string]> {
  return (values ?? []).map((v) => {
    const i = v.indexOf('=');
    // The value is not repeated: it may be a URL with a secret in it.
    if (i <= 0)
      throw new ConfigError(
        `incident ${flag}: must be name=value, e.g. ${flag} ops-chat=${flag === '--webhook-env' ? 'OPS_CHAT_WEBHOOK_URL' : flag === '--role' ? 'olga,omar' : 'https://hooks.example/incident'}`,
      );
    return [v.slice(0, i), v.slice(i + 1)];
  });
}

function readJsonFile(path: string, flag: string): Record<string, unknown> {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${flag} ${path}: ${(err as Error).message}; give a file with a JSON object`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// open

const OPEN_FIELDS: Record<string, string> = {
  title: '--title',
  summary: '--summary',
  impacts: '--impact',
  severity: '--severity',
  severityReason: '--reason',
  scope: '--scope',
  openedBy: '--actor',
  'calendar.timeZone': '--time-zone',
  'calendar.days': '--business-days',
  'calendar.opensAt': '--business-hours',
  'calendar.closesAt': '--business-hours',
  'calendar.holidays': '--holiday',
  'calendar.escalateAt': '--escalate-at',
  'timers.p1ContainmentMinutes': '--p1-minutes',
  'timers.p2MitigationMinutes': '--p2-minutes',
  'notify.webhooks': '--webhook / --webhook-env',
  roles: '--roles-file / --role',
};

/** The env var naming a default roles file, so a team configures its roles once for every `incident open`. */
export const ROLES_FILE_ENV = 'PULSE_RUNBOOKS_INCIDENT_ROLES_FILE';

/**
 * The roles of a new incident: the file's, plus `--role role=name,name` (the names are added to the role). Checked
 * by IncidentRolesSchema with the rest of the input; undefined when neither is given (anyone may act).
 */
export function rolesFromFlags(
  file: string | undefined,
  role: string[] | undefined,
  fileFlag = '--roles-file',
): Record<string, unknown> | undefined {
  if (!file && !role?.length) return undefined;
  const roles: Record<string, unknown> = file ? readJsonFile(file, fileFlag) : {};
  for (const [name, members] of pairs(role, '--role')) {
    const previous = Array.isArray(roles[name]) ? (roles[name] as unknown[]) : [];
    roles[name] = [
      ...previous,
      ...members
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    ];
  }
  return roles;
}

function openCommand(): Command {
  return base('open', 'open an incident: classify its severity, route its owner, start the escalation timer')
    .option('--title <text>', 'one line: what is wrong')
    .option('--summary <text>', 'what is known so far')
    .addOption(new Option('--impact <impact>', `what happened (repeatable): ${IMPACTS.join(', ')}`).argParser(collect))
    .option('--severity <P1-P4>', "a person's classification, overriding the rules (needs --reason)")
    .option('--reason <text>', 'why this severity')
    .addOption(new Option('--scope <scope>', 'row of the ownership table').choices([...SCOPES]))
    .option('--time-zone <iana>', 'business calendar time zone, e.g. Europe/Berlin (default UTC)')
    .option('--business-days <days>', 'comma-separated, e.g. Mon,Tue,Wed,Thu,Fri')
    .option('--business-hours <HH:MM-HH:MM>', 'e.g. 09:00-17:00')
    .addOption(new Option('--holiday <YYYY-MM-DD>', 'a holiday in the business calendar (repeatable)').argParser(collect))
    .addOption(
      new Option('--escalate-at <start|end>', 'P3/P4 escalate at the start or the end of the next business day').choices(['start', 'end']),
    )
    .option('--p1-minutes <n>', 'P1: minutes until containment must start (default 15)', Number)
    .option('--p2-minutes <n>', 'P2: minutes until mitigation must be active (default 60)', Number)
    .addOption(new Option('--webhook <name=url>', 'notification webhook (repeatable)').argParser(collect))
    .addOption(
      new Option('--webhook-env <name=ENV_VAR>', 'notification webhook whose URL is in an env var on the worker (repeatable)').argParser(
        collect,
      ),
    )
    .option('--roles-file <path>', `JSON of role -> names: who may act on this incident (or ${ROLES_FILE_ENV}); default: anyone may`)
    .addOption(
      new Option(
        '--role <role=name,name>',
        'members of one role, e.g. ops=olga,omar or ic=ian (repeatable; added to --roles-file)',
      ).argParser(collect),
    )
    .option('--id <id>', `incident id (default: a timestamp); "${INCIDENT_ID_PREFIX}" is prefixed`)
    .option('--plan', 'classify, route and compute the deadline only; notify nobody')
    .action(async (flags) => {
      const hours = flags.businessHours as string | undefined;
      const [opensAt, closesAt] = hours ? hours.split('-') : [];
      if (hours && (!opensAt || !closesAt))
        throw new ConfigError(`incident open --business-hours ${hours}: must be HH:MM-HH:MM such as 09:00-17:00`);
      const calendar = Object.fromEntries(
        Object.entries({
          timeZone: flags.timeZone,
          days: flags.businessDays
            ? String(flags.businessDays)
                .split(',')
                .map((d) => d.trim())
            : undefined,
          opensAt,
          closesAt,
          holidays: flags.holiday,
          escalateAt: flags.escalateAt,
        }).filter(([, v]) => v !== undefined),
      );
      const timers = Object.fromEntries(
        Object.entries({ p1ContainmentMinutes: flags.p1Minutes, p2MitigationMinutes: flags.p2Minutes }).filter(([, v]) => v !== undefined),
      );
      const roles = rolesFromFlags(flags.rolesFile ?? (process.env[ROLES_FILE_ENV] || undefined), flags.role);
      const webhooks = [
        ...pairs(flags.webhook, '--webhook').map(([name, url]) => ({ name, url })),
        ...pairs(flags.webhookEnv, '--webhook-env').map(([name, urlEnv]) => ({ name, urlEnv })),
      ];
      const input = parseOrExplain(
        IncidentInputSchema,
        sanitizeValue({
          title: flags.title,
          ...(flags.summary !== undefined && { summary: flags.summary }),
          impacts: flags.impact ?? [],
          ...(flags.severity !== undefined && { severity: flags.severity }),
          ...(flags.reason !== undefined && { severityReason: flags.reason }),
          ...(flags.scope !== undefined && { scope: flags.scope }),
          openedBy: flags.actor,
          ...(flags.identity && { openedBySource: (flags.identity as Identity).source }),
          ...(roles && { roles }),
          calendar,
          timers,
          notify: { webhooks },
          plan: Boolean(flags.plan),
        }),
        'incident open',
        OPEN_FIELDS,
      );
      const stamp = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const workflowId = incidentId(flags.id ?? `${input.plan ? 'plan-' : ''}${stamp}-${Math.random().toString(36).slice(2, 6)}`);
      await withClient(flags, async (client, settings, uiUrl) => {
        await assertWorkersCanReadFor(client, settings);
        const handle = await client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
          taskQueue: settings.temporal.taskQueue,
          workflowId,
          args: [input],
          staticSummary: `Incident: ${input.title}`,
        });
        const record: IncidentRecord = input.plan ? ((await handle.result()) as IncidentResult).incident : await firstRecord(handle);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
          return;
        }
        const timer = record.timers.at(-1);
        const lines = [
          `${input.plan ? 'PLAN (nobody notified): ' : ''}Incident ${record.id} ${input.plan ? 'would open' : 'opened'}: ${record.severity} (${record.severityHistory[0].reason})`,
          `Owner: ${record.owner} (escalation owner ${record.escalationOwner}); response target: ${record.responseTarget}`,
          ...record.notifications.map((n) => `  ${n.kind} ${n.to}: ${n.reason}`),
          timer
            ? `Escalates to ${timer.escalateTo} at ${timer.deadline} unless ${timer.condition === 'resolution' ? 'resolved' : `${timer.condition} has started`} (${timer.rule})`
            : '',
        ];
        const link = uiLink(uiUrl, settings.temporal.namespace, workflowId);
        if (link) lines.push(`Temporal UI: ${link}`);
        process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
      });
    });
}

/** The record as soon as the workflow's first task has run (a query before that has nothing to answer). */
async function firstRecord(handle: WorkflowHandle, timeoutMs = 15_000): Promise<IncidentRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handle.query(incidentRecordQuery);
    } catch (err) {
      if (Date.now() > deadline)
        throw new ConfigError(
          `incident ${handle.workflowId} started but no worker answered within ${timeoutMs / 1000} s (${(err as Error).message}); is a worker running on this task queue?`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// updates

const UPDATE_FIELDS: Record<string, string> = {
  actor: '--actor',
  note: '--note',
  summary: '--summary',
  phase: '--phase',
  severity: '--severity',
  reason: '--reason',
  impacts: '--impact',
  to: '--to',
  finalOwner: '--final-owner',
  'evidence.links': '--link',
  'evidence.details': '--detail',
  'evidence.workflowId': '--workflow',
  procedure: '--procedure',
  'procedure.input': '--input-file / pulse flags',
};

/** Sends one update: checked here with the validator's schema, refused or applied by the workflow. */
async function sendUpdate(
  name: IncidentUpdateName,
  verb: string,
  id: string,
  flags: GlobalFlags & { json?: boolean; identity?: Identity },
  payload: Record<string, unknown>,
): Promise<void> {
  // Text and evidence are sanitized; a procedure's input is not: its schema only takes secrets by reference
  // (a token's env var name or file path), and masking its `token` field would break the reference.
  const { procedure, ...rest } = payload;
  const clean = {
    ...sanitizeValue(rest),
    ...(flags.identity && { actorSource: flags.identity.source }),
    ...(procedure !== undefined && { procedure }),
  };
  parseOrExplain(UPDATE_SCHEMAS[name], clean, `incident ${verb}`, UPDATE_FIELDS);
  await withClient(flags, async (client) => {
    const handle = client.workflow.getHandle(incidentId(id));
    try {
      const receipt = await handle.executeUpdate(INCIDENT_UPDATES[name], { args: [clean] });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(receipt, null, 2)}\n`
          : `${handle.workflowId}: ${verb} recorded at ${receipt.at}; now ${receipt.severity} ${receipt.status}, owner ${receipt.owner}` +
              `${receipt.childWorkflowId ? `; started ${receipt.childWorkflowId}` : ''}\n`,
      );
    } catch (err) {
      refuse(verb, handle.workflowId, err);
    }
  });
}

function refuse(verb: string, workflowId: string, err: unknown): void {
  let message: string;
  if (err instanceof WorkflowUpdateFailedError) message = (err.cause as Error | undefined)?.message ?? err.message;
  else if (err instanceof WorkflowNotFoundError) message = `incident ${workflowId} not found (or already closed)`;
  else message = describeFailure(err);
  process.stderr.write(`pulse-runbook: incident ${verb}: ${message}\n`);
  process.exitCode = 1;
}

function ackCommand(): Command {
  return base('ack', 'acknowledge an incident')
    .argument('<id>', 'incident id')
    .option('--note <text>', 'a note')
    .action((id: string, flags) =>
      sendUpdate('acknowledge', 'ack', id, flags, { actor: flags.actor, ...(flags.note && { note: flags.note }) }),
    );
}

function responseCommand(phase: 'containment' | 'mitigation'): Command {
  const cmd = base(
    phase === 'containment' ? 'contain' : 'mitigate',
    phase === 'containment'
      ? 'start containment, optionally running the Kill-Switch or Disable procedure as a child workflow'
      : 'mark mitigation as active',
  )
    .argument('<id>', 'incident id')
    .option('--summary <text>', `what the ${phase} is`)
    .addOption(new Option('--link <url>', 'evidence link (repeatable)').argParser(collect));
  if (phase === 'containment') {
    addPulseFlags(cmd)
      .addOption(new Option('--procedure <name>', 'run a procedure as the containment').choices(['kill-switch', 'disable']))
      .option('--input-file <path>', "the procedure's input as a JSON object (the Pulse flags fill its pulse target)");
  }
  return cmd.action(async (id: string, flags) => {
    let procedure: Record<string, unknown> | undefined;
    if (flags.procedure) {
      const fromFile = flags.inputFile ? readJsonFile(flags.inputFile, '--input-file') : {};
      const pulse = fromFile.pulse ?? resolvePulseTarget(flags, process.env, loadSettings(flags).file);
      if (!pulse)
        throw new ConfigError(
          'incident contain --pulse-url / PULSE_URL: required with --procedure; give the Pulse base URL, e.g. --pulse-url http://pulse:7655',
        );
      procedure = { name: flags.procedure, input: { ...fromFile, pulse } };
    }
    await sendUpdate('startResponse', phase === 'containment' ? 'contain' : 'mitigate', id, flags, {
      actor: flags.actor,
      phase,
      summary: flags.summary ?? (flags.procedure ? `${flags.procedure} run by ${flags.actor}` : undefined),
      ...(procedure && { procedure }),
      ...(flags.link && { evidence: { links: flags.link } }),
    });
  });
}

function classifyCommand(): Command {
  return base('classify', "set the severity (a person's classification overrides the rules)")
    .argument('<id>', 'incident id')
    .option('--severity <P1-P4>', 'the new severity')
    .option('--reason <text>', 'why')
    .addOption(new Option('--impact <impact>', `what happened (repeatable): ${IMPACTS.join(', ')}`).argParser(collect))
    .action((id: string, flags) =>
      sendUpdate('classify', 'classify', id, flags, {
        actor: flags.actor,
        severity: flags.severity,
        reason: flags.reason,
        ...(flags.impact && { impacts: flags.impact }),
      }),
    );
}

function handoffCommand(): Command {
  return base('handoff', 'hand the incident to another owner')
    .argument('<id>', 'incident id')
    .option('--to <owner>', `${OWNERS.join(', ')} (or ops, eng, security)`)
    .option('--reason <text>', 'why the owner changes')
    .action((id: string, flags) =>
      sendUpdate('handoff', 'handoff', id, flags, { actor: flags.actor, to: flags.to, ...(flags.reason && { reason: flags.reason }) }),
    );
}

function actionCommand(): Command {
  return base('action', 'record an action taken, with its evidence')
    .argument('<id>', 'incident id')
    .option('--summary <text>', 'what was done')
    .addOption(new Option('--link <url>', 'evidence link (repeatable)').argParser(collect))
    .addOption(new Option('--detail <key=value>', 'evidence fact (repeatable)').argParser(collect))
    .option('--workflow <id>', 'a workflow run that is evidence of the action')
    .action((id: string, flags) => {
      const details = pairs(flags.detail, '--detail');
      const evidence = {
        ...(flags.link && { links: flags.link }),
        ...(details.length > 0 && { details: Object.fromEntries(details) }),
        ...(flags.workflow && { workflowId: flags.workflow }),
      };
      return sendUpdate('recordAction', 'action', id, flags, {
        actor: flags.actor,
        summary: flags.summary,
        ...(Object.keys(evidence).length > 0 && { evidence }),
      });
    });
}

function resolveCommand(): Command {
  return base('resolve', 'resolve the incident, naming the final resolution owner')
    .argument('<id>', 'incident id')
    .option('--final-owner <owner>', `the final resolution owner: ${OWNERS.join(', ')} (or ops, eng, security)`)
    .option('--summary <text>', 'how it was resolved')
    .action((id: string, flags) =>
      sendUpdate('resolve', 'resolve', id, flags, { actor: flags.actor, finalOwner: flags.finalOwner, summary: flags.summary }),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// list and report

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function listCommand(): Command {
  return base('list', 'list incidents (open ones unless --all)')
    .option('--all', 'include closed incidents')
    .option('--severity <P1-P4>', 'only this severity')
    .option('--owner <owner>', 'only this owner')
    .option('--status <status>', 'only this status: open, acknowledged, containing, mitigating, resolved')
    .option('--limit <n>', 'at most this many', Number, 50)
    .action(async (flags) => {
      const clauses = [`RunbookProcedure = 'incident'`];
      if (!flags.all) clauses.push(`ExecutionStatus = 'Running'`);
      if (flags.severity) clauses.push(`IncidentSeverity = ${quote(String(flags.severity).toUpperCase())}`);
      if (flags.owner)
        clauses.push(`IncidentOwner = ${quote(parseOrExplain(UPDATE_SCHEMAS.handoff.shape.to, flags.owner, 'incident list --owner'))}`);
      if (flags.status) clauses.push(`RunbookStatus = ${quote(flags.status)}`);
      await withClient(flags, async (client) => {
        const rows: Array<Record<string, string>> = [];
        // listRuns, not client.workflow.list: one incident encrypted with a key this machine lacks must not hide the rest.
        for await (const w of listRuns(client, clauses.join(' AND '))) {
          const memo = (w.memo.incident ?? {}) as { title?: string };
          rows.push({
            id: w.workflowId,
            severity: w.searchAttributes.IncidentSeverity ?? '',
            status: w.searchAttributes.RunbookStatus ?? '',
            owner: w.searchAttributes.IncidentOwner ?? '',
            opened: w.startTime.toISOString(),
            execution: w.status,
            title: memo.title ?? (w.memoError ? '(title unreadable: encrypted with a key this machine does not have)' : ''),
          });
          if (rows.length >= flags.limit) break;
        }
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        } else if (rows.length === 0) {
          process.stdout.write('No incidents.\n');
        } else {
          for (const r of rows)
            process.stdout.write(`${r.id}  ${r.severity}  ${r.status.padEnd(12)}  ${r.owner.padEnd(23)}  ${r.opened}  ${r.title}\n`);
        }
      });
    });
}

/** The record of a running incident (query) or a closed one (its result, read from history: no worker needed). */
export async function fetchIncidentRecord(client: Client, id: string): Promise<IncidentRecord> {
  const handle = client.workflow.getHandle(incidentId(id));
  const desc = await handle.describe();
  if (desc.status.name === 'COMPLETED') return ((await handle.result()) as IncidentResult).incident;
  return handle.query(incidentRecordQuery);
}

/**
 * Writes a report owner-only (0600): it names people, times and actions of an incident. An existing file is
 * replaced through a temporary name and a rename, so it never keeps a looser mode or shows half a report.
 */
function writeOwnerOnly(file: string, text: string): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, text, { mode: 0o600, flag: 'wx' });
    chmodSync(partial, 0o600);
    renameSync(partial, file);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new ConfigError(
      `incident report --out ${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a path in a directory you can write`,
    );
  }
}

function reportCommand(): Command {
  return addGlobalFlags(new Command('report').description('export the incident record as Markdown or JSON'))
    .argument('<id>', 'incident id')
    .addOption(new Option('--format <format>', 'markdown or json').choices(['markdown', 'md', 'json']).default('markdown'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (id: string, flags) => {
      await withClient(flags, async (client) => {
        let record: IncidentRecord;
        try {
          record = await fetchIncidentRecord(client, id);
        } catch (err) {
          refuse('report', incidentId(id), err);
          return;
        }
        const text = flags.format === 'json' ? renderIncidentJson(record) : renderIncidentMarkdown(record);
        if (flags.out) {
          writeOwnerOnly(flags.out, text);
          process.stdout.write(`Wrote ${flags.out}\n`);
        } else {
          process.stdout.write(text);
        }
      });
    });
}

export function incidentCommand(): Command {
  return new Command('incident')
    .description('Incidents per the runbook: severity P1–P4, owner routing, escalation timers, the incident record')
    .addCommand(openCommand())
    .addCommand(ackCommand())
    .addCommand(responseCommand('containment'))
    .addCommand(responseCommand('mitigation'))
    .addCommand(classifyCommand())
    .addCommand(handoffCommand())
    .addCommand(actionCommand())
    .addCommand(resolveCommand())
    .addCommand(listCommand())
    .addCommand(reportCommand());
}
