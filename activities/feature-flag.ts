/**
 * Runbook enable.1 / disable.1: set PULSE_ENABLE_TRUENAS where the service reads it.
 *
 * The runbook says `export PULSE_ENABLE_TRUENAS=true`. A shell export reaches only that shell's children,
 * never a systemd service or a container (pulse-api.md §5, §8.8), so the flag is written to the env file,
 * drop-in or container env file that the restart makes Pulse read. Nothing here claims the flag is live:
 * Pulse reads it once at start, so it takes effect only after restart (enable.2 / disable.2).
 *
 * Disabling writes `false` explicitly. Unset means OFF only on the Feb line; from 2026-03-30 (`d3d242cc5`,
 * every v6 release) unset means ON, so removing the line would leave TrueNAS enabled on v6.
 */
import { ApplicationFailure } from '@temporalio/common';
import { evidence, type Action, type StepOutcome, type Verdict } from '../src/runbook/evidence.js';
import { RUNBOOK_STEPS, type RunbookStep } from '../src/runbook/steps.js';
import { FLAG_NAME, FlagTargetSchema, parseHostInput, type FlagTarget, type FlagTargetInput } from '../src/config/host.js';
import { planDropInEdit, planEnvEdit, readIfPresent, setDropInEnvVar, setEnvVar, type EnvEditPlan } from '../src/host/env-file.js';
import { activityJournal, keptAlive } from './support/heartbeat.js';

export type FlagValue = 'true' | 'false' | null;

export interface SetFeatureFlagInput {
  plan: boolean;
  target: FlagTargetInput;
  /** 'true' to enable, 'false' to disable (works on every Pulse line), null to remove the line. */
  value: FlagValue;
  /** Defaults to enable.1 for 'true' and disable.1 otherwise. */
  step?: 'enable.1' | 'disable.1' | 'undo.enable';
}

export interface FeatureFlagResult {
  kind: FlagTarget['kind'];
  path: string;
  /** In plan mode: whether the write would change the file. */
  changed: boolean;
  created: boolean;
  valueBefore: string | null;
  valueAfter: string | null;
  /** The restart must run `systemctl daemon-reload` first (drop-ins are cached by systemd). */
  needsDaemonReload: boolean;
  /** The restart must re-create the container (its environment is fixed at creation). */
  needsRecreate: boolean;
}

const UNSET_NOTE =
  'The line was removed. Unset means OFF only on the Feb line; from 2026-03-30 (every v6 release) unset means ON, so this does not disable TrueNAS on v6: write false instead.';
const FALSE_NOTE = 'false is written explicitly: on the Feb line unset means OFF, but from 2026-03-30 (every v6 release) unset means ON.';

function changeText(plan: Omit<EnvEditPlan, 'content'>, value: FlagValue): string {
  const before = plan.before.map((b) => `line ${b.line}: ${b.text.trim()}`).join(', ') || 'no assignment';
  const after = plan.after.map((a) => `line ${a.line}: ${a.text.trim()}`).join(', ') || 'no assignment';
  if (!plan.changed) return `already right (${before}); nothing is written`;
  return value === null ? `remove ${FLAG_NAME} (${before})` : `${before} → ${after}`;
}

function restartNote(target: FlagTarget): string {
  switch (target.kind) {
    case 'env-file':
      return `Pulse reads ${target.path} at its next (re)start; the flag is not live until the restart.`;
    case 'systemd-dropin':
      return `systemd caches unit files: the restart runs \`systemctl daemon-reload\` first, then restarts Pulse.`;
    case 'container-env':
      return `A container's environment is fixed when it is created: the restart must re-create the container (docker restart keeps the old value).`;
  }
}

