/**
 * Code Rollback activities against real git repositories in temp dirs and a real `go build` of a tiny module
 * (two packages, so `go build ./...` writes no binary into the tree). The fixture's history mimics the runbook:
 *   c0 init → c1 "TN-00" (docs) → c2 "TN-01" (internal/truenas + a line in core.go) → c3 "TRR-00" (docs)
 *   → c4 after the range (README by default; a conflicting core.go edit, or a use of internal/truenas).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { buildRepository, revertRange, validateRollbackRange } from '../../activities/git.js';
import { expectFailure } from '../support/settle.js';

const IDENTITY = ['-c', 'user.name=Runbook Test', '-c', 'user.email=runbook@example.invalid', '-c', 'commit.gpgsign=false'];
const GO_ENV = { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa('git', [...IDENTITY, ...args], { cwd, stripFinalNewline: false })).stdout.trim();
}

async function writeFiles(repo: string, files: Record<string, string | null>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(repo, path);
    if (content === null) await fs.rm(full);
    else {
      await fs.mkdir(dirname(full), { recursive: true });
      await fs.writeFile(full, content);
    }
  }
}

async function commit(repo: string, message: string, files: Record<string, string | null>): Promise<string> {
  await writeFiles(repo, files);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

const core = (name: string) => `package core\n\n// Name is the product name.\nfunc Name() string {\n\treturn "${name}"\n}\n`;
const MAIN = 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/pulse/internal/core"\n)\n\nfunc main() { fmt.Println(core.Name()) }\n';
const MAIN_USING_TRUENAS =
  'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/pulse/internal/core"\n\t"example.com/pulse/internal/truenas"\n)\n\nfunc main() { fmt.Println(core.Name(), truenas.Client()) }\n';

type After = 'unrelated' | 'conflict' | 'uses-truenas';

interface Fixture {
  root: string;
  repo: string;
  c: { c0: string; c1: string; c2: string; c3: string; c4: string };
}

let roots: string[] = [];

async function initRepo(root: string): Promise<string> {
  const repo = join(root, 'pulse');
  await fs.mkdir(repo);
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'config', 'user.name', 'Runbook Test');
  await git(repo, 'config', 'user.email', 'runbook@example.invalid');
  await git(repo, 'config', 'commit.gpgsign', 'false');
  return repo;
}

/** Each history is built once and copied for every test: a test may change its copy freely. */
const templates = new Map<After, Fixture>();
let templateRoot: string | undefined;

async function makeRepo(after: After = 'unrelated'): Promise<Fixture> {
  let template = templates.get(after);
  if (!template) {
    templateRoot ??= await fs.mkdtemp(join(tmpdir(), 'rollback-templates-'));
    const dir = join(templateRoot, after);
    await fs.mkdir(dir);
    template = await buildHistory(dir, after);
    templates.set(after, template);
  }
  const root = await fs.mkdtemp(join(tmpdir(), 'rollback-'));
  roots.push(root);
  const repo = join(root, 'pulse');
  await fs.cp(template.repo, repo, { recursive: true, preserveTimestamps: true });
  return { root, repo, c: template.c };
}

async function buildHistory(root: string, after: After): Promise<Fixture> {
  const repo = await initRepo(root);
  const c0 = await commit(repo, 'init', {
    'go.mod': 'module example.com/pulse\n\ngo 1.26\n',
    'main.go': MAIN,
    'internal/core/core.go': core('pulse'),
  });
  const c1 = await commit(repo, 'TN-00: TrueNAS GA plan', { 'docs/truenas-plan.md': '# TrueNAS plan\n' });
  const c2 = await commit(repo, 'TN-01: TrueNAS REST client', {
    'internal/truenas/client.go': 'package truenas\n\n// Client is the TrueNAS client.\nfunc Client() string { return "truenas" }\n',
    'internal/core/core.go': core('pulse+truenas'),
  });
  const c3 = await commit(repo, 'TRR-00: rollout readiness', {
    'docs/truenas-readiness.md': '# Readiness\n',
    'docs/truenas-plan.md': '# TrueNAS plan\n\nSee readiness.\n',
  });
  const c4 =
    after === 'unrelated'
      ? await commit(repo, 'unrelated work after the range', { 'README.md': '# Pulse\n' })
      : after === 'conflict'
        ? await commit(repo, 'rename the product (touches the line TN-01 changed)', {
            'internal/core/core.go': core('pulse v2 with truenas'),
          })
        : await commit(repo, 'main uses the TrueNAS client', { 'main.go': MAIN_USING_TRUENAS });
  return { root, repo, c: { c0, c1, c2, c3, c4 } };
}

