/**
 * Data Cleanup activities against real data directories in temp dirs. "Nothing else touched" is checked by a
 * snapshot of every entry of the data directory (type, inode, size, mode, sha256 or link target) and of a
 * folder outside it that symlinks point at.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  fingerprintEncryptionKey,
  inspectTrueNASFile,
  removeTrueNASFile,
  resolveDataDir,
  verifyEncryptionKeyIntact,
} from '../../activities/data-files.js';
import { expectFailure } from '../support/settle.js';

let root: string;
let dataDir: string;
let outside: string;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'cleanup-'));
  dataDir = join(root, 'pulse-data');
  outside = join(root, 'outside');
  await fs.mkdir(dataDir);
  await fs.mkdir(outside);
  await fs.writeFile(join(dataDir, 'truenas.enc'), randomBytes(300), { mode: 0o600 });
  await fs.writeFile(join(dataDir, '.encryption.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
  await fs.writeFile(join(dataDir, 'nodes.enc'), randomBytes(200), { mode: 0o600 });
  await fs.writeFile(join(dataDir, 'system.json'), '{"pollingInterval":10}\n');
  await fs.writeFile(join(dataDir, 'truenas.enc.bak'), 'an older copy\n');
  await fs.mkdir(join(dataDir, 'backups'));
  await fs.writeFile(join(dataDir, 'backups', 'truenas.enc'), 'a backup with the same name\n');
  await fs.writeFile(join(outside, 'secret.enc'), 'outside the data dir\n');
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

type Entry = { type: string; ino: number; size: number; mode: number; sha256?: string; target?: string };

/** Every entry under `dir` with its identity and content: any change shows up as a difference. */
async function snapshot(dir: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of await fs.readdir(d)) {
      const full = join(d, name);
      const st = await fs.lstat(full);
      const e: Entry = {
        type: st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file',
        ino: st.ino,
        size: st.size,
        mode: st.mode,
      };
      if (st.isFile()) e.sha256 = sha256(await fs.readFile(full));
      if (st.isSymbolicLink()) e.target = await fs.readlink(full);
      out[relative(dir, full)] = e;
      if (st.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out;
}

function withoutTrueNAS(snap: Record<string, Entry>): Record<string, Entry> {
  const copy = { ...snap };
  delete copy['truenas.enc'];
  return copy;
}

describe('Data Cleanup: happy path and idempotency', () => {
  it('removes only truenas.enc; every other entry and .encryption.key stay identical', async () => {
    const before = await snapshot(dataDir);
    const outsideBefore = await snapshot(outside);
    const content = await fs.readFile(join(dataDir, 'truenas.enc'));

    const dir = await resolveDataDir({ dataDir });
    expect(dir.value).toMatchObject({ path: dataDir, source: 'input', realPath: await fs.realpath(dataDir) });
    expect(dir.evidence).toMatchObject({ step: 'cleanup.1', verdict: 'ok' });

    const inspected = await inspectTrueNASFile({ dataDir: dir.value.path });
    expect(inspected.value.exists).toBe(true);
    expect(inspected.value.facts).toMatchObject({
      path: join(dataDir, 'truenas.enc'),
      size: 300,
      mode: '0600',
      sha256: sha256(content),
      nlink: 1,
    });
    expect(inspected.evidence).toMatchObject({ step: 'cleanup.3', verdict: 'ok' });

    const keyBefore = await fingerprintEncryptionKey({ dataDir });
    expect(keyBefore.value).toMatchObject({
      exists: true,
      kind: 'file',
      size: before['.encryption.key'].size,
      ino: String(before['.encryption.key'].ino),
      sha256: before['.encryption.key'].sha256,
    });
    // The key's content never appears in the evidence, only its hash.
    const key = await fs.readFile(join(dataDir, '.encryption.key'), 'utf8');
    expect(JSON.stringify(keyBefore)).not.toContain(key);

    const removed = await removeTrueNASFile({ dataDir, expectedSha256: inspected.value.facts!.sha256 });
    expect(removed.value).toMatchObject({ outcome: 'removed', path: join(dataDir, 'truenas.enc') });
    expect(removed.evidence).toMatchObject({ step: 'cleanup.4', verdict: 'ok', details: { nlinkAfter: 0 } });
    expect(removed.evidence.actions).toEqual([
      {
        kind: 'file',
        op: 'delete',
        path: join(dataDir, 'truenas.enc'),
        change: 'unlink this one regular file; nothing else in the data directory',
      },
    ]);

    await expect(fs.lstat(join(dataDir, 'truenas.enc'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await snapshot(dataDir)).toEqual(withoutTrueNAS(before));
    expect(await snapshot(outside)).toEqual(outsideBefore);

    const keyAfter = await fingerprintEncryptionKey({ dataDir, step: 'cleanup.6' });
    const verified = await verifyEncryptionKeyIntact({ before: keyBefore.value, after: keyAfter.value });
    expect(verified.value.intact).toBe(true);
    expect(verified.evidence).toMatchObject({ step: 'cleanup.6', verdict: 'ok' });
  });

  it('a retry after success answers already-removed and changes nothing', async () => {
    const inspected = await inspectTrueNASFile({ dataDir });
    const expectedSha256 = inspected.value.facts!.sha256;
    expect((await removeTrueNASFile({ dataDir, expectedSha256 })).value.outcome).toBe('removed');
    const after = await snapshot(dataDir);
    const retry = await removeTrueNASFile({ dataDir, expectedSha256 });
    expect(retry.value).toMatchObject({ outcome: 'already-removed', path: join(dataDir, 'truenas.enc') });
    expect(retry.evidence.actions).toEqual([]);
    expect(await snapshot(dataDir)).toEqual(after);
  });

  it('plan mode inspects but changes nothing', async () => {
    const before = await snapshot(dataDir);
    const planned = await removeTrueNASFile({ plan: true, dataDir });
    expect(planned.value).toMatchObject({ outcome: 'planned', facts: { sha256: before['truenas.enc'].sha256 } });
    expect(planned.evidence).toMatchObject({ step: 'cleanup.4', verdict: 'planned' });
    expect(planned.evidence.actions).toEqual([expect.objectContaining({ kind: 'file', op: 'delete', path: join(dataDir, 'truenas.enc') })]);
    expect(await snapshot(dataDir)).toEqual(before);
  });
});

describe('Data Cleanup: the data directory', () => {
  it('is the explicit value, else the worker PULSE_DATA_DIR, else /etc/pulse', async () => {
    const saved = process.env.PULSE_DATA_DIR;
    try {
      process.env.PULSE_DATA_DIR = dataDir;
      expect((await resolveDataDir({})).value).toMatchObject({ path: dataDir, source: 'PULSE_DATA_DIR' });
      expect((await resolveDataDir({ dataDir: outside })).value).toMatchObject({ path: outside, source: 'input' });
      process.env.PULSE_DATA_DIR = 'relative/dir';
      await expectFailure(resolveDataDir({}), 'DataDirInvalid', /PULSE_DATA_DIR relative\/dir must be an absolute path/);
      delete process.env.PULSE_DATA_DIR;
      const etcPulse = await fs.lstat('/etc/pulse').catch(() => null);
      if (etcPulse?.isDirectory()) expect((await resolveDataDir({})).value).toMatchObject({ path: '/etc/pulse', source: 'default' });
      else await expectFailure(resolveDataDir({}), 'DataDirInvalid', /default data directory \/etc\/pulse does not exist/);
    } finally {
      if (saved === undefined) delete process.env.PULSE_DATA_DIR;
      else process.env.PULSE_DATA_DIR = saved;
    }
  });

  it('refuses a symlinked data directory and does not touch its target', async () => {
    const link = join(root, 'data-link');
    await fs.symlink(dataDir, link);
    const before = await snapshot(dataDir);
    await expectFailure(resolveDataDir({ dataDir: link }), 'DataDirInvalid', /is a symlink to .*pulse-data; it is refused, not followed/);
    await expectFailure(inspectTrueNASFile({ dataDir: link }), 'DataDirInvalid', /is a symlink/);
    await expectFailure(removeTrueNASFile({ dataDir: link }), 'DataDirInvalid', /is a symlink/);
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('refuses a missing data directory, a file, and a relative path', async () => {
    await expectFailure(resolveDataDir({ dataDir: join(root, 'missing') }), 'DataDirInvalid', /does not exist/);
    await expectFailure(removeTrueNASFile({ dataDir: join(root, 'missing') }), 'DataDirInvalid', /does not exist/);
    await expectFailure(resolveDataDir({ dataDir: join(dataDir, 'system.json') }), 'DataDirInvalid', /is not a directory/);
    await expectFailure(
      resolveDataDir({ dataDir: 'pulse-data' }),
      'InvalidCleanupInput',
      /dataDir must be an absolute path such as \/etc\/pulse/,
    );
    await expectFailure(
      removeTrueNASFile({ dataDir: `${dataDir}/../outside` }),
      'InvalidCleanupInput',
      /must not contain \. or \.\. segments/,
    );
  });
});

describe('Data Cleanup: truenas.enc that must not be removed', () => {
  it('refuses a symlinked truenas.enc; the link and its target stay untouched', async () => {
    await fs.rm(join(dataDir, 'truenas.enc'));
    await fs.symlink(join(outside, 'secret.enc'), join(dataDir, 'truenas.enc'));
    const before = await snapshot(dataDir);
    const outsideBefore = await snapshot(outside);
    await expectFailure(
      inspectTrueNASFile({ dataDir }),
      'TrueNASFileUnsafe',
      /is a symlink to .*secret\.enc, not a regular file; it is refused and not followed/,
    );
    await expectFailure(removeTrueNASFile({ dataDir }), 'TrueNASFileUnsafe', /is a symlink/);
    await expectFailure(removeTrueNASFile({ dataDir, plan: true }), 'TrueNASFileUnsafe', /is a symlink/);
    expect(await snapshot(dataDir)).toEqual(before);
    expect(await snapshot(outside)).toEqual(outsideBefore);
  });

  it('refuses a truenas.enc that is a directory', async () => {
    await fs.rm(join(dataDir, 'truenas.enc'));
    await fs.mkdir(join(dataDir, 'truenas.enc'));
    await fs.writeFile(join(dataDir, 'truenas.enc', 'inside'), 'x');
    const before = await snapshot(dataDir);
    await expectFailure(removeTrueNASFile({ dataDir }), 'TrueNASFileUnsafe', /is a directory, not a regular file/);
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('a missing truenas.enc is TrueNASFileMissing, unless allowMissing', async () => {
    await fs.rm(join(dataDir, 'truenas.enc'));
    const before = await snapshot(dataDir);
    await expectFailure(
      inspectTrueNASFile({ dataDir }),
      'TrueNASFileMissing',
      /truenas\.enc does not exist; the runbook \(§5 step 3\) requires it/,
    );
    await expectFailure(removeTrueNASFile({ dataDir }), 'TrueNASFileMissing');
    await expectFailure(removeTrueNASFile({ dataDir, plan: true }), 'TrueNASFileMissing');
    expect((await inspectTrueNASFile({ dataDir, allowMissing: true })).value).toEqual({ exists: false });
    expect((await removeTrueNASFile({ dataDir, allowMissing: true })).value.outcome).toBe('absent');
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('refuses a truenas.enc that changed since it was inspected', async () => {
    const inspected = await inspectTrueNASFile({ dataDir });
    await fs.writeFile(join(dataDir, 'truenas.enc'), 'rewritten by Pulse meanwhile');
    const before = await snapshot(dataDir);
    await expectFailure(
      removeTrueNASFile({ dataDir, expectedSha256: inspected.value.facts!.sha256 }),
      'TrueNASFileChanged',
      /changed since it was inspected/,
    );
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('removes one name of a hard-linked truenas.enc and leaves the other link intact', async () => {
    await fs.link(join(dataDir, 'truenas.enc'), join(dataDir, 'backups', 'hardlink.enc'));
    const before = await snapshot(dataDir);
    const removed = await removeTrueNASFile({ dataDir });
    expect(removed.evidence.details).toMatchObject({ nlink: 2, nlinkAfter: 1 });
    expect(await snapshot(dataDir)).toEqual(withoutTrueNAS(before));
  });
});

describe('Data Cleanup: the encryption key', () => {
  it('a key replaced by a new inode or with new content is EncryptionKeyChanged', async () => {
    const keyPath = join(dataDir, '.encryption.key');
    const before = (await fingerprintEncryptionKey({ dataDir })).value;
    // Same content, new inode (written elsewhere and renamed over it).
    await fs.writeFile(join(dataDir, 'tmp.key'), await fs.readFile(keyPath));
    await fs.rename(join(dataDir, 'tmp.key'), keyPath);
    const replaced = (await fingerprintEncryptionKey({ dataDir })).value;
    expect(replaced.sha256).toBe(before.sha256);
    await expectFailure(verifyEncryptionKeyIntact({ before, after: replaced }), 'EncryptionKeyChanged', /ino: /);
    // Same inode, new content.
    await fs.writeFile(keyPath, randomBytes(32).toString('base64'));
    const rewritten = (await fingerprintEncryptionKey({ dataDir })).value;
    const f = await expectFailure(verifyEncryptionKeyIntact({ before: replaced, after: rewritten }), 'EncryptionKeyChanged', /sha256: /);
    expect(f.nonRetryable).toBe(true);
    // Gone.
    await fs.rm(keyPath);
    const gone = (await fingerprintEncryptionKey({ dataDir })).value;
    expect(gone).toEqual({ path: keyPath, exists: false });
    await expectFailure(verifyEncryptionKeyIntact({ before: rewritten, after: gone }), 'EncryptionKeyChanged', /exists: true → false/);
  });

  it('a symlinked key is described, not followed', async () => {
    const keyPath = join(dataDir, '.encryption.key');
    await fs.rm(keyPath);
    await fs.symlink(join(outside, 'secret.enc'), keyPath);
    const fp = (await fingerprintEncryptionKey({ dataDir })).value;
    expect(fp).toMatchObject({ exists: true, kind: 'symlink', linkTarget: join(outside, 'secret.enc') });
    expect(fp.sha256).toBeUndefined();
  });
});
