/**
 * The "new build" of the rolling-upgrade fault test: the real workflows, bundled as the Dockerfile bundles them,
 * except that workflows/canary-rollout.ts gains a change behind `patched()` (a note in the evidence at the first
 * checkpoint the new build runs). The change is made by a webpack loader at bundle time, so the old build is the
 * repository as it is and the new one differs by exactly this patch.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions } from '../../scripts/build-workflow-bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const UPGRADE_PATCH_ID = 'production-rehearsal-upgrade-note';
export const UPGRADE_NOTE = 'First checkpoint run by the upgraded build (production rehearsal).';

/** [anchor in workflows/canary-rollout.ts, what replaces it]. */
const REPLACEMENTS: Array<[string, string]> = [
  // (`patched` is imported by the workflow already.) The note goes after the fleet path's checkpoint, which every
  // rollout started since the canary-fleet patch takes.
  [
    '        for (const member of cycle.broke) startOwnDisable(member);\n',
    '        for (const member of cycle.broke) startOwnDisable(member);\n' +
      `        if (patched('${UPGRADE_PATCH_ID}') && !state.evidence.some((e) => e.details?.upgradedBuild)) {\n` +
      `          addEvidence(state, { step: stepOfPhase(state.phase), at: iso(), verdict: 'ok', summary: '${UPGRADE_NOTE}', details: { upgradedBuild: '${UPGRADE_PATCH_ID}' } });\n` +
      '        }\n',
  ],
];

/** Writes the new build's bundle to `outPath`. */
export async function buildUpgradedBundle(outPath: string): Promise<string> {
  const options = bundleOptions();
  const { code } = await bundleWorkflowCode({
    ...options,
    webpackConfigHook: (config) => {
      config.module?.rules?.push({
        test: /[\\/]workflows[\\/]canary-rollout\.ts$/,
        // Rules' loaders run bottom to top: this one, last in the list, sees the TypeScript source first.
        use: [
          {
            loader: path.join(here, 'production-upgrade-loader.cjs'),
            options: { replacements: REPLACEMENTS, file: 'workflows/canary-rollout.ts' },
          },
        ],
      });
      return config;
    },
  });
  await writeFile(outPath, code, 'utf8');
  return outPath;
}
