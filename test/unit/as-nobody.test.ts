/**
 * Issue 13, defect 9: tests that act as `nobody` must work wherever the clone is, also under a directory only root
 * can enter (root's 0700 home, a `mktemp -d` folder). The module here lives in such a directory, as the clone's
 * sources would; a child started as nobody could not load it (ERR_MODULE_NOT_FOUND), runAsNobody loads it as root
 * and acts as nobody.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOBODY, runAsNobody } from '../support/as-nobody.js';

const isRoot = process.getuid?.() === 0;

(isRoot ? describe : describe.skip)('runAsNobody (as root)', () => {
  let rootOnly: string;
  let shared: string;
  beforeAll(async () => {
    rootOnly = await fs.mkdtemp(join(tmpdir(), 'root-only-'));
    await fs.chmod(rootOnly, 0o700);
    shared = await fs.mkdtemp(join(tmpdir(), 'shared-'));
    await fs.chmod(shared, 0o755);
  });
  afterAll(async () => {
    await fs.rm(rootOnly, { recursive: true, force: true });
    await fs.rm(shared, { recursive: true, force: true });
  });

  it('loads a module from a root-only directory, then acts as nobody (who cannot write a root-owned 0644 file)', async () => {
    const probe = join(rootOnly, 'probe.ts');
    await fs.writeFile(
      probe,
      `import { writeFile } from 'node:fs/promises';
       export async function tryWrite(path: string): Promise<string> {
         try { await writeFile(path, 'changed'); return 'written'; } catch (e) { return (e as NodeJS.ErrnoException).code ?? 'error'; }
       }`,
    );
    const target = join(shared, 'root-owned.txt');
    await fs.writeFile(target, 'original', { mode: 0o644 });
    const r = await runAsNobody(
      shared,
      `import { tryWrite } from ${JSON.stringify(new URL(`file://${probe}`).href)};`,
      `console.log(JSON.stringify({ uid: process.getuid(), outcome: await tryWrite(${JSON.stringify(target)}) }));`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toEqual({ uid: NOBODY, outcome: 'EACCES' });
    expect(await fs.readFile(target, 'utf8')).toBe('original');
  });
});
