import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The workflow bundle's entry: `.ts` when run from source, `.js` when compiled to dist/. */
export function workflowsPath(): string {
  const ts = path.join(root, 'workflows', 'index.ts');
  return existsSync(ts) ? ts : path.join(root, 'workflows', 'index.js');
}