afterEach(async () => {
  for (const r of roots) await fs.rm(r, { recursive: true, force: true });
  roots = [];
});
afterAll(async () => {
  if (templateRoot) await fs.rm(templateRoot, { recursive: true, force: true });
});

/** HEAD, status and the hash of every file in the work tree (outside .git): "exactly as before". */
async function snapshot(repo: string): Promise<{ head: string; status: string; files: Record<string, string> }> {
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') await walk(full);
      } else {
        files[relative(repo, full)] = createHash('sha256')
          .update(await fs.readFile(full))
          .digest('hex');
      }
    }
  };
  await walk(repo);
  return {
    head: await git(repo, 'rev-parse', 'HEAD'),
    status: await git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    files,
  };
}

/** Every rollback failure here is final: retrying cannot help. */
const expectFinal = (p: Promise<unknown>, type: string, messagePart?: RegExp) =>
  expectFailure(p, type, messagePart, { nonRetryable: true });

const commitCount = async (repo: string) => Number(await git(repo, 'rev-list', '--count', 'HEAD'));

describe('Code Rollback: happy path and idempotency', () => {
  it('reverts a range of 3 commits, builds, and a re-run reverts nothing twice', async () => {
    const { repo, c } = await makeRepo();
    const range = { repoPath: repo, from: c.c1.slice(0, 8), to: c.c3.slice(0, 8) };

    const validated = await validateRollbackRange(range);
    expect(validated.value).toMatchObject({ state: 'not-reverted', from: c.c1, to: c.c3, head: c.c4, branch: 'main', status: '' });
    expect(validated.value.commits.map((x) => x.sha)).toEqual([c.c3, c.c2, c.c1]);
    expect(validated.evidence).toMatchObject({ step: 'rollback.1', verdict: 'ok' });

    const reverted = await revertRange({ ...range, plan: false });
    expect(reverted.value.outcome).toBe('reverted');
    expect(reverted.value.headBefore).toBe(c.c4);
    expect(reverted.value.revertCommits).toHaveLength(3);
    expect(reverted.evidence.actions).toEqual([{ kind: 'command', argv: ['git', 'revert', '--no-edit', `${c.c1}^..${c.c3}`], cwd: repo }]);
    // HEAD advanced by exactly the 3 revert commits, newest range commit reverted first.
    expect(await git(repo, 'rev-parse', 'HEAD~3')).toBe(c.c4);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(reverted.value.headAfter);
    const bodies = (await git(repo, 'log', '--format=%B%x1e', '-3', '--reverse'))
      .split('\x1e')
      .map((b) => b.trim())
      .filter(Boolean);
    expect(bodies.map((b) => /This reverts commit ([0-9a-f]{40})/.exec(b)?.[1])).toEqual([c.c3, c.c2, c.c1]);
    // The TrueNAS files are gone, the rest is back to c0's content, the tree is clean.
    await expect(fs.access(join(repo, 'internal/truenas/client.go'))).rejects.toThrow();
    await expect(fs.access(join(repo, 'docs/truenas-plan.md'))).rejects.toThrow();
    expect(await fs.readFile(join(repo, 'internal/core/core.go'), 'utf8')).toBe(core('pulse'));
    expect(await fs.readFile(join(repo, 'README.md'), 'utf8')).toBe('# Pulse\n');
    expect(await git(repo, 'status', '--porcelain')).toBe('');

    const built = await buildRepository({ plan: false, repoPath: repo, buildEnv: GO_ENV });
    expect(built.value).toMatchObject({ outcome: 'built', exitCode: 0 });
    expect(built.evidence).toMatchObject({ step: 'rollback.3', verdict: 'ok', details: { exitCode: 0, statusAfter: '' } });
    expect(built.evidence.actions).toEqual([
      { kind: 'command', argv: ['go', 'build', './...'], cwd: repo, timeoutMs: 15 * 60_000, env: GO_ENV },
    ]);

    // A retried or replayed activity recognises its own work: no second revert.
    const head = await git(repo, 'rev-parse', 'HEAD');
    const count = await commitCount(repo);
    const again = await revertRange({ ...range, plan: false });
    expect(again.value).toMatchObject({ outcome: 'already-reverted', headBefore: head, headAfter: head, revertCommits: [] });
    expect(again.evidence.actions).toEqual([]);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(await commitCount(repo)).toBe(count);
    const revalidated = await validateRollbackRange(range);
    expect(revalidated.value.state).toBe('already-reverted');
    expect(revalidated.value.revertedBy.map((r) => r.revertedBy).sort()).toEqual([...reverted.value.revertCommits].sort());
  });

  it('a range reverted and then re-applied (revert of the reverts) is live again and is reverted anew', async () => {
    const { repo, c } = await makeRepo();
    const range = { repoPath: repo, from: c.c1, to: c.c3 };
    const first = await revertRange(range);
    await git(repo, 'revert', '--no-edit', `${first.value.headBefore}..${first.value.headAfter}`);
    expect((await validateRollbackRange(range)).value.state).toBe('not-reverted');
    const second = await revertRange(range);
    expect(second.value.outcome).toBe('reverted');
    expect(second.value.revertCommits).toHaveLength(3);
  });

  it('reverts a range that starts at the root commit (from^ does not exist)', async () => {
    const root = await fs.mkdtemp(join(tmpdir(), 'rollback-'));
    roots.push(root);
    const repo = await initRepo(root);
    const r0 = await commit(repo, 'root: a', { 'a.txt': 'a\n' });
    const r1 = await commit(repo, 'b', { 'b.txt': 'b\n' });
    const r2 = await commit(repo, 'c, after the range', { 'c.txt': 'c\n' });
    const out = await revertRange({ repoPath: repo, from: r0, to: r1 });
    expect(out.value.outcome).toBe('reverted');
    expect(out.evidence.actions).toEqual([{ kind: 'command', argv: ['git', 'revert', '--no-edit', r1, r0], cwd: repo }]);
    expect(await git(repo, 'rev-parse', 'HEAD~2')).toBe(r2);
    expect((await fs.readdir(repo)).sort()).toEqual(['.git', 'c.txt']);
    expect((await revertRange({ repoPath: repo, from: r0, to: r1 })).value.outcome).toBe('already-reverted');
  });
});

