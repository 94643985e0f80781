import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPulseLogs, markLogPosition, scanPulseLogs } from '../../activities/logs.js';
import { MASK } from '../../src/runbook/redact.js';

const node = process.execPath;
const FEB_FAIL = '2026/02/09 10:00:01 [TrueNASPoller] Refresh failed for 3f2a: truenas: GET /system/info: 401 Unauthorized';
const FEB_STOP = '2026/02/09 10:00:02 [TrueNASPoller] Stop timed out waiting for shutdown';
const V6_FAIL =
  '{"level":"warn","component":"truenas_poller","connection":"3f2a","time":"2026-04-01T10:00:00Z","message":"TrueNAS poller refresh failed"}';
const V6_INFO = '{"level":"info","component":"truenas_poller","message":"synced connections"}';
const NOISE = [
  '2026/02/09 10:00:00 Starting Pulse on :7655',
  '{"level":"info","component":"monitor","message":"poll complete"}',
  'TrueNAS poller started', // Pulse never logs this; a line like it must not count (pulse-api.md §8.3)
];

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'host-logs-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('scanPulseLogs (pure)', () => {
  it('counts [TrueNASPoller] (Feb) and truenas_poller JSON (v6) lines, failures and stop lines, and nothing else', () => {
    const scan = scanPulseLogs([...NOISE, FEB_FAIL, V6_FAIL, V6_INFO, FEB_STOP, ''].join('\n'));
    expect(scan).toMatchObject({ linesRead: 7, feb: 2, v6: 2, errors: 3, shutdown: 1, total: 4 });
    expect(scan.lines).toEqual([FEB_FAIL, V6_FAIL, V6_INFO, FEB_STOP]);
    expect(scanPulseLogs('ts=1 level=ERR component=truenas_poller msg="refresh failed"')).toMatchObject({ v6: 1, errors: 1 });
  });
});

describe('markLogPosition + checkPulseLogs on a real file', () => {
  it('reads only what was written after the mark', async () => {
    const path = join(dir, 'pulse.log');
    await fs.writeFile(path, `${FEB_FAIL}\n${FEB_FAIL}\n`); // before the restart: must not count
    const mark = await markLogPosition({ plan: false, source: { kind: 'file', path }, step: 'enable.4' });
    expect(mark.value.file).toMatchObject({ path, offset: FEB_FAIL.length * 2 + 2 });

    await fs.appendFile(path, `${NOISE.join('\n')}\n${V6_FAIL}\n`);
    const out = await checkPulseLogs({
      plan: false,
      source: { kind: 'file', path },
      mark: mark.value,
      step: 'enable.4',
      expect: 'poller-active',
    });

    expect(out.value).toMatchObject({ linesRead: 4, feb: 0, v6: 1, total: 1, rotated: false, fromOffset: mark.value.file!.offset });
    expect(out.value.excerpt).toEqual([V6_FAIL]);
    expect(out.evidence).toMatchObject({ step: 'enable.4', verdict: 'ok' });
  });

  it('disable: silence with other lines present is ok; poll lines fail; stop lines of the old process do not count', async () => {
    const path = join(dir, 'pulse.log');
    await fs.writeFile(path, '');
    const mark = (await markLogPosition({ plan: false, source: { kind: 'file', path }, step: 'disable.3' })).value;
    const check = () => checkPulseLogs({ plan: false, source: { kind: 'file', path }, mark, step: 'disable.3', expect: 'poller-silent' });

    expect((await check()).evidence.verdict).toBe('inconclusive'); // nothing at all: the source may be wrong
    await fs.appendFile(path, `${FEB_STOP}\n${NOISE[0]}\n`);
    expect((await check()).evidence.verdict).toBe('ok');
    await fs.appendFile(path, `${FEB_FAIL}\n`);
    const failed = await check();
    expect(failed.evidence.verdict).toBe('failed');
    expect(failed.evidence.summary).toContain('Poller activity after the restart');
  });

  it('reads a rotated file from the start', async () => {
    const path = join(dir, 'pulse.log');
    await fs.writeFile(path, `${NOISE.join('\n')}\n${NOISE.join('\n')}\n`);
    const mark = (await markLogPosition({ plan: false, source: { kind: 'file', path }, step: 'enable.4' })).value;
    await fs.rename(path, `${path}.1`);
    await fs.writeFile(path, `${FEB_FAIL}\n`);
    const out = await checkPulseLogs({ plan: false, source: { kind: 'file', path }, mark, step: 'enable.4' });
    expect(out.value).toMatchObject({ rotated: true, fromOffset: 0, feb: 1 });
  });

  it('masks credentials in the excerpt', async () => {
    const path = join(dir, 'pulse.log');
    await fs.writeFile(path, '');
    const mark = (await markLogPosition({ plan: false, source: { kind: 'file', path }, step: 'enable.4' })).value;
    await fs.appendFile(path, '[TrueNASPoller] Refresh failed for nas: sent Authorization: Bearer tok-123456 apiKey=key-abcdef\n');
    const out = await checkPulseLogs({ plan: false, source: { kind: 'file', path }, mark, step: 'enable.4', secrets: ['key-abcdef'] });
    expect(out.value.excerpt[0]).toBe(`[TrueNASPoller] Refresh failed for nas: sent Authorization: Bearer ${MASK} apiKey=${MASK}`);
    expect(JSON.stringify(out)).not.toMatch(/tok-123456|key-abcdef/);
  });

  it('plan mode reads nothing and describes the read', async () => {
    const path = join(dir, 'pulse.log');
    const out = await checkPulseLogs({
      plan: true,
      source: { kind: 'file', path },
      mark: { at: new Date().toISOString(), file: { path, offset: 42, ino: 1, dev: 1 } },
      step: 'disable.3',
    });
    expect(out.evidence.verdict).toBe('planned');
    expect(out.evidence.actions).toEqual([{ kind: 'file', op: 'read', path, change: 'read from byte 42' }]);
  });

  it('a file source without a mark is refused', async () => {
    await expect(
      checkPulseLogs({
        plan: false,
        source: { kind: 'file', path: join(dir, 'x.log') },
        since: new Date().toISOString(),
        step: 'enable.4',
      }),
    ).rejects.toMatchObject({ type: 'LogMarkMissing', nonRetryable: true });
  });
});

