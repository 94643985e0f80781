/**
 * Runbook enable.4 / disable.3: what Pulse's TrueNAS poller wrote to its logs since a mark.
 *
 * What Pulse really logs (pulse-api.md §5, §8.3):
 * - Feb line: stdlib `log.Printf` lines starting `[TrueNASPoller] …` (refresh/initialise/config failures, stop
 *   timeout). Successful polls log nothing.
 * - v6 and later: zerolog JSON with `"component":"truenas_poller"` (or `component=truenas_poller` in the
 *   console format).
 * - There is no "TrueNAS poller started" line in any version, so it is never searched for.
 * So logs can prove the poller is active (a line exists) but never that it is healthy, and silence after a
 * disable is only meaningful when other lines show the source is being read at all.
 *
 * Where the lines come from:
 * - journald: `journalctl -u <unit> --since @<epoch s> --no-pager -o cat`. The epoch form is used instead of
 *   an ISO string because journalctl reads a zone-less timestamp as the host's local time and older systemd
 *   rejects a zone suffix; `@seconds` means the same instant everywhere (systemd ≥ 212).
 * - file: a plain log file has no reliable timestamps, so `markLogPosition` records the byte offset (and
 *   inode) before the restart and the check reads from there; a rotated or truncated file is read from 0.
 * - command: any argv that prints the logs; an element containing "{since}" gets the mark's ISO time.
 * The mark is taken just before the restart, so lines the old process writes while it stops are included;
 * the excerpt shows them so a person can tell.
 */
import { promises as fs } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { evidence, type Action, type StepOutcome, type Verdict } from '../src/runbook/evidence.js';
import type { StepId } from '../src/runbook/steps.js';
import { CommandPrefixSchema, LogSourceSchema, parseHostInput, type LogSource, type LogSourceInput } from '../src/config/host.js';
import { describeCommand, runCommand } from '../src/host/command.js';
import { excerpt, MASK, scrub } from '../src/runbook/redact.js';
import { keptAlive } from './support/heartbeat.js';

/** Where "after the restart" begins, recorded by markLogPosition. Plain JSON: it travels through history. */
export interface LogMark {
  /** ISO time of the mark (worker clock). */
  at: string;
  /** For a file source: the size and identity of the file at the mark. */
  file?: { path: string; offset: number; ino: number; dev: number };
}

export interface MarkLogPositionInput {
  plan: boolean;
  source: LogSourceInput;
  step: StepId;
}

/** What the check expects: a disabled poller is silent; an enabled one may or may not have logged. */
export type LogExpectation = 'poller-silent' | 'poller-active' | 'report';

export interface CheckPulseLogsInput {
  plan: boolean;
  source: LogSourceInput;
  step: StepId;
  /** From markLogPosition (required for a file source). */
  mark?: LogMark;
  /** ISO time; used when no mark is given (journald and command sources). */
  since?: string;
  prefix?: string[];
  expect?: LogExpectation;
  /** Strings to mask in the excerpt (e.g. the TrueNAS API key). */
  secrets?: string[];
}

export interface LogScan {
  linesRead: number;
  /** `[TrueNASPoller]` lines (Feb). */
  feb: number;
  /** zerolog lines with component truenas_poller (v6+). */
  v6: number;
  /** Of those, lines that report a failure (Feb text, or zerolog level warn/error/fatal). */
  errors: number;
  /**
   * Of those, lines about the poller stopping ("[TrueNASPoller] Stop timed out waiting for shutdown"): the
   * old process writes them while the restart stops it, after the mark, and they are not poll activity.
   */
  shutdown: number;
  total: number;
  /** The matching lines (all of them; the evidence keeps only the last few). */
  lines: string[];
}

export interface LogCheck extends Omit<LogScan, 'lines'> {
  source: LogSource['kind'];
  since: string;
  excerpt: string[];
  /** File sources: the byte range read, and whether the file was rotated since the mark. */
  fromOffset?: number;
  toOffset?: number;
  rotated?: boolean;
}

