/**
 * The git side of the Code Rollback (runbook §4): read-only inspection of the repository and range, the revert
 * itself, and the build check. Every command runs without a shell, as an argv array, so no SHA or path is ever
 * interpreted by a shell.
 *
 * This module knows nothing about Temporal: it throws RollbackError (a type from ROLLBACK_FAILURES, a retryable
 * flag and plain-JSON details), and activities/git.ts maps it onto ApplicationFailure and evidence.
 */
import { access, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { execa } from 'execa';
import {
  RANGE_NOT_IN_HISTORY_HELP,
  ROLLBACK_FAILURES,
  ROLLBACK_RETRYABLE_TYPES,
  isRunbookDefault,
  type RollbackFailureType,
} from '../config/rollback.js';
import { excerpt } from '../runbook/redact.js';
import { failureClass } from '../runbook/failure-types.js';

export class RollbackError extends failureClass<RollbackFailureType>(ROLLBACK_RETRYABLE_TYPES) {}

// ---------------------------------------------------------------------------------------------------------
// Running git

/**
 * Variables that would point git at another repository, index or object store than the one in `cwd`.
 * A worker started from a git hook or with GIT_DIR exported must still act on repoPath and nothing else.
 */
const REDIRECTING_GIT_VARS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_CEILING_DIRECTORIES',
  'GIT_DISCOVERY_ACROSS_FILESYSTEM',
  'GIT_PREFIX',
  'GIT_CONFIG_PARAMETERS',
];

function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !REDIRECTING_GIT_VARS.includes(k)) env[k] = v;
  }
  return {
    ...env,
    // Stable, English messages for evidence.
    LC_ALL: 'C',
    // Never wait for a person: no credential prompt, no editor.
    GIT_TERMINAL_PROMPT: '0',
    GIT_EDITOR: 'true',
    // Read-only commands (status) must not even refresh the index: plan mode changes nothing.
    GIT_OPTIONAL_LOCKS: '0',
  };
}

export interface GitResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The argv of a git command as an operator would type it. */
export function gitArgv(args: string[]): string[] {
  return ['git', ...args];
}

/**
 * Runs `git <args>` in repoPath. Exit codes listed in `accept` are returned to the caller; any other exit is a
 * GitCommandFailed (retryable: a held lock or a busy disk can pass), and a missing git binary is GitUnavailable.
 */
export async function runGit(repoPath: string, args: string[], accept: number[] = [0]): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: repoPath,
    env: gitEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  const argv = gitArgv(args);
  if (result.code === 'ENOENT' && result.exitCode === undefined) {
    throw new RollbackError(
      ROLLBACK_FAILURES.gitUnavailable,
      "git is not installed or not on the worker's PATH; install git (runbook prerequisite 2)",
      { argv },
    );
  }
  const exitCode = result.exitCode ?? -1;
  const out: GitResult = { argv, exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  if (!accept.includes(exitCode)) {
    throw new RollbackError(
      ROLLBACK_FAILURES.gitCommandFailed,
      `${argv.join(' ')} failed in ${repoPath} with exit code ${exitCode}: ${excerpt(out.stderr.trim() || result.shortMessage || '', 400)}`,
      { argv, cwd: repoPath, exitCode, stderr: excerpt(out.stderr, 1000) },
    );
  }
  return out;
}

async function gitLine(repoPath: string, args: string[]): Promise<string> {
  return (await runGit(repoPath, args)).stdout.trim();
}

// ---------------------------------------------------------------------------------------------------------
// Read-only facts about the repository

/**
 * The repository must be a work tree whose top level IS repoPath: a subfolder of a repository, or a folder
 * inside some parent repository, would make the revert act on the wrong repository.
 */
