/**
 * Runbook enable.2 / disable.2 / rollback.4: restart Pulse the way this deployment does it, then wait until
 * it answers 200 on its health URL.
 *
 * - systemd:   `systemctl daemon-reload` (when the flag lives in a drop-in), then `systemctl restart <unit>`
 * - container: the configured re-create command (default `docker compose up -d --force-recreate pulse`);
 *              a plain `docker restart` would keep the old environment and is refused by the schema
 * - command:   the configured argv (a dev runner, a wrapper script)
 * Every command gets the configured prefix (`sudo -n`, `ssh … host`) as argv elements.
 *
 * Idempotency. A restart is not idempotent in effect (the process restarts again) but it is safe to repeat:
 * it always ends in "Pulse runs with what the env file says now". The activity cannot know whether an
 * earlier attempt already restarted Pulse, so it never tries to skip: the workflow records the completion of
 * this step and repeats it only when that completion was never recorded (a worker crash mid-restart).
 * For the same reason the workflow should pass `daemonReload: target.kind === 'systemd-dropin'`, not
 * "the flag changed": an attempt whose completion was lost may have written the drop-in already, so a
 * re-run of the flag step reports "unchanged" although systemd has not re-read the file yet.
 */
import { ApplicationFailure } from '@temporalio/common';
import { evidence, type Action, type StepOutcome } from '../src/runbook/evidence.js';
import type { StepId } from '../src/runbook/steps.js';
import { CommandPrefixSchema, parseHostInput, RestartSchema, type RestartConfig, type RestartInput } from '../src/config/host.js';
import { describeCommand, runCommand, type CommandOptions } from '../src/host/command.js';
import { safeUrl, waitForHealthy, type HealthResult } from '../src/host/health.js';
import { activityJournal, activitySignal, keptAlive } from './support/heartbeat.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';

export interface RestartPulseInput {
  plan: boolean;
  restart: RestartInput;
  prefix?: string[];
  /** Base URL of Pulse, e.g. http://127.0.0.1:7655; the health URL defaults to `<pulseUrl>/api/health`. */
  pulseUrl: string;
  /** Run `systemctl daemon-reload` first. Pass true whenever the flag target is a systemd drop-in. */
  daemonReload?: boolean;
  step: StepId;
}

export interface RestartCommandRecord {
  argv: string[];
  /** The command ran in an earlier attempt of this step (its completion was lost with its worker): not run again. */
  ranInEarlierAttempt?: boolean;
  exitCode: number;
  durationMs: number;
  stdoutExcerpt: string;
  stderrExcerpt: string;
}

export interface RestartResult {
  commands: RestartCommandRecord[];
  health: HealthResult | null;
}

/** The commands of one restart, in order. */
export function restartCommands(restart: RestartConfig, daemonReload: boolean): string[][] {
  const reload = daemonReload ? [['systemctl', 'daemon-reload']] : [];
  switch (restart.kind) {
    case 'systemd':
      return [...reload, ['systemctl', 'restart', restart.unit]];
    case 'container':
    case 'command':
      return [...reload, [...restart.argv]];
  }
}

export function healthUrlFor(restart: RestartConfig, pulseUrl: string): string {
  if (restart.healthUrl) return restart.healthUrl;
  let base: URL;
  try {
    base = new URL(pulseUrl);
    if (!/^https?:$/.test(base.protocol)) throw new Error('scheme');
  } catch {
    throw ApplicationFailure.create({
      type: 'InvalidHostConfig',
      message: 'pulseUrl must be a URL such as http://127.0.0.1:7655 (or set restart.healthUrl)',
      nonRetryable: true,
    });
  }
  return `${pulseUrl.replace(/\/+$/, '')}/api/health`;
}