const EXCERPT_LINES = 20;
const MAX_FILE_READ = 20 * 1024 * 1024;

const FEB_FAILURE = /\b(failed|timed out|error)\b/i;
const STOP_TEXT = /\bstop(ped|ping)?\b|shutdown/i;
const V6_COMPONENT_TEXT = /"component"\s*:\s*"truenas_poller"|\bcomponent=truenas_poller\b/;

/** Pure: finds the TrueNAS poller's lines in log text of either Pulse line. */
export function scanPulseLogs(text: string): LogScan {
  const scan: LogScan = { linesRead: 0, feb: 0, v6: 0, errors: 0, shutdown: 0, total: 0, lines: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    scan.linesRead += 1;
    if (line.includes('[TrueNASPoller]')) {
      scan.feb += 1;
      if (FEB_FAILURE.test(line)) scan.errors += 1;
      if (STOP_TEXT.test(line)) scan.shutdown += 1;
      scan.lines.push(line);
      continue;
    }
    const brace = line.indexOf('{');
    let json: Record<string, unknown> | null = null;
    if (brace >= 0) {
      try {
        const parsed: unknown = JSON.parse(line.slice(brace));
        if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
      } catch {
        /* not JSON: fall through to the text match */
      }
    }
    const isV6 = json ? json.component === 'truenas_poller' : V6_COMPONENT_TEXT.test(line);
    if (!isV6) continue;
    scan.v6 += 1;
    const level = String(json?.level ?? /\b(?:level=)?(WRN|ERR|FTL|warn|error|fatal)\b/.exec(line)?.[1] ?? '').toLowerCase();
    if (/^(warn|error|fatal|panic|wrn|err|ftl)$/.test(level)) scan.errors += 1;
    if (STOP_TEXT.test(String(json?.message ?? json?.msg ?? line))) scan.shutdown += 1;
    scan.lines.push(line);
  }
  scan.total = scan.feb + scan.v6;
  return scan;
}

/** Masks credentials that a poller error might print (auth headers, key fields), plus given secrets. */
function maskLogLine(line: string, secrets: string[]): string {
  return excerpt(
    scrub(line, secrets)
      .replace(/(Bearer\s+)[^\s"',]+/gi, `$1${MASK}`)
      .replace(/("?(?:api_?key|apikey|token|password|secret)"?\s*[:=]\s*"?)[^"\s,}]+/gi, `$1${MASK}`),
    400,
  );
}

function journalArgv(unit: string, sinceIso: string): string[] {
  const epoch = Math.floor(Date.parse(sinceIso) / 1000);
  return ['journalctl', '-u', unit, '--since', `@${epoch}`, '--no-pager', '-o', 'cat'];
}

function commandArgv(argv: string[], sinceIso: string): string[] {
  return argv.map((a) => a.split('{since}').join(sinceIso));
}

export async function markLogPosition(input: MarkLogPositionInput): Promise<StepOutcome<LogMark>> {
  // Heartbeats while it runs: a lost worker is noticed by the heartbeat timeout (activities/support/heartbeat.ts).
  return keptAlive(() => markLogPositionNow(input));
}

async function markLogPositionNow(input: MarkLogPositionInput): Promise<StepOutcome<LogMark>> {
  const source = parseHostInput(LogSourceSchema, input.source, 'source');
  const at = new Date().toISOString();
  if (source.kind !== 'file') {
    return {
      value: { at },
      evidence: evidence(
        input.step,
        input.plan ? 'planned' : 'ok',
        `${input.plan ? 'Would mark' : 'Marked'} the log position at ${at}: later log checks read ${source.kind} from this time`,
        [],
        undefined,
        { at },
      ),
    };
  }
  const action: Action = { kind: 'file', op: 'stat', path: source.path, change: 'record size and inode as the read offset' };
  if (input.plan) {
    return {
      value: { at },
      evidence: evidence(input.step, 'planned', `Would record the size of ${source.path} as the log offset`, [action], undefined, { at }),
    };
  }
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(source.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw unreadable(source.path, code);
    // Not written yet: everything that appears later is "after the mark".
    return {
      value: { at, file: { path: source.path, offset: 0, ino: 0, dev: 0 } },
      evidence: evidence(input.step, 'ok', `${source.path} does not exist yet; later checks read it from the start`, [action], undefined, {
        at,
      }),
    };
  }
  return {
    value: { at, file: { path: source.path, offset: st.size, ino: st.ino, dev: st.dev } },
    evidence: evidence(input.step, 'ok', `Marked ${source.path} at byte ${st.size}`, [action], { offset: st.size, inode: st.ino }, { at }),
  };
}

function unreadable(path: string, code: string | undefined): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'LogsUnreadable',
    message: `Cannot read the log ${path} (${code ?? 'error'}); run the worker as a user that may read it, or configure logs.kind journald/command`,
    nonRetryable: true,
    details: [{ path, code }],
  });
}