export async function checkWorkTree(repoPath: string): Promise<{ topLevel: string }> {
  if (!isAbsolute(repoPath)) {
    throw new RollbackError(
      ROLLBACK_FAILURES.repositoryInvalid,
      `repoPath ${repoPath} must be absolute; give the top-level folder of the Pulse checkout`,
    );
  }
  let real: string;
  try {
    real = await realpath(repoPath);
  } catch (err) {
    throw new RollbackError(
      ROLLBACK_FAILURES.repositoryInvalid,
      `repoPath ${repoPath} cannot be opened (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the top-level folder of the Pulse checkout`,
    );
  }
  const inside = await runGit(repoPath, ['rev-parse', '--is-inside-work-tree'], [0, 128]);
  if (inside.exitCode !== 0 || inside.stdout.trim() !== 'true') {
    throw new RollbackError(
      ROLLBACK_FAILURES.repositoryInvalid,
      `repoPath ${repoPath} is not a git work tree (${excerpt(inside.stderr.trim() || 'a bare repository or a .git folder', 200)}); give the top-level folder of the Pulse checkout`,
      { repoPath },
    );
  }
  const topLevel = await gitLine(repoPath, ['rev-parse', '--show-toplevel']);
  if (resolve(topLevel) !== real) {
    throw new RollbackError(
      ROLLBACK_FAILURES.repositoryInvalid,
      `repoPath ${repoPath} is not the top level of its repository (the top level is ${topLevel}); no revert on the wrong repository: give the top-level folder of the Pulse checkout`,
      { repoPath, topLevel },
    );
  }
  return { topLevel };
}

/** Files git leaves while a merge, revert, cherry-pick, rebase or bisect waits for a person. */
const IN_PROGRESS_MARKERS = ['REVERT_HEAD', 'CHERRY_PICK_HEAD', 'MERGE_HEAD', 'sequencer', 'rebase-merge', 'rebase-apply', 'BISECT_LOG'];

/** The in-progress operations of the repository (empty when none). Uses --git-path so linked worktrees work. */
export async function operationsInProgress(repoPath: string): Promise<string[]> {
  const paths = (await runGit(repoPath, ['rev-parse', ...IN_PROGRESS_MARKERS.flatMap((m) => ['--git-path', m])])).stdout
    .split('\n')
    .filter((l) => l.length > 0);
  const found: string[] = [];
  for (const [i, p] of paths.entries()) {
    try {
      await access(resolve(repoPath, p));
      found.push(IN_PROGRESS_MARKERS[i]);
    } catch {
      // absent: nothing in progress for this marker
    }
  }
  return found;
}

/** `git status --porcelain` with every untracked file listed; empty means clean. */
export async function workTreeStatus(repoPath: string): Promise<string> {
  return (await runGit(repoPath, ['status', '--porcelain=v1', '--untracked-files=all'])).stdout;
}

export async function headCommit(repoPath: string): Promise<string> {
  const r = await runGit(repoPath, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], [0, 1]);
  if (r.exitCode !== 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.repositoryInvalid,
      `the repository in ${repoPath} has no commit checked out (HEAD does not resolve)`,
      { repoPath },
    );
  }
  return r.stdout.trim();
}

