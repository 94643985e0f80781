/**
 * Sets or removes one variable in a file the service reads its environment from: a dotenv / systemd
 * `EnvironmentFile=` file, or a systemd drop-in with `Environment=` lines.
 *
 * The edit is surgical and safe to repeat:
 * - every other line, comment and the order stay as they were; only lines assigning NAME change;
 * - when the file already says what we want, nothing is written (mtime and inode stay), `changed: false`;
 * - the new content goes to a temp file in the same directory, is fsynced, gets the old file's mode and
 *   owner, and is renamed over the old file; then the directory is fsynced. A crash leaves either the old
 *   or the new file, never half of one. (Extended attributes, ACLs and SELinux labels are not copied.)
 *
 * Refusals leave the file untouched and throw a non-retryable 'EnvFileNotWritable' naming the path and fix:
 * - a **symlink** is refused. Renaming over a link replaces the link with a regular file, so the real file
 *   the link points at (often managed by config management) would silently keep the old value. Following
 *   the link instead would let whoever can write the link's directory redirect a root-owned write
 *   elsewhere. Pointing the config at the real path is explicit and safe.
 * - a directory or other non-regular file, a missing parent directory, a file or directory the process
 *   cannot write (EACCES/EPERM/EROFS), and a file whose owner cannot be kept.
 * A missing file is created (mode 0600: such files often hold secrets) only if its directory exists.
 *
 * Evidence only ever shows the lines that assign NAME; the rest of the file may hold secrets.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

export interface EnvEditPlan {
  /** What the edit does: replace existing assignments, append one, remove them, or nothing. */
  op: 'replace' | 'append' | 'remove' | 'none';
  changed: boolean;
  /** The lines assigning NAME before the edit (with 1-based line numbers). */
  before: Array<{ line: number; text: string }>;
  /** The lines assigning NAME after the edit (with 1-based line numbers). */
  after: Array<{ line: number; text: string }>;
  /** The value the service would see after the edit (the last assignment wins), or null when unset. */
  effectiveBefore: string | null;
  effectiveAfter: string | null;
  /** The whole new content. Never put it in evidence. */
  content: string;
}

export interface EnvFileChange {
  path: string;
  changed: boolean;
  created: boolean;
  plan: Omit<EnvEditPlan, 'content'>;
  /** sha256 of the file after the call (unchanged files too), for evidence. */
  sha256: string;
  mode: string;
  uid: number;
  gid: number;
}

export type EnvFileFormat = 'env-file' | 'systemd-dropin';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Values are written unquoted, so they must not need quoting. The three readers disagree on quotes:
 * systemd and compose strip them, `docker run --env-file` keeps them literally (and Pulse would then read
 * `"true"`, which is not true). Our values are `true`/`false`; anything exotic is refused rather than guessed.
 */
const SAFE_VALUE_RE = /^[A-Za-z0-9_.,:/@%+=-]*$/;

function fail(type: string, message: string, path: string, nonRetryable = true, reason?: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable, details: [{ path, reason: reason ?? type }] });
}

function checkNameAndValue(name: string, value: string | undefined): void {
  if (!NAME_RE.test(name)) {
    throw ApplicationFailure.create({
      type: 'InvalidHostConfig',
      message: `Variable name "${name}" is not a valid environment variable name (letters, digits, _; not starting with a digit)`,
      nonRetryable: true,
    });
  }
  if (value !== undefined && !SAFE_VALUE_RE.test(value)) {
    throw ApplicationFailure.create({
      type: 'InvalidHostConfig',
      message: `The value for ${name} contains characters that would need quoting (space, quote, #, $, newline…); quoting differs between systemd, compose and docker run, so only plain values are written`,
      nonRetryable: true,
    });
  }
}

function splitLines(content: string): { lines: string[]; trailingNewline: boolean } {
  if (content === '') return { lines: [], trailingNewline: false };
  const trailingNewline = content.endsWith('\n');
  const lines = (trailingNewline ? content.slice(0, -1) : content).split('\n');
  return { lines, trailingNewline };
}

function joinLines(lines: string[], trailingNewline: boolean): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (trailingNewline ? '\n' : '');
}