describe('checkPulseLogs through commands', () => {
  it('journald: runs journalctl -u <unit> --since @<epoch> through the prefix', async () => {
    const calls = join(dir, 'calls.json');
    // Stands in for `ssh host` + journalctl: records its argv, prints one Feb line on stdout.
    const fake = `require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2))); console.log(${JSON.stringify(FEB_FAIL)}); console.log("Starting")`;
    const since = '2026-02-09T10:00:00.000Z';
    const out = await checkPulseLogs({
      plan: false,
      source: { kind: 'journald', unit: 'pulse' },
      since,
      prefix: [node, '-e', fake, calls],
      step: 'enable.4',
      expect: 'poller-active',
    });
    expect(JSON.parse(await fs.readFile(calls, 'utf8'))).toEqual([
      'journalctl',
      '-u',
      'pulse',
      '--since',
      `@${Date.parse(since) / 1000}`,
      '--no-pager',
      '-o',
      'cat',
    ]);
    expect(out.value).toMatchObject({ feb: 1, linesRead: 2, since });
    expect(out.evidence.verdict).toBe('ok');
  });

  it('journald: a journal the user may not read is an error, not silence', async () => {
    const fake = 'console.error("No journal files were opened due to insufficient permissions.")';
    await expect(
      checkPulseLogs({
        plan: false,
        source: { kind: 'journald', unit: 'pulse' },
        since: new Date().toISOString(),
        prefix: [node, '-e', fake],
        step: 'disable.3',
        expect: 'poller-silent',
      }),
    ).rejects.toMatchObject({ type: 'LogsUnreadable', nonRetryable: true });
  });

  it('command: substitutes {since} and reads stderr too (Pulse logs to stderr)', async () => {
    const since = '2026-04-01T09:00:00.000Z';
    const script = `if (process.argv[1] !== ${JSON.stringify(`since=${since}`)}) process.exit(9); console.error(${JSON.stringify(V6_FAIL)})`;
    const out = await checkPulseLogs({
      plan: false,
      source: { kind: 'command', argv: [node, '-e', script, 'since={since}'] },
      mark: { at: since },
      step: 'enable.4',
    });
    expect(out.value).toMatchObject({ v6: 1, errors: 1, since });
    expect(out.evidence.actions?.[0]).toMatchObject({ argv: [node, '-e', script, `since=${since}`] });
  });

  it('command: a failing log command is LogsUnreadable with its exit code', async () => {
    await expect(
      checkPulseLogs({
        plan: false,
        source: { kind: 'command', argv: [node, '-e', 'console.error("Error: No such container: pulse"); process.exit(1)'] },
        since: new Date().toISOString(),
        step: 'enable.4',
      }),
    ).rejects.toMatchObject({ type: 'LogsUnreadable', message: expect.stringContaining('No such container') });
  });
});
