import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPulseToken } from '../../src/pulse/token.js';
import { PulseError, PulseTokenError } from '../../src/pulse/errors.js';

const TOKEN = 'a3f9c0d1e2b4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e';

async function failure(p: Promise<unknown>): Promise<PulseTokenError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PulseTokenError);
    expect(e).toBeInstanceOf(PulseError);
    const err = e as PulseTokenError;
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain(TOKEN);
    return err;
  }
  throw new Error('expected readPulseToken to fail');
}

describe('readPulseToken', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pulse-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns undefined without a reference (anonymous Pulse, §1)', async () => {
    await expect(readPulseToken(undefined)).resolves.toBeUndefined();
    await expect(readPulseToken({})).resolves.toBeUndefined();
  });

  it('reads and trims the env var', async () => {
    await expect(readPulseToken({ env: 'PULSE_TOKEN' }, { PULSE_TOKEN: `  ${TOKEN}\n` })).resolves.toBe(TOKEN);
  });

  it('names the env var when it is unset or empty', async () => {
    const unset = await failure(readPulseToken({ env: 'MY_PULSE_TOKEN' }, {}));
    expect(unset.message).toMatch(/environment variable MY_PULSE_TOKEN is not set/);
    // Issue 15: it says plainly that the worker reads the token, and how to give it, in flag terms.
    expect(unset.message).toContain("is not set on the worker's host");
    expect(unset.message).toContain('an export in your shell does not reach it');
    expect(unset.message).toContain('--token-file <path>');
    expect(unset.message).not.toContain('token: {');
    expect(unset.path).toBe('env:MY_PULSE_TOKEN');
    const empty = await failure(readPulseToken({ env: 'MY_PULSE_TOKEN' }, { MY_PULSE_TOKEN: '  \n' }));
    expect(empty.message).toMatch(/MY_PULSE_TOKEN is empty/);
  });

  it('refuses a value with inner whitespace without echoing it', async () => {
    const err = await failure(readPulseToken({ env: 'T' }, { T: `${TOKEN} ${TOKEN}` }));
    expect(err.message).toMatch(/contains whitespace/);
  });

  it('reads and trims a token file', async () => {
    const file = join(dir, 'token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    await expect(readPulseToken({ file })).resolves.toBe(TOKEN);
  });

  it('names the path when the file is missing, empty, a directory or unreadable', async () => {
    const missing = join(dir, 'nope');
    expect((await failure(readPulseToken({ file: missing }))).message).toBe(
      `The Pulse token file ${missing} does not exist on the worker's host (${hostname()}): write the API token to it there (one line, mode 0600), readable by the worker's user, or give --token-file the path the worker sees.`,
    );
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect((await failure(readPulseToken({ file: empty }))).message).toContain(`${empty} is empty`);
    const sub = join(dir, 'sub');
    await mkdir(sub);
    expect((await failure(readPulseToken({ file: sub }))).message).toContain('is a directory');
    if (process.getuid?.() !== 0) {
      // root reads any file, so the permission case is only meaningful for other users
      const locked = join(dir, 'locked');
      await writeFile(locked, TOKEN);
      await chmod(locked, 0o000);
      expect((await failure(readPulseToken({ file: locked }))).message).toContain('permission denied');
    }
  });

  it('refuses a file with several lines without echoing them', async () => {
    const file = join(dir, 'two-lines');
    await writeFile(file, `${TOKEN}\n${TOKEN}\n`);
    expect((await failure(readPulseToken({ file }))).message).toContain('several lines');
  });
});

describe('the Pulse URL carries no credentials', () => {
  it('refuses user:password@ (the URL is stored in a search attribute no codec encrypts), naming the field and the fix', async () => {
    const { PulseTargetSchema } = await import('../../src/config/pulse-target.js');
    const bad = PulseTargetSchema.safeParse({ url: 'http://admin:s3cret@pulse.example:7655' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'url: must not contain a user or password (user:pass@host); give the API token by reference (token.env or token.file)',
    ]);
    expect(PulseTargetSchema.parse({ url: 'http://pulse.example:7655/' }).url).toBe('http://pulse.example:7655');
  });
});
