import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describeCommand, runCommand } from '../../src/host/command.js';
import { MASK } from '../../src/runbook/redact.js';

const node = process.execPath;
const printArgv = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('runCommand', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'host-cmd-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes arguments verbatim, without a shell, and puts the prefix in front as argv', async () => {
    const marker = join(dir, 'pwned');
    const tricky = ['a b', `$(touch ${marker})`, '; rm -rf /', "'quoted'"];
    // The prefix is the program plus its first arguments: node -e <script> receives the rest as argv.
    const r = await runCommand(tricky, { prefix: [node, '-e', printArgv] });
    expect(JSON.parse(r.stdout)).toEqual(tricky);
    expect(r.exitCode).toBe(0);
    expect(r.argv.slice(0, 2)).toEqual([node, '-e']);
    await expect(fs.stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('feeds input on stdin and adds env to the environment', async () => {
    const r = await runCommand(
      [node, '-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.toUpperCase()+process.env.EXTRA))'],
      { input: 'hello ', env: { EXTRA: 'world' } },
    );
    expect(r.stdout).toBe('HELLO world');
  });

  it('turns a non-zero exit into CommandFailed with the exit code and a scrubbed output excerpt', async () => {
    const f = await failure(
      runCommand([node, '-e', 'process.stderr.write("auth failed for s3cr3t-key"); process.exit(3)'], { secrets: ['s3cr3t-key'] }),
    );
    expect(f.type).toBe('CommandFailed');
    expect(f.message).toContain('failed with exit code 3');
    expect(f.message).toContain(`auth failed for ${MASK}`);
    expect(f.message).not.toContain('s3cr3t-key');
    expect(f.details?.[0]).toMatchObject({ exitCode: 3, timedOut: false, stderrExcerpt: `auth failed for ${MASK}` });
  });

  it('reports a missing program as CommandNotFound (non-retryable)', async () => {
    const f = await failure(runCommand(['definitely-not-a-program-4711', 'x']));
    expect(f.type).toBe('CommandNotFound');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('definitely-not-a-program-4711');
  });

  it('kills a command that outlives its timeout (CommandTimedOut, retryable)', async () => {
    const started = Date.now();
    const f = await failure(runCommand([node, '-e', 'setTimeout(() => {}, 20000)'], { timeoutMs: 300 }));
    expect(f.type).toBe('CommandTimedOut');
    expect(f.nonRetryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('describeCommand', () => {
  it('returns the exact argv with the prefix and masks secret-looking env values', () => {
    expect(
      describeCommand(['systemctl', 'restart', 'pulse'], {
        prefix: ['ssh', '-o', 'BatchMode=yes', 'pulse-host'],
        timeoutMs: 1000,
        env: { PULSE_TOKEN: 'abcd1234', LANG: 'C' },
      }),
    ).toEqual({
      kind: 'command',
      argv: ['ssh', '-o', 'BatchMode=yes', 'pulse-host', 'systemctl', 'restart', 'pulse'],
      timeoutMs: 1000,
      env: { PULSE_TOKEN: MASK, LANG: 'C' },
    });
  });
});
