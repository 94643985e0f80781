#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build` and by scripts/ensure-deps.sh) when it is up to date with
// the sources, which starts in ~0.1 s; otherwise the TypeScript sources through tsx's loader (~3 s), so an edit is
// never run stale. PULSE_RUNBOOKS_FROM_SOURCE=1 forces the sources (development without rebuilding).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildState } from './build-freshness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

async function loadMain() {
  if (process.env.PULSE_RUNBOOKS_FROM_SOURCE !== '1' && existsSync(compiled)) {
    const state = buildState(root);
    if (state.fresh) return (await import(compiled.href)).main;
    // Said only to a person at a terminal: scripts and tests read stderr, and the outcome is the same.
    if (process.stderr.isTTY) process.stderr.write(`pulse-runbook: running from the sources (slower): ${state.reason}\n`);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}

// `pulse-runbook --help | head` closes the pipe early: that ends the output, it is not an error to print.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const main = await loadMain();
await main(process.argv);
