/**
 * The e2e suites' way of running the CLI (test/support/cli-host.ts): a call gives what the binary gives (exit code,
 * stdout and stderr without the final newline), sees this process's environment at the time of the call plus its
 * own, and a call made while another runs goes to a process of its own instead of waiting.
 */
import { execa } from 'execa';
import path from 'node:path';
import { closeCliHost, runCli } from '../support/cli-host.js';

const bin = path.resolve('bin/pulse-runbook.js');

afterAll(() => closeCliHost());

it('gives what the binary gives: output, exit code and errors', async () => {
  for (const args of [['--version'], ['canary', 'status', '--bogus']]) {
    const [host, binary] = await Promise.all([runCli(args), execa(process.execPath, [bin, ...args], { reject: false })]);
    expect(host.via).toBe('host');
    expect({ exitCode: host.exitCode, stdout: host.stdout, stderr: host.stderr }).toEqual({
      exitCode: binary.exitCode,
      stdout: binary.stdout,
      stderr: binary.stderr,
    });
  }
  expect((await runCli(['canary', 'status', '--bogus'])).exitCode).toBe(2);
});

it("sees this process's environment at the time of the call, and its own on top, one call at a time", async () => {
  await runCli(['--version']); // the host is up before the variable is set
  process.env.XDG_CONFIG_HOME = '/tmp/cli-host-test-a';
  try {
    expect((await runCli(['env', 'list'])).stdout).toContain('/tmp/cli-host-test-a/pulse-runbooks/config.json');
    const own = await runCli(['env', 'list'], { env: { XDG_CONFIG_HOME: '/tmp/cli-host-test-b' } });
    expect(own.stdout).toContain('/tmp/cli-host-test-b/pulse-runbooks/config.json');
    // The next call does not keep the last one's variables.
    expect((await runCli(['env', 'list'])).stdout).toContain('/tmp/cli-host-test-a/');
  } finally {
    delete process.env.XDG_CONFIG_HOME;
  }
});

it('runs a call made while the host is busy in a process of its own', async () => {
  const runs = await Promise.all([runCli(['--version']), runCli(['--version'])]);
  expect(runs.map((r) => r.via).sort()).toEqual(['host', 'process']);
  expect(runs[0].stdout).toBe(runs[1].stdout);
  expect(runs[0].stdout).toMatch(/^pulse-runbook \d+\.\d+\.\d+/);
});