/** The checked-out branch, or null when HEAD is detached. */
export async function currentBranch(repoPath: string): Promise<string | null> {
  const r = await runGit(repoPath, ['symbolic-ref', '--quiet', '--short', 'HEAD'], [0, 1]);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/**
 * Resolves a (possibly abbreviated) commit id to its full id. An abbreviation that matches several objects is
 * refused rather than guessed: reverting the wrong commit is worse than asking for more digits.
 */
export async function resolveCommit(repoPath: string, field: 'from' | 'to', sha: string): Promise<string> {
  const r = await runGit(repoPath, ['rev-parse', '--verify', '--quiet', `${sha}^{commit}`], [0, 1, 128]);
  if (r.exitCode === 0) return r.stdout.trim();
  // --disambiguate lists every object (of any type) whose id starts with the prefix.
  const candidates = (await runGit(repoPath, ['rev-parse', `--disambiguate=${sha}`], [0, 1, 128])).stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  const help = isRunbookDefault(field, sha) ? ` ${RANGE_NOT_IN_HISTORY_HELP}` : '';
  if (candidates.length > 1) {
    throw new RollbackError(
      ROLLBACK_FAILURES.commitAmbiguous,
      `${field} ${sha} is ambiguous in ${repoPath}: ${candidates.length} objects start with it (${candidates
        .slice(0, 5)
        .map((c) => c.slice(0, 12))
        .join(', ')}); give more hex digits`,
      { field, sha, candidates: candidates.slice(0, 20) },
    );
  }
  if (candidates.length === 1) {
    throw new RollbackError(
      ROLLBACK_FAILURES.commitUnknown,
      `${field} ${sha} names an object that is not a commit (${candidates[0]}); give a commit id`,
      { field, sha },
    );
  }
  throw new RollbackError(
    ROLLBACK_FAILURES.commitUnknown,
    `${field} ${sha} is not a commit of the repository in ${repoPath}; check the id, or fetch the branch that contains it.${help}`,
    { field, sha },
  );
}

export async function isAncestor(repoPath: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await runGit(repoPath, ['merge-base', '--is-ancestor', ancestor, descendant], [0, 1]);
  return r.exitCode === 0;
}

export interface RangeCommit {
  sha: string;
  subject: string;
}

/**
 * The commits of `from^..to`, newest first (the order `git revert` applies them). When `from` is a root commit
 * `from^` does not exist, so the range is everything reachable from `to`, which includes `from` as the runbook
 * intends. A merge commit in the range is refused: `git revert` needs `-m` for it and the choice of mainline
 * belongs to a person.
 */
export async function listRange(repoPath: string, from: string, to: string): Promise<{ commits: RangeCommit[]; fromIsRoot: boolean }> {
  const fromParents = (await gitLine(repoPath, ['rev-list', '--parents', '-n', '1', from])).split(' ').slice(1);
  const fromIsRoot = fromParents.length === 0;
  const rangeArgs = fromIsRoot ? [to] : [`${from}^..${to}`];
  const lines = (await runGit(repoPath, ['log', '--format=%H%x00%P%x00%s', ...rangeArgs])).stdout.split('\n').filter(Boolean);
  const commits: RangeCommit[] = [];
  const merges: string[] = [];
  for (const line of lines) {
    const [sha, parents, subject] = line.split('\0');
    if (parents.trim().split(' ').filter(Boolean).length > 1) merges.push(sha);
    commits.push({ sha, subject });
  }
  if (merges.length > 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.rangeInvalid,
      `the range ${rangeText(from, to, fromIsRoot)} contains merge commit(s) ${merges.map((m) => m.slice(0, 12)).join(', ')}; git revert needs -m to revert a merge, so revert this range by hand or give a range without merges`,
      { merges },
    );
  }
  return { commits, fromIsRoot };
}

/**
 * The argv that reverts the range. With a parent the runbook's own form is used (`git revert --no-edit
 * <from>^..<to>`); for a root commit the commits are listed newest first, which git reverts in the order given.
 */
/** How the range reads in messages: the runbook's `from^..to`, or the whole history up to `to` from a root commit. */
export function rangeText(from: string, to: string, fromIsRoot: boolean): string {
  return fromIsRoot
    ? `${to.slice(0, 12)} and all its ancestors (from the root commit ${from.slice(0, 12)})`
    : `${from.slice(0, 12)}^..${to.slice(0, 12)}`;
}

export function revertArgs(from: string, to: string, commits: RangeCommit[], fromIsRoot: boolean): string[] {
  return fromIsRoot ? ['revert', '--no-edit', ...commits.map((c) => c.sha)] : ['revert', '--no-edit', `${from}^..${to}`];
}

// ---------------------------------------------------------------------------------------------------------
// Was the range already reverted?

/**
 * How a re-run recognises its own earlier work. The record lives in the repository itself: `git revert
 * --no-edit` writes "This reverts commit <full id>." into every revert commit's message. So for each commit C
 * of the range we look, among the commits after `to` on HEAD's history (`to..HEAD`), for a revert R of C that
 * has not itself been reverted later (a revert of R, "Reapply", makes C live again). This is exact:
 *  - every commit of the range has a live revert → 'already-reverted': nothing is done, no new commit;
 *  - none has                                     → 'not-reverted': the revert runs;
 *  - only some have (a hand revert of one commit) → refused (RangePartiallyReverted): reverting the range
 *    again would double-revert those commits or conflict, and which half to keep is a person's decision.
 * A run interrupted in the middle leaves git's sequencer state, which inspection refuses (operation in
 * progress) with the fix, so a half-done revert is never mistaken for a finished one.
 */