async function readFileFrom(
  path: string,
  mark: NonNullable<LogMark['file']>,
): Promise<{ text: string; from: number; to: number; rotated: boolean }> {
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: '', from: 0, to: 0, rotated: mark.offset > 0 };
    throw unreadable(path, code);
  }
  try {
    const st = await handle.stat();
    const rotated = (mark.ino !== 0 && (st.ino !== mark.ino || st.dev !== mark.dev)) || st.size < mark.offset;
    let from = rotated ? 0 : mark.offset;
    if (st.size - from > MAX_FILE_READ) from = st.size - MAX_FILE_READ;
    const length = st.size - from;
    const buf = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buf, read, length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { text: buf.subarray(0, read).toString('utf8'), from, to: from + read, rotated };
  } finally {
    await handle.close();
  }
}

/** journalctl succeeds with no output when it may not read the journal: that must not look like silence. */
const JOURNAL_NOT_READABLE = /No journal files were (opened|found)|insufficient permissions|not seeing messages from other users/i;

export async function checkPulseLogs(input: CheckPulseLogsInput): Promise<StepOutcome<LogCheck>> {
  // Heartbeats while it runs: a lost worker is noticed by the heartbeat timeout (activities/support/heartbeat.ts).
  return keptAlive(() => checkPulseLogsNow(input));
}

