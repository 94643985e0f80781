/** `pulse-runbook --version`: this package's version and the Temporal SDK's, read from the installed packages. */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PACKAGE_ROOT } from '../host/package-root.js';

function versionOf(packageJson: string): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/** The installed @temporalio/client's version (the SDK packages are pinned to one version together). */
function temporalSdkVersion(): string {
  // Its package.json is not in the package's exports, so it is found from the resolved entry point.
  const entry = createRequire(path.join(PACKAGE_ROOT, 'package.json')).resolve('@temporalio/client');
  for (let dir = path.dirname(entry); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === '@temporalio/client')
      return versionOf(file);
  }
  return 'unknown';
}

export function versionText(): string {
  return `pulse-runbook ${versionOf(path.join(PACKAGE_ROOT, 'package.json'))}\nTemporal TypeScript SDK ${temporalSdkVersion()}`;
}
