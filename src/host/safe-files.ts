/**
 * Careful file operations in Pulse's data directory for the Data Cleanup (runbook §5).
 *
 * The rules: the data directory must be a real directory (a symlink is refused, never followed); only names
 * directly inside it are touched; a symlink or special file where a regular file is expected is refused and
 * NOT followed, so nothing outside the data directory is ever read, let alone removed; the only change ever
 * made is one `unlink` of one regular file, never a recursive or globbed removal.
 *
 * Node has no unlinkat(2) and no fd-based unlink, so a swap of the file between the last check and the unlink
 * cannot be excluded. It is narrowed and then *detected*: the file is held open (O_NOFOLLOW) from the first
 * check to after the unlink, its identity (device + inode) is compared before the unlink, and afterwards its
 * link count, read through the still-open descriptor, must have dropped by one. If another file was unlinked
 * instead, the held inode keeps its link count and UnlinkRaced is raised.
 *
 * This module knows nothing about Temporal: it throws CleanupError, which activities/data-files.ts maps.
 */
import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readlink, realpath, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CLEANUP_FAILURES, CLEANUP_RETRYABLE_TYPES, DEFAULT_DATA_DIR, type CleanupFailureType } from '../config/cleanup.js';
import { failureClass } from '../runbook/failure-types.js';

export class CleanupError extends failureClass<CleanupFailureType>(CLEANUP_RETRYABLE_TYPES) {}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Permission problems need a person; other I/O errors may pass. */
function accessFailure(what: string, path: string, err: unknown): CleanupError {
  const code = errno(err) ?? String(err);
  const permanent = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  const error = new CleanupError(
    permanent ? CLEANUP_FAILURES.dataDirInvalid : CLEANUP_FAILURES.fileAccessFailed,
    `cannot ${what} ${path} (${code})${permanent ? '; run the worker as a user that may change the Pulse data directory' : ''}`,
    { path, code },
  );
  return error;
}

function modeString(mode: bigint | number): string {
  return (Number(mode) & 0o7777).toString(8).padStart(4, '0');
}

function kindOf(st: BigIntStats): 'file' | 'directory' | 'symlink' | 'other' {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

async function lstatOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw accessFailure('inspect', path, err);
  }
}

const sameInode = (a: BigIntStats, b: BigIntStats) => a.dev === b.dev && a.ino === b.ino;

// ---------------------------------------------------------------------------------------------------------
// The data directory (cleanup.1)

export interface DataDirInfo {
  path: string;
  source: 'input' | 'PULSE_DATA_DIR' | 'default';
  /** The path with every parent symlink resolved (the last component itself is never a symlink). */
  realPath: string;
  dev: string;
  ino: string;
  mode: string;
}

/**
 * The active data directory: the explicit value, else the worker's PULSE_DATA_DIR, else /etc/pulse (the same
 * precedence as `${PULSE_DATA_DIR:-/etc/pulse}` in the runbook, where an empty variable also means unset).
 */
export async function resolveDataDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<DataDirInfo> {
  const fromEnv = env.PULSE_DATA_DIR;
  const [path, source]: [string, DataDirInfo['source']] = explicit
    ? [explicit, 'input']
    : fromEnv
      ? [fromEnv, 'PULSE_DATA_DIR']
      : [DEFAULT_DATA_DIR, 'default'];
  const named = source === 'input' ? 'dataDir' : source === 'PULSE_DATA_DIR' ? "the worker's PULSE_DATA_DIR" : 'the default data directory';
  if (!isAbsolute(path)) {
    throw new CleanupError(CLEANUP_FAILURES.dataDirInvalid, `${named} ${path} must be an absolute path such as ${DEFAULT_DATA_DIR}`, {
      path,
      source,
    });
  }
  const st = await checkDataDir(path, named);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw accessFailure('resolve', path, err);
  }
  return { path, source, realPath: real, dev: String(st.dev), ino: String(st.ino), mode: modeString(st.mode) };
}