export async function findLiveReverts(repoPath: string, to: string, commits: RangeCommit[]): Promise<Map<string, string>> {
  // --grep only narrows the read (a long history after `to`); the message is matched exactly below.
  const log = (await runGit(repoPath, ['log', '--fixed-strings', '--grep=This reverts commit ', '--format=%H%x00%B%x1e', `${to}..HEAD`]))
    .stdout;
  /** revert commit → the commit it reverts */
  const target = new Map<string, string>();
  /** commit → the revert commits that name it */
  const revertsOf = new Map<string, string[]>();
  for (const record of log.split('\x1e')) {
    const trimmed = record.replace(/^\n+/, '');
    if (!trimmed) continue;
    const [sha, body = ''] = trimmed.split('\0');
    const m = /^This reverts commit ([0-9a-f]{40,64})\b/m.exec(body);
    if (!m) continue;
    target.set(sha, m[1]);
    revertsOf.set(m[1], [...(revertsOf.get(m[1]) ?? []), sha]);
  }
  // undone(X): some revert of X exists that is not itself undone. Ids are content hashes, so a message can
  // only name an older commit: the recursion ends.
  const memo = new Map<string, string | null>();
  const liveRevertOf = (sha: string): string | null => {
    if (memo.has(sha)) return memo.get(sha)!;
    memo.set(sha, null);
    const live = (revertsOf.get(sha) ?? []).find((r) => liveRevertOf(r) === null) ?? null;
    memo.set(sha, live);
    return live;
  };
  const result = new Map<string, string>();
  for (const c of commits) {
    const r = liveRevertOf(c.sha);
    if (r) result.set(c.sha, r);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Inspection (rollback.1): everything is read-only

export interface RollbackInspection {
  repoPath: string;
  head: string;
  branch: string | null;
  from: string;
  to: string;
  fromIsRoot: boolean;
  /** Newest first, the order in which git reverts them. */
  commits: RangeCommit[];
  revertArgv: string[];
  state: 'not-reverted' | 'already-reverted';
  /** For 'already-reverted': each range commit and the live commit that reverts it. */
  revertedBy: Array<{ commit: string; revertedBy: string }>;
  /** Porcelain status at inspection time (empty for a clean tree). */
  status: string;
}

function notInHistory(field: 'from' | 'to', sha: string, head: string, repoPath: string): RollbackError {
  return new RollbackError(
    ROLLBACK_FAILURES.rangeNotInHistory,
    `${field} ${sha.slice(0, 12)} is not an ancestor of HEAD (${head.slice(0, 12)}) in ${repoPath}: the range is not in the history of the checked-out branch. ${RANGE_NOT_IN_HISTORY_HELP}`,
    { field, sha, head },
  );
}

/**
 * Checks everything the revert needs, in the order an operator would: the right repository, nothing in
 * progress, both ends resolve, from is an ancestor of to, both are ancestors of HEAD, no merges in the range,
 * then whether an earlier run already reverted it, a clean tree, and a committer identity.
 */
export async function inspectRollback(input: { repoPath: string; from: string; to: string }): Promise<RollbackInspection> {
  const { repoPath } = input;
  await checkWorkTree(repoPath);
  const inProgress = await operationsInProgress(repoPath);
  if (inProgress.length > 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.operationInProgress,
      `a git operation is in progress in ${repoPath} (${inProgress.join(', ')}); finish it or abort it (e.g. git revert --abort, git merge --abort, git cherry-pick --abort) before the rollback`,
      { inProgress },
    );
  }
  const head = await headCommit(repoPath);
  const branch = await currentBranch(repoPath);
  const from = await resolveCommit(repoPath, 'from', input.from);
  const to = await resolveCommit(repoPath, 'to', input.to);
  if (!(await isAncestor(repoPath, from, to))) {
    throw new RollbackError(
      ROLLBACK_FAILURES.rangeInvalid,
      `from ${input.from} is not an ancestor of to ${input.to}; give the oldest commit of the range as from and the newest as to`,
      { from, to },
    );
  }
  if (!(await isAncestor(repoPath, from, head))) throw notInHistory('from', from, head, repoPath);
  if (!(await isAncestor(repoPath, to, head))) throw notInHistory('to', to, head, repoPath);
  const { commits, fromIsRoot } = await listRange(repoPath, from, to);

  const reverted = await findLiveReverts(repoPath, to, commits);
  const status = await workTreeStatus(repoPath);
  const base = {
    repoPath,
    head,
    branch,
    from,
    to,
    fromIsRoot,
    commits,
    revertArgv: gitArgv(revertArgs(from, to, commits, fromIsRoot)),
    status,
  };
  if (reverted.size === commits.length) {
    // Nothing will be written, so a dirty tree (e.g. a binary left by the earlier build) is reported, not refused.
    return { ...base, state: 'already-reverted', revertedBy: commits.map((c) => ({ commit: c.sha, revertedBy: reverted.get(c.sha)! })) };
  }
  if (reverted.size > 0) {
    const done = commits.filter((c) => reverted.has(c.sha));
    const missing = commits.filter((c) => !reverted.has(c.sha));
    throw new RollbackError(
      ROLLBACK_FAILURES.rangePartiallyReverted,
      `${done.length} of the ${commits.length} commits of the range are already reverted on HEAD (${done.map((c) => c.sha.slice(0, 12)).join(', ')}) and ${missing.length} are not (${missing.map((c) => c.sha.slice(0, 12)).join(', ')}); reverting the whole range again would revert some commits twice: revert the remaining commits by hand or give a narrower range`,
      { reverted: done.map((c) => ({ commit: c.sha, revertedBy: reverted.get(c.sha) })), notReverted: missing.map((c) => c.sha) },
    );
  }
  if (status.length > 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.workTreeDirty,
      `the work tree of ${repoPath} has uncommitted or untracked changes; commit, stash or remove them first (git status --porcelain):\n${excerpt(status, 800)}`,
      { status: excerpt(status, 2000) },
    );
  }
  // `git revert` commits; without a committer identity it would stop after touching the tree.
  const ident = await runGit(repoPath, ['var', 'GIT_COMMITTER_IDENT'], [0, 128]);
  if (ident.exitCode !== 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.identityMissing,
      `git has no committer identity for ${repoPath}; set one with git config user.name and git config user.email (in the repository or for the worker's user)`,
    );
  }
  return { ...base, state: 'not-reverted', revertedBy: [] };
}

