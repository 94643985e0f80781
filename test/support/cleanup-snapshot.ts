/**
 * "Nothing else was touched", made checkable: every entry under a directory with its type, inode, size, mode and
 * content hash (or link target). Two snapshots differ exactly where something changed.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, relative } from 'node:path';

export interface SnapshotEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  ino: number;
  size: number;
  mode: number;
  sha256?: string;
  target?: string;
}

export async function snapshotDir(dir: string): Promise<Record<string, SnapshotEntry>> {
  const out: Record<string, SnapshotEntry> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of (await fs.readdir(d)).sort()) {
      const full = join(d, name);
      const st = await fs.lstat(full);
      const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      const entry: SnapshotEntry = { type, ino: st.ino, size: st.size, mode: st.mode };
      if (type === 'file')
        entry.sha256 = createHash('sha256')
          .update(await fs.readFile(full))
          .digest('hex');
      if (type === 'symlink') entry.target = await fs.readlink(full);
      out[relative(dir, full)] = entry;
      if (type === 'dir') await walk(full);
    }
  };
  await walk(dir);
  return out;
}

/** The snapshot without the named entries: what a directory should look like after they were removed. */
export function without(snapshot: Record<string, SnapshotEntry>, ...names: string[]): Record<string, SnapshotEntry> {
  return Object.fromEntries(Object.entries(snapshot).filter(([k]) => !names.includes(k)));
}
