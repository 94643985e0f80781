/**
 * Is dist/ built from the current sources? The answer of bin/build-freshness.mjs, the plain JavaScript that
 * bin/pulse-runbook.js asks before it may load dist/. It sits outside src/ and dist/, so it is imported by its path
 * under the package root, the same from the sources and from dist/.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from './package-root.js';

export async function isBuildFresh(): Promise<boolean> {
  const freshness = pathToFileURL(path.join(PACKAGE_ROOT, 'bin', 'build-freshness.mjs')).href;
  const { buildState } = (await import(freshness)) as typeof import('../../bin/build-freshness.mjs');
  return buildState(PACKAGE_ROOT).fresh;
}