/** Reads one dotenv value: unquoted (inline ` #` comment cut), 'single' or "double" quoted. */
function parseDotenvValue(raw: string): string {
  const v = raw.trim();
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2) {
    const end = v.indexOf(q, 1);
    if (end > 0) return v.slice(1, end);
  }
  const hash = v.search(/\s#/);
  return (hash >= 0 ? v.slice(0, hash) : v).trim();
}

function collect(lines: string[], match: (line: string) => string | null): Array<{ line: number; text: string; value: string }> {
  const out: Array<{ line: number; text: string; value: string }> = [];
  lines.forEach((text, i) => {
    const value = match(text);
    if (value !== null) out.push({ line: i + 1, text, value });
  });
  return out;
}

function finishPlan(
  content: string,
  before: Array<{ line: number; text: string; value: string }>,
  newLines: string[],
  trailingNewline: boolean,
  op: EnvEditPlan['op'],
  match: (line: string) => string | null,
): EnvEditPlan {
  const newContent = joinLines(newLines, trailingNewline);
  const after = collect(newLines, match);
  const changed = newContent !== content;
  return {
    op: changed ? op : 'none',
    changed,
    before: before.map(({ line, text }) => ({ line, text })),
    after: after.map(({ line, text }) => ({ line, text })),
    effectiveBefore: before.length ? before[before.length - 1]!.value : null,
    effectiveAfter: after.length ? after[after.length - 1]!.value : null,
    content: newContent,
  };
}

/**
 * Pure: the edit that sets (or, for undefined, removes) NAME in dotenv / EnvironmentFile content.
 * Existing `NAME=…` and `export NAME=…` lines are rewritten in place (keeping indentation and `export`),
 * quoted values included; every assignment of NAME is rewritten so the last one (the one that wins) is
 * right. Commented-out lines are left alone. An absent NAME is appended at the end.
 */
export function planEnvEdit(content: string, name: string, value: string | undefined): EnvEditPlan {
  checkNameAndValue(name, value);
  const assignment = new RegExp(`^(\\s*)(export\\s+)?${name}\\s*=(.*)$`);
  const match = (line: string): string | null => {
    const m = assignment.exec(line.replace(/\r$/, ''));
    return m ? parseDotenvValue(m[3] ?? '') : null;
  };
  const { lines, trailingNewline } = splitLines(content);
  const before = collect(lines, match);

  if (value === undefined) {
    const kept = lines.filter((l) => match(l) === null);
    return finishPlan(content, before, kept, trailingNewline, 'remove', match);
  }
  if (before.length === 0) {
    return finishPlan(content, before, [...lines, `${name}=${value}`], true, 'append', match);
  }
  const rewritten = lines.map((line) => {
    const m = assignment.exec(line);
    if (!m) return line;
    const cr = line.endsWith('\r') ? '\r' : '';
    const current = `${m[1] ?? ''}${m[2] ?? ''}${name}=${value}${cr}`;
    // Keep the exact line when it already says the same thing (e.g. NAME="true"), so a second run is a no-op.
    return parseDotenvValue(m[3] ?? '') === value ? line : current;
  });
  return finishPlan(content, before, rewritten, trailingNewline, 'replace', match);
}

/** `Environment=` assignments on one drop-in line, split like systemd does (space separated, quotes allowed). */
function dropInAssignments(line: string): string[] | null {
  const m = /^\s*Environment\s*=\s*(.*)$/.exec(line.replace(/\r$/, ''));
  if (!m) return null;
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let w: RegExpExecArray | null;
  while ((w = re.exec(m[1] ?? '')) !== null) words.push(w[1] ?? w[2] ?? w[3] ?? '');
  return words;
}

/**
 * Pure: the edit that sets (or removes) NAME in a systemd drop-in. The line is `Environment=NAME=value`
 * inside `[Service]`; a missing section is added. A line that sets NAME together with other variables is
 * refused (moving one assignment out of it is a judgement for a person, and systemd's quoting rules make a
 * blind rewrite risky).
 */