// ---------------------------------------------------------------------------------------------------------
// The revert (rollback.2)

export interface RevertResult {
  outcome: 'reverted' | 'already-reverted';
  inspection: RollbackInspection;
  headBefore: string;
  headAfter: string;
  /** The commits this run created, oldest first (empty for 'already-reverted'). */
  revertCommits: string[];
  output: string;
}

/** Files left unmerged by a stopped revert. */
async function unmergedFiles(repoPath: string): Promise<string[]> {
  return (await runGit(repoPath, ['diff', '--name-only', '--diff-filter=U', '-z'])).stdout.split('\0').filter(Boolean);
}

/**
 * Reverts the range with `git revert --no-edit`. On any stop (a conflict, a failing hook) the revert is aborted
 * and the repository is verified to be exactly as before: the same HEAD and the same (clean) status. Only then
 * is the failure raised, so a failed rollback never leaves a half-reverted tree behind.
 */
export async function revertRange(input: { repoPath: string; from: string; to: string }): Promise<RevertResult> {
  const inspection = await inspectRollback(input);
  const { repoPath, head: headBefore } = inspection;
  if (inspection.state === 'already-reverted') {
    return { outcome: 'already-reverted', inspection, headBefore, headAfter: headBefore, revertCommits: [], output: '' };
  }
  const statusBefore = inspection.status;
  const args = revertArgs(inspection.from, inspection.to, inspection.commits, inspection.fromIsRoot);
  const run = await runGit(repoPath, args, [0, 1, 128]);
  const output = excerpt(`${run.stdout}${run.stderr}`.trim(), 2000);

  if (run.exitCode === 0) {
    const headAfter = await headCommit(repoPath);
    const revertCommits = (await gitLine(repoPath, ['rev-list', '--reverse', `${headBefore}..${headAfter}`])).split('\n').filter(Boolean);
    const live = await findLiveReverts(repoPath, inspection.to, inspection.commits);
    if (revertCommits.length !== inspection.commits.length || live.size !== inspection.commits.length) {
      throw new RollbackError(
        ROLLBACK_FAILURES.revertFailed,
        `git revert exited 0 but created ${revertCommits.length} commit(s) for ${inspection.commits.length} commit(s) in the range (${live.size} recognised as reverts); inspect ${repoPath} by hand`,
        { headBefore, headAfter, revertCommits, output },
      );
    }
    return { outcome: 'reverted', inspection, headBefore, headAfter, revertCommits, output };
  }

  // The revert stopped. Record what stopped it, abort, and prove the repository is back where it was.
  const conflicts = await unmergedFiles(repoPath);
  const inProgress = await operationsInProgress(repoPath);
  let abortOutput = '';
  if (inProgress.length > 0) {
    const abort = await runGit(repoPath, ['revert', '--abort'], [0, 1, 128]);
    abortOutput = excerpt(`${abort.stdout}${abort.stderr}`.trim(), 1000);
  }
  const headAfterAbort = await headCommit(repoPath);
  const statusAfterAbort = await workTreeStatus(repoPath);
  const stillInProgress = await operationsInProgress(repoPath);
  const restore = { headBefore, headAfterAbort, statusBefore, statusAfterAbort, abortOutput, stillInProgress };
  if (headAfterAbort !== headBefore || statusAfterAbort !== statusBefore || stillInProgress.length > 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.revertAbortIncomplete,
      `git revert stopped and git revert --abort did not restore ${repoPath}: HEAD was ${headBefore.slice(0, 12)} and is ${headAfterAbort.slice(0, 12)}, status ${statusAfterAbort ? 'is not clean' : 'is clean'}${stillInProgress.length ? `, still in progress: ${stillInProgress.join(', ')}` : ''}; repair the repository by hand (git status, git reflog)`,
      { ...restore, conflicts, output },
    );
  }
  if (conflicts.length > 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.revertConflict,
      `git revert of ${rangeText(inspection.from, inspection.to, inspection.fromIsRoot)} conflicted in ${conflicts.join(', ')}; the revert was aborted and ${repoPath} is back at ${headBefore.slice(0, 12)} with a clean tree. Resolve the conflicts by hand (runbook §4 step 3) or give a narrower range`,
      { conflicts, ...restore, output },
    );
  }
  throw new RollbackError(
    ROLLBACK_FAILURES.revertFailed,
    `git revert failed with exit code ${run.exitCode} (${excerpt(run.stderr.trim(), 300)}); it was aborted and ${repoPath} is back at ${headBefore.slice(0, 12)}`,
    { exitCode: run.exitCode, ...restore, output },
  );
}

