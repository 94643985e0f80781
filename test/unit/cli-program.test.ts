/**
 * The program's lazily loaded commands (src/cli/main.ts): the help that lists them before any is loaded says what
 * each one says of itself, every command loads, and `--version` names this package's and the SDK's versions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { buildProgram, COMMANDS } from '../../src/cli/main.js';

describe('pulse-runbook program', () => {
  it('lists every command with the description the command itself has', async () => {
    const loaded = await buildProgram([], 'all');
    const real = loaded.commands.map((c) => [c.name(), c.description()]);
    expect(COMMANDS.map((c) => [c.name, c.summary])).toEqual(real);
    expect(real.length).toBeGreaterThan(10);
  });

  it('loads only the command named on the command line (also after `help`)', async () => {
    const isLoaded = (p: Awaited<ReturnType<typeof buildProgram>>, name: string) => {
      const cmd = p.commands.find((c) => c.name() === name)!;
      return cmd.options.length > 0 || cmd.commands.length > 0; // a placeholder has neither
    };
    const forKillSwitch = await buildProgram(['node', 'pulse-runbook', 'kill-switch', '--plan']);
    expect(isLoaded(forKillSwitch, 'kill-switch')).toBe(true);
    expect(COMMANDS.filter((c) => isLoaded(forKillSwitch, c.name)).map((c) => c.name)).toEqual(['kill-switch']);
    const forHelp = await buildProgram(['node', 'pulse-runbook', 'help', 'canary']);
    expect(COMMANDS.filter((c) => isLoaded(forHelp, c.name)).map((c) => c.name)).toEqual(['canary']);
    const bare = await buildProgram(['node', 'pulse-runbook', '--help']);
    expect(COMMANDS.filter((c) => isLoaded(bare, c.name))).toEqual([]);
  });

  it('--version prints the package version and the Temporal SDK version', async () => {
    const version = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const r = await execa(process.execPath, [path.resolve('bin/pulse-runbook.js'), '--version'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      `pulse-runbook ${version('package.json')}\nTemporal TypeScript SDK ${version('node_modules/@temporalio/client/package.json')}`,
    );
  });
});
