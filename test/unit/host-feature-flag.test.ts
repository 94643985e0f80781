import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { setFeatureFlag } from '../../activities/feature-flag.js';

const NAME = 'PULSE_ENABLE_TRUENAS';
let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'host-flag-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function snapshot(path: string): Promise<{ content: string; ino: number; mtimeMs: number }> {
  const st = await fs.stat(path);
  return { content: await fs.readFile(path, 'utf8'), ino: st.ino, mtimeMs: st.mtimeMs };
}

describe('setFeatureFlag', () => {
  it('plan mode returns the exact file change and changes nothing', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, `PULSE_DATA_DIR=/etc/pulse\n${NAME}=false\n`);
    const before = await snapshot(path);

    const out = await setFeatureFlag({ plan: true, target: { kind: 'env-file', path }, value: 'true' });

    expect(await snapshot(path)).toEqual(before);
    expect(out.evidence).toMatchObject({ step: 'enable.1', verdict: 'planned' });
    expect(out.evidence.actions).toEqual([{ kind: 'file', op: 'write', path, change: `line 2: ${NAME}=false → line 2: ${NAME}=true` }]);
    expect(out.value).toMatchObject({ changed: true, valueBefore: 'false', valueAfter: 'true', needsDaemonReload: false });
    expect(out.evidence.deviation).toMatch(/export does not reach the service/);
    // The rest of the file (which may hold secrets) is never shown.
    expect(JSON.stringify(out.evidence)).not.toContain('PULSE_DATA_DIR');
  });

  it('plan mode on a missing file says it would create it, and creates nothing', async () => {
    const path = join(dir, 'missing.env');
    const out = await setFeatureFlag({ plan: true, target: { kind: 'container-env', path }, value: 'true' });
    expect(out.evidence.actions?.[0]).toMatchObject({ change: expect.stringMatching(/^create \(mode 0600\) with/) });
    expect(out.value.needsRecreate).toBe(true);
    await expect(fs.stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('enables, then disables by writing false explicitly (unset means ON from v6)', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, '# managed by hand\nA=1\n');

    const on = await setFeatureFlag({ plan: false, target: { kind: 'env-file', path }, value: 'true' });
    expect(on.evidence).toMatchObject({ step: 'enable.1', verdict: 'ok' });
    expect(on.value).toMatchObject({ changed: true, valueBefore: null, valueAfter: 'true' });
    expect(on.evidence.summary).toContain('takes effect at the restart');

    const off = await setFeatureFlag({ plan: false, target: { kind: 'env-file', path }, value: 'false' });
    expect(off.evidence.step).toBe('disable.1');
    expect(await fs.readFile(path, 'utf8')).toBe(`# managed by hand\nA=1\n${NAME}=false\n`);
    expect(JSON.stringify(off.evidence.details)).toContain('false is written explicitly');

    const again = await setFeatureFlag({ plan: false, target: { kind: 'env-file', path }, value: 'false' });
    expect(again.value.changed).toBe(false);
    expect(again.evidence.summary).toContain('nothing was written');
  });

  it('removing the line (null) warns that this does not disable v6', async () => {
    const path = join(dir, '.env');
    await fs.writeFile(path, `${NAME}=true\n`);
    const out = await setFeatureFlag({ plan: false, target: { kind: 'env-file', path }, value: null });
    expect(await fs.readFile(path, 'utf8')).toBe('');
    expect(JSON.stringify(out.evidence.details)).toContain('does not disable TrueNAS on v6');
    expect(out.value.valueAfter).toBeNull();
  });

  it('writes a drop-in and asks for daemon-reload; an env file that overrides it is refused untouched', async () => {
    const dropin = join(dir, 'pulse.service.d', 'truenas.conf');
    await fs.mkdir(join(dir, 'pulse.service.d'));
    const envFile = join(dir, '.env');
    await fs.writeFile(envFile, `${NAME}=on\n`);

    const ok = await setFeatureFlag({
      plan: false,
      target: { kind: 'systemd-dropin', path: dropin, shadowingEnvFiles: [envFile] },
      value: 'true',
    });
    expect(ok.value).toMatchObject({ needsDaemonReload: true, created: true });
    expect(await fs.readFile(dropin, 'utf8')).toBe(`[Service]\nEnvironment=${NAME}=true\n`);

    const before = await snapshot(dropin);
    let failure: ApplicationFailure | undefined;
    try {
      await setFeatureFlag({ plan: false, target: { kind: 'systemd-dropin', path: dropin, shadowingEnvFiles: [envFile] }, value: 'false' });
    } catch (err) {
      failure = err as ApplicationFailure;
    }
    expect(failure?.type).toBe('FlagShadowed');
    expect(failure?.message).toContain(`${envFile} sets ${NAME}=on`);
    expect(await snapshot(dropin)).toEqual(before);
  });

  it('rejects a bad target with InvalidHostConfig naming the field', async () => {
    await expect(setFeatureFlag({ plan: true, target: { kind: 'env-file', path: 'relative/.env' }, value: 'true' })).rejects.toMatchObject({
      type: 'InvalidHostConfig',
      message: expect.stringContaining('target.path'),
    });
  });
});