/** Pulse's parseBool: after trim and lowercase, 1/true/yes/on are true (pulse-api.md §5). */
function pulseReadsAsTrue(v: string): boolean {
  return ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

/** The env files that would override a drop-in (EnvironmentFile= wins over Environment=) with another value. */
async function shadowingAssignments(target: FlagTarget, value: FlagValue): Promise<Array<{ path: string; value: string }>> {
  if (target.kind !== 'systemd-dropin') return [];
  const out: Array<{ path: string; value: string }> = [];
  for (const path of target.shadowingEnvFiles) {
    const file = await readIfPresent(path);
    if (!file?.exists) continue;
    const seen = planEnvEdit(file.content, FLAG_NAME, undefined).effectiveBefore;
    // Removing the drop-in's line lets any value there win; otherwise only a different meaning matters.
    if (seen !== null && (value === null || pulseReadsAsTrue(seen) !== pulseReadsAsTrue(value))) {
      out.push({ path, value: seen });
    }
  }
  return out;
}

/** What the attempts of one flag write tell each other (activities/support/heartbeat.ts). */
type FlagJournal = { path: string; valueBefore: string | null; existed: boolean };

export async function setFeatureFlag(input: SetFeatureFlagInput): Promise<StepOutcome<FeatureFlagResult>> {
  return keptAlive(() => setFeatureFlagNow(input));
}

async function setFeatureFlagNow(input: SetFeatureFlagInput): Promise<StepOutcome<FeatureFlagResult>> {
  const target = parseHostInput(FlagTargetSchema, input.target, 'target');
  const value = input.value;
  if (value !== 'true' && value !== 'false' && value !== null) {
    throw ApplicationFailure.create({
      type: 'InvalidHostConfig',
      message: `value must be 'true', 'false' or null (remove the line), not ${JSON.stringify(value)}`,
      nonRetryable: true,
    });
  }
  const step = input.step ?? (value === 'true' ? 'enable.1' : 'disable.1');
  const at = new Date().toISOString();
  const notes = [restartNote(target)];
  if (value === 'false') notes.push(FALSE_NOTE);
  if (value === null) notes.push(UNSET_NOTE);

  const shadows = await shadowingAssignments(target, value);
  if (shadows.length > 0) {
    const list = shadows.map((s) => `${s.path} sets ${FLAG_NAME}=${s.value}`).join('; ');
    const message = `${list}, and EnvironmentFile= wins over the drop-in's Environment=; change it there (or use flag.kind env-file with that path)`;
    if (!input.plan) {
      throw ApplicationFailure.create({ type: 'FlagShadowed', message, nonRetryable: true, details: [{ shadows }] });
    }
    notes.push(`Would fail: ${message}`);
  }

  const base = {
    kind: target.kind,
    path: target.path,
    needsDaemonReload: target.kind === 'systemd-dropin',
    needsRecreate: target.kind === 'container-env',
  };
  const editValue = value ?? undefined;
  /** The change the write would make to the file's current content. */
  const planEdit = (content: string) =>
    target.kind === 'systemd-dropin'
      ? planDropInEdit(content, FLAG_NAME, editValue, target.path)
      : planEnvEdit(content, FLAG_NAME, editValue);

  if (input.plan) {
    const file = await readIfPresent(target.path);
    const content = file?.content ?? '';
    const plan = planEdit(content);
    const { content: _newContent, ...shown } = plan;
    const unreadable = file === null ? ` (${target.path} could not be read now; the write will check again)` : '';
    const action: Action = {
      kind: 'file',
      op: 'write',
      path: target.path,
      change: `${file?.exists === false && editValue !== undefined ? 'create (mode 0600) with ' : ''}${changeText(shown, value)}${unreadable}`,
    };
    return {
      value: {
        ...base,
        changed: plan.changed,
        created: file?.exists === false && plan.changed,
        valueBefore: plan.effectiveBefore,
        valueAfter: plan.effectiveAfter,
      },
      evidence: evidence(
        step,
        'planned',
        `Would set ${FLAG_NAME}=${value ?? '(unset)'} in ${target.path} (${target.kind}): ${action.change}`,
        [action],
        { target: target.kind, path: target.path, before: shown.before, after: shown.after, notes },
        { at, deviation: (RUNBOOK_STEPS[step] as RunbookStep).deviation },
      ),
    };
  }

  // What the file said before this run touched it, recorded (durably) before the write: a retry after a worker
  // crash finds the value already written and would otherwise report "unchanged" and the wrong value before.
  const journal = activityJournal<FlagJournal>();
  const earlier = journal.previous.find((e) => e.path === target.path);
  if (!earlier) {
    const file = await readIfPresent(target.path);
    const current = file?.content ?? '';
    const planned = planEdit(current);
    await journal.record({ path: target.path, valueBefore: planned.effectiveBefore, existed: file?.exists !== false }, { durable: true });
  }
  const written =
    target.kind === 'systemd-dropin'
      ? await setDropInEnvVar(target.path, FLAG_NAME, editValue)
      : await setEnvVar(target.path, FLAG_NAME, editValue);
  const change = earlier
    ? {
        ...written,
        changed: written.changed || earlier.valueBefore !== written.plan.effectiveAfter,
        created: written.created || !earlier.existed,
        plan: { ...written.plan, effectiveBefore: earlier.valueBefore },
      }
    : written;
  const verdict: Verdict = 'ok';
  const what = change.changed
    ? `${change.created ? 'created' : 'updated'} ${target.path}${earlier && !written.changed ? ' (in an earlier attempt of this step, whose completion was lost with its worker)' : ''}`
    : `${target.path} already had it; nothing was written`;
  return {
    value: {
      ...base,
      changed: change.changed,
      created: change.created,
      valueBefore: change.plan.effectiveBefore,
      valueAfter: change.plan.effectiveAfter,
    },
    evidence: evidence(
      step,
      verdict,
      `${FLAG_NAME}=${value ?? '(unset)'}: ${what}. It takes effect at the restart, not before.`,
      [{ kind: 'file', op: 'write', path: target.path, change: changeText(change.plan, value) }],
      {
        target: target.kind,
        path: target.path,
        changed: change.changed,
        created: change.created,
        before: change.plan.before,
        after: change.plan.after,
        sha256: change.sha256,
        mode: change.mode,
        owner: `${change.uid}:${change.gid}`,
        notes,
      },
      { at, deviation: (RUNBOOK_STEPS[step] as RunbookStep).deviation },
    ),
  };
}
