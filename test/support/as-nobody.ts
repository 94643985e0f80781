/**
 * Runs a driver script that must act as an unprivileged user (root ignores permission bits, so "refuses a file
 * the process cannot write" cannot be shown as root).
 *
 * The child starts as root and loads everything it needs first (tsx, the project's modules, from wherever the
 * clone is), then drops to `nobody` (setgid, setuid) and only then acts. A child started as `nobody` from the
 * beginning cannot even load tsx when the clone sits under a directory only root can enter (root's 0700 home, a
 * `mktemp -d` folder), and failed with ERR_MODULE_NOT_FOUND before testing anything (issue 13, defect 9).
 *
 * `body` is the driver's code after its imports; it runs as nobody and prints one JSON line.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export const NOBODY = 65534;

export async function runAsNobody(
  dir: string,
  imports: string,
  body: string,
): Promise<{ stdout: string; stderr: string; exitCode?: number }> {
  const driver = join(dir, `as-nobody-${process.pid}-${Date.now()}.mts`);
  await fs.writeFile(
    driver,
    `${imports}
     // Every module is loaded by now (as root); from here on the process is nobody.
     process.setgid(${NOBODY});
     process.setgroups?.([]);
     process.setuid(${NOBODY});
     ${body}`,
  );
  const r = await execa(process.execPath, ['--import', 'tsx', driver], {
    cwd: process.cwd(),
    env: { ...process.env, TSX_DISABLE_CACHE: '1' },
    reject: false,
    timeout: 20_000,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}