async function checkPulseLogsNow(input: CheckPulseLogsInput): Promise<StepOutcome<LogCheck>> {
  const source = parseHostInput(LogSourceSchema, input.source, 'source');
  const prefix = parseHostInput(CommandPrefixSchema, input.prefix, 'prefix');
  const expect = input.expect ?? 'report';
  const secrets = input.secrets ?? [];
  const since = input.mark?.at ?? input.since;
  if (!since || Number.isNaN(Date.parse(since))) {
    throw ApplicationFailure.create({
      type: 'LogMarkMissing',
      message: 'checkPulseLogs needs mark (from markLogPosition) or since (an ISO time) to know where "after the restart" begins',
      nonRetryable: true,
    });
  }
  // In plan mode markLogPosition records no offset (it stats nothing), so the plan describes the read without one.
  if (source.kind === 'file' && !input.mark?.file && !input.plan) {
    throw ApplicationFailure.create({
      type: 'LogMarkMissing',
      message: `A file log source (${source.path}) has no timestamps: where the file ended must be recorded before the restart (the log read of this step needs it)`,
      nonRetryable: true,
    });
  }
  const at = new Date().toISOString();

  let action: Action;
  if (source.kind === 'journald') action = describeCommand(journalArgv(source.unit, since), { prefix });
  else if (source.kind === 'command') action = describeCommand(commandArgv(source.argv, since), { prefix, secrets });
  else {
    const from = input.mark?.file
      ? `read from byte ${input.mark.file.offset}`
      : 'read only what Pulse writes after the restart (from where the file ends just before it)';
    action = { kind: 'file', op: 'read', path: source.path, change: from };
  }

  if (input.plan) {
    return {
      value: { source: source.kind, since, linesRead: 0, feb: 0, v6: 0, errors: 0, shutdown: 0, total: 0, excerpt: [] },
      evidence: evidence(
        input.step,
        'planned',
        `Would read Pulse's logs (${source.kind}) since ${since} and count [TrueNASPoller] and component=truenas_poller lines`,
        [action],
        undefined,
        { at },
      ),
    };
  }

  let text: string;
  const fileInfo: Pick<LogCheck, 'fromOffset' | 'toOffset' | 'rotated'> = {};
  if (source.kind === 'file') {
    const r = await readFileFrom(source.path, input.mark!.file!);
    text = r.text;
    Object.assign(fileInfo, { fromOffset: r.from, toOffset: r.to, rotated: r.rotated });
  } else {
    const argv = (action as Extract<Action, { kind: 'command' }>).argv.slice(prefix.length);
    let r;
    try {
      r = await runCommand(argv, { prefix, secrets });
    } catch (err) {
      if (err instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          type: 'LogsUnreadable',
          message: `Reading Pulse's logs failed: ${err.message}`,
          nonRetryable: err.type !== 'CommandTimedOut',
          details: err.details ?? undefined,
          cause: err,
        });
      }
      throw err;
    }
    if (source.kind === 'journald' && JOURNAL_NOT_READABLE.test(r.stderr)) {
      throw ApplicationFailure.create({
        type: 'LogsUnreadable',
        message: `journalctl cannot read the journal of unit ${source.unit} (${excerpt(r.stderr.trim(), 200)}); run it as root (prefix ["sudo","-n"]) or as a member of group systemd-journal`,
        nonRetryable: true,
      });
    }
    // Pulse logs to stderr; `docker logs` replays it on stderr too. Both streams are read.
    text = `${r.stdout}\n${r.stderr}`;
  }

  const scan = scanPulseLogs(text);
  const { lines, ...counts } = scan;
  const shownLines = lines.slice(-EXCERPT_LINES).map((l) => maskLogLine(l, secrets));
  const { verdict, summary } = judge(expect, scan, source.kind, since);
  return {
    value: { source: source.kind, since, ...counts, excerpt: shownLines, ...fileInfo },
    evidence: evidence(input.step, verdict, summary, [action], { ...counts, expect, excerpt: shownLines, ...fileInfo }, { at }),
  };
}

function judge(expect: LogExpectation, scan: LogScan, kind: string, since: string): { verdict: Verdict; summary: string } {
  const counts = `${scan.total} TrueNAS poller lines (${scan.feb} [TrueNASPoller], ${scan.v6} truenas_poller JSON; ${scan.errors} failures, ${scan.shutdown} about stopping) in ${scan.linesRead} lines since ${since}`;
  const activity = scan.total - scan.shutdown;
  if (expect === 'poller-silent') {
    if (activity > 0) return { verdict: 'failed', summary: `Poller activity after the restart: ${counts}` };
    if (scan.linesRead === 0) {
      return {
        verdict: 'inconclusive',
        summary: `No log lines at all from ${kind} since ${since}: the source may be wrong or unreadable, so silence proves nothing`,
      };
    }
    return { verdict: 'ok', summary: `No TrueNAS poll activity: ${counts}` };
  }
  if (expect === 'poller-active') {
    if (scan.total > 0) return { verdict: 'ok', summary: `The poller is running: ${counts}` };
    return {
      verdict: 'inconclusive',
      summary: `No TrueNAS poller lines since ${since}; Pulse logs nothing on successful polls and has no "poller started" line, so the API and metrics decide`,
    };
  }
  return { verdict: 'ok', summary: counts };
}