export function planDropInEdit(content: string, name: string, value: string | undefined, path = 'the drop-in'): EnvEditPlan {
  checkNameAndValue(name, value);
  const match = (line: string): string | null => {
    const words = dropInAssignments(line);
    if (!words) return null;
    const hit = [...words].reverse().find((w) => w.startsWith(`${name}=`));
    return hit === undefined ? null : hit.slice(name.length + 1);
  };
  const { lines, trailingNewline } = splitLines(content);
  const before = collect(lines, match);
  for (const b of before) {
    if ((dropInAssignments(b.text) ?? []).length > 1) {
      fail(
        'EnvFileUnsupported',
        `Line ${b.line} of ${path} sets ${name} together with other variables; move ${name} to its own Environment= line and run again`,
        path,
      );
    }
  }
  const newLine = `Environment=${name}=${value}`;

  if (value === undefined) {
    const kept = lines.filter((l) => match(l) === null);
    return finishPlan(content, before, kept, trailingNewline, 'remove', match);
  }
  if (before.length > 0) {
    const rewritten = lines.map((line) => (match(line) === null || match(line) === value ? line : newLine));
    return finishPlan(content, before, rewritten, trailingNewline, 'replace', match);
  }
  // Append inside the last [Service] section (before the next section header), or add the section.
  const headers = lines.map((l, i) => ({ i, h: /^\s*\[([^\]]+)\]\s*$/.exec(l)?.[1] })).filter((x) => x.h);
  const service = [...headers].reverse().find((x) => x.h === 'Service');
  if (!service) {
    const prefix = lines.length > 0 && lines[lines.length - 1]!.trim() !== '' ? [...lines, ''] : [...lines];
    return finishPlan(content, before, [...prefix, '[Service]', newLine], true, 'append', match);
  }
  const next = headers.find((x) => x.i > service.i);
  let insertAt = next ? next.i : lines.length;
  while (insertAt > service.i + 1 && lines[insertAt - 1]!.trim() === '') insertAt -= 1;
  const out = [...lines.slice(0, insertAt), newLine, ...lines.slice(insertAt)];
  return finishPlan(content, before, out, true, 'append', match);
}

/** Reads a file for planning; a missing file reads as empty. Other problems are left to the write. */
export async function readIfPresent(path: string): Promise<{ exists: boolean; content: string } | null> {
  try {
    return { exists: true, content: await fs.readFile(path, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, content: '' };
    return null;
  }
}

/** Sets (or removes, for undefined) NAME in a dotenv / systemd EnvironmentFile. */
export function setEnvVar(path: string, name: string, value: string | undefined): Promise<EnvFileChange> {
  return editAssignmentFile(path, (content) => planEnvEdit(content, name, value));
}

/** Sets (or removes, for undefined) NAME in a systemd drop-in's `Environment=` lines. */
export function setDropInEnvVar(path: string, name: string, value: string | undefined): Promise<EnvFileChange> {
  return editAssignmentFile(path, (content) => planDropInEdit(content, name, value, path));
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function notWritable(path: string, why: string, fix: string, reason: string): never {
  fail('EnvFileNotWritable', `Cannot write ${path}: ${why}; ${fix}`, path, true, reason);
}

/** Checks the target before anything is written; returns its stat, or null when it will be created. (Also the doctor's check.) */
export async function inspectTarget(path: string): Promise<import('node:fs').Stats | null> {
  const dir = dirname(path);
  let st: import('node:fs').Stats | null = null;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') notWritable(path, 'a parent of it is not a directory', 'check the configured path', 'parent-not-directory');
    if (code === 'EACCES')
      notWritable(
        path,
        'its directory cannot be searched (permission denied)',
        'run the worker as a user that may edit it, or fix the directory permissions',
        'permission',
      );
    if (code !== 'ENOENT') throw err;
  }
  if (st === null) {
    let dst: import('node:fs').Stats;
    try {
      dst = await fs.stat(dir);
    } catch {
      notWritable(
        path,
        `its directory ${dir} does not exist`,
        `create ${dir} (where the service reads its environment) or configure the right path`,
        'directory-missing',
      );
    }
    if (!dst.isDirectory()) notWritable(path, `${dir} is not a directory`, 'check the configured path', 'parent-not-directory');
  } else if (st.isSymbolicLink()) {
    const to = await fs.readlink(path).catch(() => '?');
    notWritable(
      path,
      `it is a symbolic link (to ${to}); a rename would replace the link, not the file it points to`,
      `configure the real file's path instead`,
      'symlink',
    );
  } else if (st.isDirectory()) {
    notWritable(path, 'it is a directory', 'configure the path of the env file inside it (e.g. /etc/pulse/.env)', 'directory');
  } else if (!st.isFile()) {
    notWritable(path, 'it is not a regular file', 'configure the path of a regular env file', 'not-regular-file');
  }

  // The temp file and the rename need a writable directory; a read-only file is refused even though a
  // rename could replace it, because the read-only bit is somebody's decision. (root passes both checks
  // except on a read-only filesystem, which the write then reports.)
  try {
    await fs.access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    notWritable(
      path,
      `its directory ${dir} is not writable by this process (uid ${process.getuid?.() ?? '?'})`,
      'run the worker as a user that may edit it (e.g. root): files are edited by the worker itself, the command prefix does not apply to them',
      'permission',
    );
  }
  if (st !== null) {
    try {
      await fs.access(path, fsConstants.R_OK | fsConstants.W_OK);
    } catch {
      notWritable(
        path,
        `it is not readable and writable by this process (uid ${process.getuid?.() ?? '?'})`,
        'run the worker as a user that may edit it, or fix its permissions',
        'permission',
      );
    }
  }
  return st;
}

function mapWriteError(path: string, err: unknown): never {
  if (err instanceof ApplicationFailure) throw err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    notWritable(
      path,
      code === 'EROFS' ? 'the filesystem is read-only' : `permission denied (${code})`,
      'run the worker as a user that may edit it, or remount read-write',
      'permission',
    );
  }
  fail('EnvFileWriteFailed', `Writing ${path} failed (${code ?? 'error'}); the file was left as it was`, path, false, code);
}