describe('Code Rollback: refusals', () => {
  it('refuses an unknown commit, and explains §8.7 for the runbook default range', async () => {
    const { repo, c } = await makeRepo();
    await expectFinal(
      validateRollbackRange({ repoPath: repo, from: 'deadbeef', to: c.c3 }),
      'CommitUnknown',
      /from deadbeef is not a commit of the repository/,
    );
    const f = await expectFinal(validateRollbackRange({ repoPath: repo }), 'CommitUnknown', /from f9680ef8 is not a commit/);
    expect(f.message).toMatch(/not ancestors of public main or pulse\/v6-release/);
    expect(f.message).toMatch(/§0, §8\.7/);
    expect(f.message).toMatch(/--from\/--to/);
  });

  it('refuses a non-hex commit id at the schema, naming the field', async () => {
    const { repo } = await makeRepo();
    const f = await expectFinal(validateRollbackRange({ repoPath: repo, from: 'xyz123', to: 'abcd' }), 'InvalidRollbackInput');
    expect(f.message).toContain('from must be a hex commit id such as f9680ef8');
    await expectFinal(
      revertRange({ repoPath: 'relative/path', from: 'abcd', to: 'abcd' }),
      'InvalidRollbackInput',
      /repoPath must be an absolute path/,
    );
  });

  it('refuses a range that is not in the history of HEAD (a branch never merged), with the §8.7 explanation', async () => {
    const { repo, c } = await makeRepo();
    await git(repo, 'checkout', '-q', '-b', 'side', c.c0);
    const side = await commit(repo, 'side work, never merged', { 'side.txt': 'x\n' });
    await git(repo, 'checkout', '-q', 'main');
    const before = await snapshot(repo);
    const f = await expectFinal(revertRange({ repoPath: repo, from: side, to: side }), 'RangeNotInHistory', /is not an ancestor of HEAD/);
    expect(f.message).toMatch(/pulse-api\.md §0, §8\.7/);
    expect(f.message).toMatch(/Give the range of your own branch with --from\/--to/);
    expect(await snapshot(repo)).toEqual(before);
  });

  it('refuses a reversed range (from is not an ancestor of to)', async () => {
    const { repo, c } = await makeRepo();
    await expectFinal(validateRollbackRange({ repoPath: repo, from: c.c3, to: c.c1 }), 'RangeInvalid', /from .* is not an ancestor of to/);
  });

  it('refuses an ambiguous abbreviation instead of guessing', async () => {
    const { repo, c } = await makeRepo();
    // 1500 unreachable commits make two commits share a 4-digit prefix (birthday bound, ~100 % for 65536 buckets).
    const stream = Array.from(
      { length: 1500 },
      (_, i) => `commit refs/heads/junk\ncommitter t <t@t> 1700000000 +0000\ndata <<EOF\njunk ${i}\nEOF\n\n`,
    ).join('');
    await execa('git', ['fast-import', '--quiet'], { cwd: repo, input: stream });
    const ids = (await git(repo, 'rev-list', 'junk')).split('\n');
    const seen = new Map<string, string>();
    let prefix = '';
    for (const id of ids) {
      const p = id.slice(0, 4);
      if (seen.has(p)) {
        prefix = p;
        break;
      }
      seen.set(p, id);
    }
    expect(prefix).not.toBe('');
    await expectFinal(
      validateRollbackRange({ repoPath: repo, from: prefix, to: c.c3 }),
      'CommitAmbiguous',
      new RegExp(`from ${prefix} is ambiguous.*give more hex digits`),
    );
  });

  it('refuses a dirty tree (modified and untracked files) and leaves it untouched', async () => {
    const { repo, c } = await makeRepo();
    await fs.writeFile(join(repo, 'README.md'), '# Pulse, edited\n');
    await fs.writeFile(join(repo, 'notes.txt'), 'untracked\n');
    const before = await snapshot(repo);
    const f = await expectFinal(revertRange({ repoPath: repo, from: c.c1, to: c.c3 }), 'WorkTreeDirty', /uncommitted or untracked changes/);
    expect(f.message).toContain('?? notes.txt');
    expect(f.message).toContain(' M README.md');
    expect(await snapshot(repo)).toEqual(before);
  });

  it('refuses untracked files alone', async () => {
    const { repo, c } = await makeRepo();
    await fs.mkdir(join(repo, 'tmp'));
    await fs.writeFile(join(repo, 'tmp', 'scratch.txt'), 'x');
    await expectFinal(validateRollbackRange({ repoPath: repo, from: c.c1, to: c.c3 }), 'WorkTreeDirty', /\?\? tmp\/scratch\.txt/);
  });

  it('a conflict aborts the revert and leaves the repository exactly as before', async () => {
    const { repo, c } = await makeRepo('conflict');
    const before = await snapshot(repo);
    const f = await expectFinal(
      revertRange({ repoPath: repo, from: c.c1, to: c.c3 }),
      'RevertConflict',
      /conflicted in internal\/core\/core\.go/,
    );
    const details = f.details?.[0] as Record<string, unknown>;
    expect(details).toMatchObject({
      conflicts: ['internal/core/core.go'],
      headBefore: c.c4,
      headAfterAbort: c.c4,
      statusBefore: '',
      statusAfterAbort: '',
    });
    // c3 was reverted (a commit was made) before c2 conflicted: the abort must have undone it too.
    expect(await snapshot(repo)).toEqual(before);
    await expect(fs.access(join(repo, '.git', 'REVERT_HEAD'))).rejects.toThrow();
    await expect(fs.access(join(repo, '.git', 'sequencer'))).rejects.toThrow();
    // And the next run is not blocked by leftovers.
    expect((await validateRollbackRange({ repoPath: repo, from: c.c3, to: c.c3 })).value.state).toBe('not-reverted');
  });

  it('refuses to start while another revert is in progress', async () => {
    const { repo, c } = await makeRepo('conflict');
    await expect(git(repo, 'revert', '--no-edit', c.c2)).rejects.toThrow();
    await expectFinal(
      validateRollbackRange({ repoPath: repo, from: c.c3, to: c.c3 }),
      'GitOperationInProgress',
      /REVERT_HEAD.*git revert --abort/,
    );
  });

  it('refuses a range of which only some commits were already reverted', async () => {
    const { repo, c } = await makeRepo();
    await git(repo, 'revert', '--no-edit', c.c3);
    const head = await git(repo, 'rev-parse', 'HEAD');
    const f = await expectFinal(
      revertRange({ repoPath: repo, from: c.c1, to: c.c3 }),
      'RangePartiallyReverted',
      /1 of the 3 commits .* already reverted/,
    );
    expect((f.details?.[0] as { notReverted: string[] }).notReverted).toEqual([c.c2, c.c1]);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('refuses a subdirectory of a repository, a folder that is no repository, and a missing path', async () => {
    const { root, repo, c } = await makeRepo();
    await expectFinal(
      validateRollbackRange({ repoPath: join(repo, 'internal'), from: c.c1, to: c.c3 }),
      'RepositoryInvalid',
      /is not the top level of its repository .*no revert on the wrong repository/,
    );
    const plain = join(root, 'not-a-repo');
    await fs.mkdir(plain);
    await expectFinal(validateRollbackRange({ repoPath: plain, from: c.c1, to: c.c3 }), 'RepositoryInvalid', /is not a git work tree/);
    await expectFinal(
      validateRollbackRange({ repoPath: join(root, 'missing'), from: c.c1, to: c.c3 }),
      'RepositoryInvalid',
      /cannot be opened \(ENOENT\)/,
    );
  });
});

describe('Code Rollback: build and plan mode', () => {
  it('a build that fails after the revert is BuildFailed, with the exit code and the compiler output', async () => {
    const { repo, c } = await makeRepo('uses-truenas');
    expect((await revertRange({ repoPath: repo, from: c.c1, to: c.c3 })).value.outcome).toBe('reverted');
    const f = await expectFinal(
      buildRepository({ repoPath: repo, buildEnv: GO_ENV }),
      'BuildFailed',
      /go build \.\/\.\.\. exited with 1 .*exit code 0 is required/,
    );
    const details = f.details?.[0] as { exitCode: number; outputTail: string };
    expect(details.exitCode).toBe(1);
    expect(details.outputTail).toMatch(/internal\/truenas/);
  });

  it('a build that runs past its timeout is killed and reported', async () => {
    const { repo } = await makeRepo();
    const started = Date.now();
    const f = await expectFinal(
      buildRepository({ repoPath: repo, buildCommand: ['sleep', '30'], buildTimeoutMs: 300 }),
      'BuildFailed',
      /did not finish within 300 ms/,
    );
    expect((f.details?.[0] as { timedOut: boolean }).timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('plan mode changes nothing and lists the exact argv', async () => {
    const { repo, c } = await makeRepo();
    const before = await snapshot(repo);
    const index = await fs.readFile(join(repo, '.git', 'index'));
    const refs = await git(repo, 'for-each-ref');

    const planned = await revertRange({ plan: true, repoPath: repo, from: c.c1.slice(0, 7), to: c.c3.slice(0, 10) });
    expect(planned.value).toMatchObject({ outcome: 'planned', headBefore: c.c4, headAfter: c.c4, revertCommits: [] });
    expect(planned.evidence).toMatchObject({ step: 'rollback.2', verdict: 'planned' });
    expect(planned.evidence.actions).toEqual([{ kind: 'command', argv: ['git', 'revert', '--no-edit', `${c.c1}^..${c.c3}`], cwd: repo }]);

    // A build command that would leave a trace proves it did not run.
    const build = await buildRepository({ plan: true, repoPath: repo, buildCommand: ['touch', 'built-marker'] });
    expect(build.value.outcome).toBe('planned');
    expect(build.evidence.actions).toEqual([{ kind: 'command', argv: ['touch', 'built-marker'], cwd: repo, timeoutMs: 15 * 60_000 }]);

    expect(await snapshot(repo)).toEqual(before);
    expect(await fs.readFile(join(repo, '.git', 'index'))).toEqual(index);
    expect(await git(repo, 'for-each-ref')).toBe(refs);
  });
});
