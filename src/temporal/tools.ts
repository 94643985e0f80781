/**
 * Finds the Temporal binaries (dev server CLI and time-skipping test server), installing them on first use.
 * The SDK's own download cannot work on machines that reach only package registries, so
 * scripts/install-temporal.sh builds the CLI from the Go module proxy and fetches the test server from
 * Maven Central, into a per-machine cache outside the clone.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../host/package-root.js';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';

const installScript = path.join(PACKAGE_ROOT, 'scripts', 'install-temporal.sh');

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return process.env.PULSE_RUNBOOKS_CACHE || path.join(base, 'pulse-runbooks');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function runInstaller(what: 'cli' | 'test-server'): Promise<void> {
  // Progress goes to stderr so a person sees the one-time build; it is not hidden behind a spinner.
  await execa('bash', [installScript, what], { stdout: 'inherit', stderr: 'inherit' });
}

/** The Temporal CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cache (built on first use). */
export async function temporalCliPath(): Promise<string> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new Error(`TEMPORAL_CLI_PATH=${explicit} does not exist: unset it to use the project's own build, or fix the path`);
    }
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = path.join(cacheRoot(), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
  if (!existsSync(cached)) await runInstaller('cli');
  return cached;
}

/** The time-skipping test server wrapper (it `exec`s java so the SDK's SIGKILL reaches the JVM). */
export async function testServerPath(): Promise<string> {
  const explicit = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new Error(`TEMPORAL_TEST_SERVER_PATH=${explicit} does not exist: unset it or fix the path`);
    }
    return explicit;
  }
  const dir = path.join(cacheRoot(), 'temporal-test-server', TEST_SERVER_VERSION);
  const wrapper = path.join(dir, 'temporal-test-server');
  if (!existsSync(path.join(dir, 'lib', '.complete'))) await runInstaller('test-server');
  return wrapper;
}