async function editAssignmentFile(path: string, edit: (content: string) => EnvEditPlan): Promise<EnvFileChange> {
  const st = await inspectTarget(path);
  const content = st ? await fs.readFile(path, 'utf8').catch((e) => mapWriteError(path, e)) : '';
  const plan = edit(content);
  const { content: newContent, ...shownPlan } = plan;
  const created = st === null;

  if (!plan.changed && !created) {
    return { path, changed: false, created: false, plan: shownPlan, sha256: sha256(content), ...ownership(st!) };
  }
  if (!plan.changed && created && plan.after.length === 0) {
    // Removing a variable from a file that does not exist: nothing to do, and nothing is created.
    return { path, changed: false, created: false, plan: shownPlan, sha256: sha256(''), mode: '', uid: -1, gid: -1 };
  }

  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: import('node:fs/promises').FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx', 0o600);
    await handle.writeFile(newContent, 'utf8');
    if (st) {
      await handle.chmod(st.mode & 0o7777);
      const tst = await handle.stat();
      if (tst.uid !== st.uid || tst.gid !== st.gid) {
        try {
          await handle.chown(st.uid, st.gid);
        } catch {
          notWritable(
            path,
            `its owner ${st.uid}:${st.gid} could not be kept (only root can give a file away)`,
            'run the worker as root or as the owner',
            'owner',
          );
        }
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;

    // Someone else edited the file between our read and now: do not overwrite their change.
    if (st) {
      const again = await fs.lstat(path);
      if (again.ino !== st.ino || again.mtimeMs !== st.mtimeMs || again.size !== st.size) {
        fail('EnvFileChanged', `${path} changed while it was being edited; nothing was written, run again`, path, false);
      }
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    mapWriteError(path, err);
  }
  await fsyncDir(dir);
  const final = await fs.stat(path);
  return { path, changed: true, created, plan: shownPlan, sha256: sha256(newContent), ...ownership(final) };
}

function ownership(st: import('node:fs').Stats): { mode: string; uid: number; gid: number } {
  return { mode: `0${(st.mode & 0o7777).toString(8)}`, uid: st.uid, gid: st.gid };
}

/** Makes the rename durable. Some filesystems cannot fsync a directory; the rename itself is still atomic. */
async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r').catch(() => undefined);
  if (!h) return;
  try {
    await h.sync();
  } catch {
    /* EINVAL/EISDIR on some filesystems: nothing more can be done */
  } finally {
    await h.close();
  }
}
