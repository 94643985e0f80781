/**
 * setEnvVar / setDropInEnvVar against real files in a temp dir.
 *
 * Non-writability is tested for real even though the tests (and CI) run as root, which ignores permission
 * bits (a chmod 0444 file is still writable by root). When running as root, the edit is done in a child
 * process that runs as `nobody` (spawn with uid/gid), in a root-owned 0755 directory; as any other user the
 * directory is simply made read-only. Directory targets and symlinks are refused for every user.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { runAsNobody } from '../support/as-nobody.js';
import { planDropInEdit, planEnvEdit, setDropInEnvVar, setEnvVar } from '../../src/host/env-file.js';
import { expectFailure } from '../support/settle.js';

const NAME = 'PULSE_ENABLE_TRUENAS';
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'host-env-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const SAMPLE = [
  '# Pulse environment',
  'PULSE_DATA_DIR=/etc/pulse',
  '',
  '; a systemd-style comment',
  `${NAME}=false`,
  'API_TOKEN=abc123secret',
  '# PULSE_ENABLE_TRUENAS=true  (commented out: must stay as it is)',
  'FRONTEND_PORT=7655',
  '',
].join('\n');

describe('planEnvEdit (pure)', () => {
  it('rewrites the assignment in place and reports only that line', () => {
    const p = planEnvEdit(SAMPLE, NAME, 'true');
    expect(p.op).toBe('replace');
    expect(p.changed).toBe(true);
    expect(p.before).toEqual([{ line: 5, text: `${NAME}=false` }]);
    expect(p.after).toEqual([{ line: 5, text: `${NAME}=true` }]);
    expect(p.effectiveBefore).toBe('false');
    expect(p.effectiveAfter).toBe('true');
    expect(p.content).toBe(SAMPLE.replace(`${NAME}=false`, `${NAME}=true`));
  });

  it('keeps export and indentation, reads quoted values, and fixes every duplicate', () => {
    const content = `  export ${NAME}="false"\nX=1\n${NAME}='false' # old\n`;
    const p = planEnvEdit(content, NAME, 'true');
    expect(p.content).toBe(`  export ${NAME}=true\nX=1\n${NAME}=true\n`);
    expect(p.effectiveBefore).toBe('false');
    expect(planEnvEdit(`export ${NAME}="true"\n`, NAME, 'true')).toMatchObject({ changed: false, op: 'none' });
  });

  it('appends when absent (adding the missing final newline) and removes every assignment for undefined', () => {
    expect(planEnvEdit('A=1', NAME, 'false').content).toBe(`A=1\n${NAME}=false\n`);
    expect(planEnvEdit('', NAME, 'true').content).toBe(`${NAME}=true\n`);
    const removed = planEnvEdit(`A=1\n${NAME}=true\nB=2\nexport ${NAME}=1\n`, NAME, undefined);
    expect(removed).toMatchObject({ op: 'remove', effectiveAfter: null });
    expect(removed.content).toBe('A=1\nB=2\n');
  });

  it('refuses values that would need quoting and bad names', () => {
    expect(() => planEnvEdit('', NAME, 'true false')).toThrow(/quoting/);
    expect(() => planEnvEdit('', NAME, '"true"')).toThrow(/quoting/);
    expect(() => planEnvEdit('', '1BAD', 'true')).toThrow(/not a valid environment variable name/);
  });
});

describe('planDropInEdit (pure)', () => {
  it('creates the [Service] section, replaces in place, and inserts before a following section', () => {
    expect(planDropInEdit('', NAME, 'true').content).toBe(`[Service]\nEnvironment=${NAME}=true\n`);
    const existing = `[Service]\nEnvironment="${NAME}=true"\nEnvironment=OTHER=1\n`;
    const p = planDropInEdit(existing, NAME, 'false');
    expect(p.content).toBe(`[Service]\nEnvironment=${NAME}=false\nEnvironment=OTHER=1\n`);
    expect(planDropInEdit(existing, NAME, 'true').changed).toBe(false);
    const twoSections = `[Unit]\nDescription=x\n\n[Service]\nNice=5\n\n[Install]\nWantedBy=multi-user.target\n`;
    expect(planDropInEdit(twoSections, NAME, 'true').content).toBe(
      `[Unit]\nDescription=x\n\n[Service]\nNice=5\nEnvironment=${NAME}=true\n\n[Install]\nWantedBy=multi-user.target\n`,
    );
  });

  it('refuses a line that sets the flag together with other variables', () => {
    expect(() => planDropInEdit(`[Service]\nEnvironment=A=1 ${NAME}=true\n`, NAME, 'false', '/x.conf')).toThrow(
      /Line 2 of \/x.conf sets PULSE_ENABLE_TRUENAS together with other variables/,
    );
  });
});

describe('setEnvVar on real files', () => {
  it('changes only the flag line and keeps comments, order, mode and owner', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, SAMPLE);
    await fs.chmod(path, 0o640);
    const isRoot = process.getuid?.() === 0;
    if (isRoot) await fs.chown(path, 1234, 2345);

    const change = await setEnvVar(path, NAME, 'true');

    expect(change).toMatchObject({ changed: true, created: false, mode: '0640' });
    expect(await fs.readFile(path, 'utf8')).toBe(SAMPLE.replace(`${NAME}=false`, `${NAME}=true`));
    const st = await fs.stat(path);
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) expect([st.uid, st.gid]).toEqual([1234, 2345]);
    // No temp file is left behind.
    expect(await fs.readdir(dir)).toEqual(['.env']);
  });

  it('is idempotent: a second run writes nothing (inode and mtime unchanged)', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, `export ${NAME}="false"\nB=2\n`);
    const first = await setEnvVar(path, NAME, 'true');
    expect(first.changed).toBe(true);
    expect(await fs.readFile(path, 'utf8')).toBe(`export ${NAME}=true\nB=2\n`);
    const before = await fs.stat(path);

    const second = await setEnvVar(path, NAME, 'true');

    const after = await fs.stat(path);
    expect(second.changed).toBe(false);
    expect(second.sha256).toBe(first.sha256);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('a real write replaces the inode (atomic rename), proving the idempotency check above can fail', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, `${NAME}=true\n`);
    const before = await fs.stat(path);
    await setEnvVar(path, NAME, 'false');
    expect((await fs.stat(path)).ino).not.toBe(before.ino);
  });

  it('removes the line for undefined and keeps the rest', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, SAMPLE);
    const change = await setEnvVar(path, NAME, undefined);
    expect(change.plan.op).toBe('remove');
    expect(await fs.readFile(path, 'utf8')).toBe(SAMPLE.replace(`${NAME}=false\n`, ''));
  });

  it('creates a missing file with mode 0600 when its directory exists', async () => {
    const path = join(dir, 'new.env');
    const change = await setEnvVar(path, NAME, 'false');
    expect(change).toMatchObject({ changed: true, created: true, mode: '0600' });
    expect(await fs.readFile(path, 'utf8')).toBe(`${NAME}=false\n`);
    // Removing from a file that does not exist creates nothing.
    const none = await setEnvVar(join(dir, 'absent.env'), NAME, undefined);
    expect(none.changed).toBe(false);
    await expect(fs.stat(join(dir, 'absent.env'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a missing directory, a directory, and a symlink, leaving everything untouched', async () => {
    await expectFailure(setEnvVar(join(dir, 'nope', '.env'), NAME, 'true'), 'EnvFileNotWritable', /does not exist/);
    await expect(fs.stat(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });

    await fs.mkdir(join(dir, 'adir'));
    await expectFailure(setEnvVar(join(dir, 'adir'), NAME, 'true'), 'EnvFileNotWritable', /is a directory/);

    const real = join(dir, 'real.env');
    await fs.writeFile(real, `${NAME}=false\n`);
    await fs.symlink(real, join(dir, 'link.env'));
    const f = await expectFailure(setEnvVar(join(dir, 'link.env'), NAME, 'true'), 'EnvFileNotWritable', /symbolic link/);
    expect(f.nonRetryable).toBe(true);
    expect(await fs.readFile(real, 'utf8')).toBe(`${NAME}=false\n`);
    expect((await fs.lstat(join(dir, 'link.env'))).isSymbolicLink()).toBe(true);
  });

  it('refuses a file the process cannot write and leaves it untouched', async () => {
    const isRoot = process.getuid?.() === 0;
    const envDir = join(dir, 'etc-pulse');
    await fs.mkdir(envDir);
    const path = join(envDir, '.env');
    await fs.writeFile(path, SAMPLE);
    await fs.chmod(path, 0o644);
    const before = await fs.stat(path);

    let outcome: { ok: boolean; type?: string; message?: string; nonRetryable?: boolean };
    if (isRoot) {
      // root ignores permission bits, so the edit runs as `nobody` against a root-owned 0755 directory; the child
      // loads its modules as root first, so it works wherever the clone is (test/support/as-nobody.ts).
      await fs.chmod(dir, 0o755);
      await fs.chmod(envDir, 0o755);
      const moduleUrl = new URL(`file://${resolve('src/host/env-file.ts')}`).href;
      const r = await runAsNobody(
        dir,
        `import { setEnvVar } from ${JSON.stringify(moduleUrl)};`,
        `try { await setEnvVar(${JSON.stringify(path)}, ${JSON.stringify(NAME)}, 'true'); console.log(JSON.stringify({ ok: true })); }
         catch (e) { console.log(JSON.stringify({ ok: false, type: e.type, message: e.message, nonRetryable: e.nonRetryable })); }`,
      );
      expect(r.stderr).toBe('');
      outcome = JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '{}');
    } else {
      await fs.chmod(envDir, 0o555);
      try {
        await setEnvVar(path, NAME, 'true');
        outcome = { ok: true };
      } catch (e) {
        const f = e as ApplicationFailure;
        outcome = { ok: false, type: f.type ?? undefined, message: f.message, nonRetryable: f.nonRetryable ?? undefined };
      } finally {
        await fs.chmod(envDir, 0o755);
      }
    }

    expect(outcome).toMatchObject({ ok: false, type: 'EnvFileNotWritable', nonRetryable: true });
    expect(outcome.message).toContain(path);
    expect(outcome.message).toMatch(/not writable|permission/);
    expect(await fs.readFile(path, 'utf8')).toBe(SAMPLE);
    const after = await fs.stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await fs.readdir(envDir)).toEqual(['.env']);
  });
});

describe('setDropInEnvVar on real files', () => {
  it('creates the drop-in, then switches the value in place, then is a no-op', async () => {
    const path = join(dir, 'truenas.conf');
    const created = await setDropInEnvVar(path, NAME, 'true');
    expect(created).toMatchObject({ changed: true, created: true });
    expect(await fs.readFile(path, 'utf8')).toBe(`[Service]\nEnvironment=${NAME}=true\n`);
    await setDropInEnvVar(path, NAME, 'false');
    expect(await fs.readFile(path, 'utf8')).toBe(`[Service]\nEnvironment=${NAME}=false\n`);
    const ino = (await fs.stat(path)).ino;
    expect((await setDropInEnvVar(path, NAME, 'false')).changed).toBe(false);
    expect((await fs.stat(path)).ino).toBe(ino);
  });
});