/** The directory exists and is a real directory, not a symlink to one (checked with lstat, never followed). */
export async function checkDataDir(path: string, named = 'dataDir'): Promise<BigIntStats> {
  const st = await lstatOrNull(path);
  if (!st) {
    throw new CleanupError(
      CLEANUP_FAILURES.dataDirInvalid,
      `${named} ${path} does not exist; give the directory Pulse runs with (its PULSE_DATA_DIR)`,
      { path },
    );
  }
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = await readlink(path);
    } catch {
      // the target is only for the message
    }
    throw new CleanupError(
      CLEANUP_FAILURES.dataDirInvalid,
      `${named} ${path} is a symlink${target ? ` to ${target}` : ''}; it is refused, not followed: give the real directory path`,
      { path, linkTarget: target },
    );
  }
  if (!st.isDirectory()) {
    throw new CleanupError(CLEANUP_FAILURES.dataDirInvalid, `${named} ${path} is not a directory (it is a ${kindOf(st)})`, { path });
  }
  return st;
}

// ---------------------------------------------------------------------------------------------------------
// Inspecting one file

export interface RegularFileFacts {
  path: string;
  size: number;
  mode: string;
  dev: string;
  ino: string;
  nlink: number;
  mtime: string;
  sha256: string;
}

async function sha256Of(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(64 * 1024);
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/** O_NOFOLLOW: opening a symlink fails (ELOOP) instead of reaching its target. O_NONBLOCK: a FIFO swapped in cannot hang us. */
const SAFE_READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

interface HeldFile {
  handle: FileHandle;
  stat: BigIntStats;
  facts: RegularFileFacts;
}

/**
 * Opens `<dir>/<name>` only if it is a regular file, and returns it held open with its facts. null when absent.
 * The caller closes the handle.
 */
async function holdRegularFile(dir: string, name: string, unsafeType: CleanupFailureType): Promise<HeldFile | null> {
  await checkDataDir(dir);
  const path = join(dir, name);
  const before = await lstatOrNull(path);
  if (!before) return null;
  if (!before.isFile()) {
    let target = '';
    if (before.isSymbolicLink()) {
      try {
        target = await readlink(path);
      } catch {
        // only for the message
      }
    }
    throw new CleanupError(
      unsafeType,
      `${path} is a ${kindOf(before)}${target ? ` to ${target}` : ''}, not a regular file; it is refused and not followed: nothing outside ${dir} is touched. Inspect it by hand`,
      { path, kind: kindOf(before), ...(target ? { linkTarget: target } : {}) },
    );
  }
  let handle: FileHandle;
  try {
    handle = await open(path, SAFE_READ_FLAGS);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    if (errno(err) === 'ELOOP') {
      throw new CleanupError(unsafeType, `${path} became a symlink while being inspected; it is refused and not followed`, { path });
    }
    throw accessFailure('open', path, err);
  }
  try {
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile() || !sameInode(stat, before)) {
      throw new CleanupError(unsafeType, `${path} was replaced while being inspected; run the step again`, { path });
    }
    const sha256 = await sha256Of(handle);
    const after = await handle.stat({ bigint: true });
    if (after.size !== stat.size || after.mtimeNs !== stat.mtimeNs) {
      throw new CleanupError(CLEANUP_FAILURES.fileAccessFailed, `${path} was being written while it was hashed; run the step again`, {
        path,
      });
    }
    return {
      handle,
      stat,
      facts: {
        path,
        size: Number(stat.size),
        mode: modeString(stat.mode),
        dev: String(stat.dev),
        ino: String(stat.ino),
        nlink: Number(stat.nlink),
        mtime: stat.mtime.toISOString(),
        sha256,
      },
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The facts of `<dir>/<name>` if it is a regular file (null when absent); symlinks and special files are refused. */
export async function inspectRegularFile(dir: string, name: string, unsafeType: CleanupFailureType): Promise<RegularFileFacts | null> {
  const held = await holdRegularFile(dir, name, unsafeType);
  if (!held) return null;
  await held.handle.close();
  return held.facts;
}

// ---------------------------------------------------------------------------------------------------------
// Fingerprints (the encryption key before and after)

/** Identity and content hash of a file, never its content. Symlinks are described, not followed. */
export interface FileFingerprint {
  path: string;
  exists: boolean;
  kind?: 'file' | 'symlink' | 'directory' | 'other';
  dev?: string;
  ino?: string;
  size?: number;
  mode?: string;
  sha256?: string;
  linkTarget?: string;
}

export async function fingerprintFile(dir: string, name: string): Promise<FileFingerprint> {
  await checkDataDir(dir);
  const path = join(dir, name);
  const st = await lstatOrNull(path);
  if (!st) return { path, exists: false };
  const kind = kindOf(st);
  const base: FileFingerprint = {
    path,
    exists: true,
    kind,
    dev: String(st.dev),
    ino: String(st.ino),
    size: Number(st.size),
    mode: modeString(st.mode),
  };
  if (kind === 'symlink') {
    try {
      return { ...base, linkTarget: await readlink(path) };
    } catch (err) {
      throw accessFailure('read the link', path, err);
    }
  }
  if (kind !== 'file') return base;
  const facts = await inspectRegularFile(dir, name, CLEANUP_FAILURES.encryptionKeyChanged);
  if (!facts) return { path, exists: false };
  return { ...base, dev: facts.dev, ino: facts.ino, size: facts.size, mode: facts.mode, sha256: facts.sha256 };
}

/** The differences that make a file not "intact": identity, type, size or content. Mode changes are reported apart. */
export function fingerprintDifferences(before: FileFingerprint, after: FileFingerprint): string[] {
  const diffs: string[] = [];
  const fields: Array<keyof FileFingerprint> = ['exists', 'kind', 'dev', 'ino', 'size', 'sha256', 'linkTarget'];
  for (const f of fields) {
    if (before[f] !== after[f]) diffs.push(`${f}: ${String(before[f] ?? '-')} → ${String(after[f] ?? '-')}`);
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------------------
// Removal (cleanup.4)

export interface RemovedFile {
  facts: RegularFileFacts;
  /** The removed inode's link count after the unlink, read through the held descriptor (0 for a plain file). */
  nlinkAfter: number;
}

/**
 * Removes exactly `<dir>/<name>` when it is a regular file: one unlink, never recursive, never a glob.
 * Returns null when the file is absent. With `expectedSha256`, a file whose content changed since it was
 * inspected is refused (TrueNASFileChanged-like type given by the caller).
 */
export async function removeRegularFile(
  dir: string,
  name: string,
  opts: { unsafeType: CleanupFailureType; changedType: CleanupFailureType; expectedSha256?: string },
): Promise<RemovedFile | null> {
  const held = await holdRegularFile(dir, name, opts.unsafeType);
  if (!held) return null;
  const { handle, stat, facts } = held;
  try {
    if (opts.expectedSha256 && facts.sha256 !== opts.expectedSha256) {
      throw new CleanupError(
        opts.changedType,
        `${facts.path} changed since it was inspected (sha256 ${opts.expectedSha256.slice(0, 16)}… is now ${facts.sha256.slice(0, 16)}…; was a connection added meanwhile?); it was not removed: run the cleanup again to inspect it afresh`,
        { path: facts.path, expectedSha256: opts.expectedSha256, sha256: facts.sha256 },
      );
    }
    // The last checks, as close to the unlink as Node allows: the same directory, the same regular file.
    const dirNow = await checkDataDir(dir);
    const fileNow = await lstatOrNull(facts.path);
    if (!fileNow || !fileNow.isFile() || !sameInode(fileNow, stat)) {
      throw new CleanupError(
        opts.unsafeType,
        `${facts.path} was replaced between inspection and removal; it was not removed: run the cleanup again`,
        { path: facts.path },
      );
    }
    try {
      await unlink(facts.path);
    } catch (err) {
      if (errno(err) === 'ENOENT') return { facts, nlinkAfter: Number((await handle.stat({ bigint: true })).nlink) };
      throw accessFailure('remove', facts.path, err);
    }
    // Proof that the unlinked name was the inode we held: its link count dropped by one.
    const nlinkAfter = Number((await handle.stat({ bigint: true })).nlink);
    const dirAfter = await lstatOrNull(dir);
    if (nlinkAfter !== facts.nlink - 1 || !dirAfter || !sameInode(dirAfter, dirNow)) {
      throw new CleanupError(
        CLEANUP_FAILURES.unlinkRaced,
        `the entry ${facts.path} was swapped while it was being removed: the inspected file still has ${nlinkAfter} link(s) (expected ${facts.nlink - 1}); check ${dir} by hand`,
        { path: facts.path, nlinkBefore: facts.nlink, nlinkAfter },
      );
    }
    return { facts, nlinkAfter };
  } finally {
    await handle.close();
  }
}
