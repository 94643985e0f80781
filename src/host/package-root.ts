/**
 * The package's root directory (where package.json is), the same from the sources (src/…), from the compiled
 * dist/src/… and from an installed package: paths to scripts/, dist/ and docs are taken from here, never by
 * counting `..` from the calling file, which differs between the sources and dist/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`pulse-runbooks: no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
