/**
 * The Pulse a rehearsal runs: built from an operator's checkout (`go build ./cmd/pulse`, pulse-api.md §6) or a
 * binary given as it is. A checkout needs `internal/api/frontend-modern/dist` for Go's embed; when it is missing it
 * is created with the checkout's own `scripts/ensure_test_assets.sh`, the script Pulse's maintainers use for this,
 * so nothing of Pulse is written by this project. The build goes to the rehearsal's work dir, never into the
 * checkout.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface PulseBinary {
  path: string;
  /** How it was obtained, for the report: the checkout's commit and tag, or the binary's hash. */
  origin: string;
  /** Seconds the build took (0 for a given binary). */
  buildSeconds: number;
}

export class PulseBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PulseBinaryError';
  }
}

const PULSE_MODULE = 'github.com/rcourtman/pulse-go-rewrite';
const EMBED_DIR = 'internal/api/frontend-modern/dist';
const ASSETS_SCRIPT = 'scripts/ensure_test_assets.sh';

export async function buildPulseFromSource(checkout: string, outDir: string, log: (line: string) => void): Promise<PulseBinary> {
  const root = path.resolve(checkout);
  const goMod = await fs.readFile(path.join(root, 'go.mod'), 'utf8').catch(() => undefined);
  if (!goMod)
    throw new PulseBinaryError(
      `--pulse-source ${checkout}: no go.mod there; give the root of a Pulse checkout (github.com/rcourtman/Pulse)`,
    );
  if (!new RegExp(`^module\\s+${PULSE_MODULE.replace(/\./g, '\\.')}\\s*$`, 'm').test(goMod)) {
    throw new PulseBinaryError(`--pulse-source ${checkout}: go.mod is not the module ${PULSE_MODULE}; give the root of a Pulse checkout`);
  }
  if (!existsSync(path.join(root, 'cmd', 'pulse')))
    throw new PulseBinaryError(`--pulse-source ${checkout}: there is no cmd/pulse to build`);
  if (!existsSync(path.join(root, EMBED_DIR))) {
    if (!existsSync(path.join(root, ASSETS_SCRIPT))) {
      throw new PulseBinaryError(
        `--pulse-source ${checkout}: ${EMBED_DIR} is missing (Go embeds it) and the checkout has no ${ASSETS_SCRIPT} to create it; build the frontend first (npm --prefix frontend-modern run build)`,
      );
    }
    log(`${EMBED_DIR} is missing: creating it with the checkout's own ${ASSETS_SCRIPT}`);
    await execa('bash', [ASSETS_SCRIPT], { cwd: root, stdio: 'pipe' });
  }
  await fs.mkdir(outDir, { recursive: true });
  const out = path.join(outDir, 'pulse');
  log(`Building Pulse: go build -o ${out} ./cmd/pulse (in ${root}; the first build downloads modules, a few minutes)`);
  const started = performance.now();
  const built = await execa('go', ['build', '-o', out, './cmd/pulse'], { cwd: root, reject: false, all: true });
  if (built.exitCode !== 0) {
    throw new PulseBinaryError(
      `go build ./cmd/pulse failed in ${root} (exit ${built.exitCode}): ${String(built.all ?? '')
        .trim()
        .split('\n')
        .slice(-8)
        .join('\n')}`,
    );
  }
  const buildSeconds = (performance.now() - started) / 1000;
  return { path: out, origin: `source ${root} at ${await describeCheckout(root)}`, buildSeconds };
}

export async function givenPulseBinary(binary: string): Promise<PulseBinary> {
  const p = path.resolve(binary);
  const st = await fs.stat(p).catch(() => undefined);
  if (!st?.isFile()) throw new PulseBinaryError(`--pulse-binary ${binary}: no such file`);
  if ((st.mode & 0o111) === 0) throw new PulseBinaryError(`--pulse-binary ${binary}: not executable (chmod +x it)`);
  return { path: p, origin: `binary ${p} (sha256 ${(await sha256(p)).slice(0, 16)}…)`, buildSeconds: 0 };
}

async function describeCheckout(root: string): Promise<string> {
  const git = async (args: string[]) => (await execa('git', ['-C', root, ...args], { reject: false })).stdout.trim();
  const commit = await git(['rev-parse', 'HEAD']);
  if (!commit) return 'an unknown commit (not a git checkout)';
  const tag = await git(['describe', '--tags', '--always']);
  const dirty = (await git(['status', '--porcelain', '--untracked-files=no'])) ? ', with local changes' : '';
  return `commit ${commit.slice(0, 12)} (${tag}${dirty})`;
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