// ---------------------------------------------------------------------------------------------------------
// The build check (rollback.3)

export interface BuildResult {
  argv: string[];
  cwd: string;
  exitCode: number;
  durationMs: number;
  /** The end of the combined output, where compilers put their errors. */
  outputTail: string;
  /** Porcelain status after the build: a build that writes into the tree is reported (e.g. a single main package). */
  statusAfter: string;
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `… (${text.length - max} earlier characters) ${text.slice(-max)}`;
}

/**
 * Runs the build command (default `go build ./...`) in repoPath, without a shell, with a timeout. Exit code 0 is
 * required. The build is killed on timeout or when `signal` aborts (activity cancellation).
 */
export async function runBuild(input: {
  repoPath: string;
  argv: string[];
  env?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<BuildResult> {
  const [program, ...args] = input.argv;
  const started = Date.now();
  const result = await execa(program, args, {
    cwd: input.repoPath,
    env: input.env ?? {},
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: input.timeoutMs,
    forceKillAfterDelay: 5_000,
    ...(input.signal ? { cancelSignal: input.signal } : {}),
    maxBuffer: 64 * 1024 * 1024,
  });
  const durationMs = Date.now() - started;
  const output = String(result.all ?? '');
  const argvText = input.argv.join(' ');
  const details = { argv: input.argv, cwd: input.repoPath, exitCode: result.exitCode ?? null, durationMs, outputTail: tail(output, 2000) };
  if (result.code === 'ENOENT' && result.exitCode === undefined) {
    throw new RollbackError(
      ROLLBACK_FAILURES.buildFailed,
      `${program} is not installed or not on the worker's PATH; install it (runbook prerequisite 2) or set buildCommand`,
      details,
    );
  }
  if (result.timedOut) {
    throw new RollbackError(
      ROLLBACK_FAILURES.buildFailed,
      `${argvText} did not finish within ${input.timeoutMs} ms and was killed; raise buildTimeoutMs if the build is just slow`,
      { ...details, timedOut: true },
    );
  }
  if (result.isCanceled) {
    throw new RollbackError(ROLLBACK_FAILURES.buildFailed, `${argvText} was cancelled`, { ...details, cancelled: true });
  }
  if (result.exitCode !== 0) {
    throw new RollbackError(
      ROLLBACK_FAILURES.buildFailed,
      `${argvText} exited with ${result.exitCode ?? result.signal ?? 'no exit code'} in ${input.repoPath} (exit code 0 is required); the end of its output: ${tail(output.trim(), 600)}`,
      details,
    );
  }
  const statusAfter = await workTreeStatus(input.repoPath);
  return { argv: input.argv, cwd: input.repoPath, exitCode: 0, durationMs, outputTail: tail(output, 2000), statusAfter };
}
