/**
 * The package as an operator installs it: `npm pack` here, `npm install -g --prefix <clean dir>` of the tarball
 * (dependencies from the registry through the machine's npm cache), then `pulse-runbook` run from another directory
 * with a PATH that holds only Node, so nothing of this checkout can be used by accident. `npm pack` runs the
 * prepack script, which rebuilds dist/ first when it is older than the sources.
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnLong } from '../../bench/support/long-process.js';
import { call } from '../support/emulator.js';

const root = path.resolve('.');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const sdkVersion = (
  JSON.parse(readFileSync(path.join(root, 'node_modules', '@temporalio', 'client', 'package.json'), 'utf8')) as { version: string }
).version;

// Only Node's own directory and the system's: no node_modules/.bin, no checkout.
const onlyNode = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: process.env.HOME ?? '/root' };

describe('npm pack, then npm install -g into a clean prefix', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'pulse-runbooks-pack-'));
  const prefix = path.join(work, 'prefix');
  const elsewhere = path.join(work, 'elsewhere');
  const bin = path.join(prefix, 'bin', 'pulse-runbook');
  let files: string[] = [];
  const cli = (args: string[]) => execa(bin, args, { cwd: elsewhere, env: onlyNode, extendEnv: false, reject: false, timeout: 60_000 });

  beforeAll(async () => {
    mkdirSync(elsewhere);
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', work], { cwd: root });
    const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = report.files.map((f) => f.path);
    await execa(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', path.join(work, report.filename)],
      {
        cwd: elsewhere,
        env: { ...onlyNode, npm_config_cache: process.env.npm_config_cache ?? path.join(onlyNode.HOME, '.npm') },
        extendEnv: false,
      },
    );
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the compiled CLI and the workflow bundle, and no sources, tests, histories or secrets', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/pulse-runbook.js',
        'bin/build-freshness.mjs',
        'dist/src/cli/main.js',
        'dist/workflow-bundle.js',
        'package.json',
      ]),
    );
    const unwanted = files.filter((f) =>
      /^(src|test|workflows|activities|deploy|bench|\.data|\.ci)\/|histories|\.map$|\.env$|codec-keys|secrets?\/|\.(key|pem)$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('answers --help and --version from another directory', async () => {
    const help = await cli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('kill-switch');
    const version = await cli(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toBe(`pulse-runbook ${pkg.version}\nTemporal TypeScript SDK ${sdkVersion}`);
  });

  it("loads a command's own module (worker --help) and runs the emulator from the package's files", async () => {
    const help = await cli(['worker', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--codec-keys-file');
    const emu = spawnLong(bin, ['emulator', '--port', '0', '--metrics-port', '0', '--profile', 'v6'], onlyNode, { extendEnv: false });
    try {
      const [, url] = await emu.waitFor(/Pulse EMULATOR \(v6\) at (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      const health = await call(url, '/api/health');
      expect(health.status).toBe(200);
      expect(emu.errors()).not.toMatch(/Error|tsx/);
    } finally {
      await emu.stop();
    }
  });
});