export async function restartPulse(input: RestartPulseInput): Promise<StepOutcome<RestartResult>> {
  const restart = parseHostInput(RestartSchema, input.restart, 'restart');
  const prefix = parseHostInput(CommandPrefixSchema, input.prefix, 'prefix');
  const healthUrl = healthUrlFor(restart, input.pulseUrl);
  const commands = restartCommands(restart, input.daemonReload ?? false);
  const commandOptions: CommandOptions = { prefix, timeoutMs: restart.commandTimeoutMs };
  const at = new Date().toISOString();

  const actions: Action[] = [
    ...commands.map((argv) => describeCommand(argv, commandOptions)),
    { kind: 'http', method: 'GET', url: safeUrl(healthUrl), expect: `200 within ${restart.healthTimeoutMs} ms` },
  ];
  const notes: string[] = [];
  if (input.daemonReload) notes.push('systemctl daemon-reload runs first so systemd re-reads the drop-in.');
  if (restart.kind === 'container')
    notes.push('The container is re-created so it reads the env file again; docker restart would keep the old environment.');

  if (input.plan) {
    return {
      value: { commands: [], health: null },
      evidence: evidence(
        input.step,
        'planned',
        `Would run ${commands.map((c) => [...prefix, ...c].join(' ')).join(', then ')}, then wait for 200 on ${safeUrl(healthUrl)}`,
        actions,
        { kind: restart.kind, notes },
        { at },
      ),
    };
  }

  return keptAlive(() => restartNow(input.step, commands, commandOptions, healthUrl, restart, actions, notes, at));
}

/** What the attempts of one restart step tell each other (activities/support/heartbeat.ts). */
type RestartJournal = { starting?: string[]; ran?: string[] };

/**
 * Runs the restart commands, each at most once per run: an attempt records (durably) that it starts a command and
 * that it ran, so a retry after a worker crash skips the commands an earlier attempt completed and only waits for
 * Pulse to answer. A command whose start was recorded but not its end may or may not have run: it runs again
 * (restarting twice leaves Pulse as restarting once does; not restarting at all would not).
 */
async function restartNow(
  step: StepId,
  commands: string[][],
  commandOptions: CommandOptions,
  healthUrl: string,
  restart: RestartConfig,
  actions: Action[],
  notes: string[],
  at: string,
): Promise<StepOutcome<RestartResult>> {
  const journal = activityJournal<RestartJournal>();
  const ranBefore = new Set(journal.previous.flatMap((e) => (e.ran ? [JSON.stringify(e.ran)] : [])));
  const records: RestartCommandRecord[] = [];
  for (const argv of commands) {
    if (ranBefore.has(JSON.stringify(argv))) {
      records.push({ argv, ranInEarlierAttempt: true, exitCode: 0, durationMs: 0, stdoutExcerpt: '', stderrExcerpt: '' });
      continue;
    }
    // Outside the command's try: a journal that cannot be written is retryable, not a failed restart command.
    await journal.record({ starting: argv }, { durable: true });
    try {
      const r = await runCommand(argv, { ...commandOptions, signal: activitySignal() });
      records.push({
        argv: r.argv,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        stdoutExcerpt: r.stdoutExcerpt,
        stderrExcerpt: r.stderrExcerpt,
      });
    } catch (err) {
      throw asRestartFailed(err, records);
    }
    await journal.record({ ran: argv }, { durable: true });
  }
  const reused = records.filter((r) => r.ranInEarlierAttempt).length;
  if (reused)
    notes.push(`${reused} command(s) ran in an earlier attempt of this step, whose completion was lost with its worker: not run again.`);

  const health = await waitForHealthy(healthUrl, restart.healthTimeoutMs, restart.healthIntervalMs, { signal: activitySignal() });

  return {
    value: { commands: records, health },
    evidence: evidence(
      step,
      'ok',
      `Restarted Pulse (${restart.kind}${reused ? `; the command ran in an earlier attempt of this step and was not repeated` : ''}) and it answered 200 on ${health.url} after ${health.elapsedMs} ms (${health.attempts} attempts)`,
      actions,
      { kind: restart.kind, commands: records, health, notes, startedAt: at },
    ),
  };
}

/**
 * Re-types a command failure for this step. A failed exit (unit not found, permission, compose error) will
 * fail the same way again, so it is non-retryable; a timeout may be a slow stop and is left retryable.
 */
function asRestartFailed(err: unknown, done: RestartCommandRecord[]): ApplicationFailure {
  if (!(err instanceof ApplicationFailure)) {
    return ApplicationFailure.create({ type: FAILURE_TYPES.restartFailed, message: `Restart failed: ${String(err)}`, nonRetryable: true });
  }
  const details = (err.details?.[0] ?? {}) as Record<string, unknown>;
  return ApplicationFailure.create({
    type: FAILURE_TYPES.restartFailed,
    message: `Restart failed: ${err.message}`,
    nonRetryable: err.type !== 'CommandTimedOut',
    details: [{ ...details, cause: err.type, completedCommands: done }],
    cause: err,
  });
}
