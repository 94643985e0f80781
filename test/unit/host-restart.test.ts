/**
 * restartPulse with real processes: the "restart" commands are small node scripts; one of them starts a
 * real HTTP server in its own process (as a service manager would) that the health wait then finds.
 */
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { restartPulse } from '../../activities/restart.js';
import { waitForHealthy } from '../../src/host/health.js';

const node = process.execPath;
let dir: string;
const pidsToKill: number[] = [];
const servers: Server[] = [];

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'host-restart-'));
});
afterEach(async () => {
  for (const pid of pidsToKill.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await fs.rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on (taken from the kernel, then released). */
async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** An in-process health endpoint answering `status`. */
async function healthServer(status: number): Promise<string> {
  const srv = createServer((_req, res) => {
    res.statusCode = status;
    res.end('{"status":"healthy"}');
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

// Started by the restart command as a detached process, like a service: it listens after a delay, so the
// health wait must poll, and it exits on its own after 20 s should the test's cleanup never run.
const SERVER = `
  const port = Number(process.argv[1]);
  setTimeout(() => process.exit(0), 20000);
  setTimeout(() => require('http').createServer((q, s) => { s.setHeader('content-type','application/json'); s.end('{"status":"healthy"}'); }).listen(port, '127.0.0.1'), 400);
`;
const START_SERVICE = `
  const [port, pidFile, server] = process.argv.slice(1);
  const child = require('child_process').spawn(process.execPath, ['-e', server, port], { detached: true, stdio: 'ignore' });
  require('fs').writeFileSync(pidFile, String(child.pid));
  child.unref();
`;

describe('restartPulse', () => {
  it('runs a custom restart command that starts a real server, then waits until it is healthy', async () => {
    const port = await freePort();
    const pidFile = join(dir, 'pid');
    const out = await restartPulse({
      plan: false,
      step: 'enable.2',
      pulseUrl: `http://127.0.0.1:${port}/`,
      restart: {
        kind: 'command',
        argv: [node, '-e', START_SERVICE, String(port), pidFile, SERVER],
        healthTimeoutMs: 10_000,
        healthIntervalMs: 100,
      },
    });
    pidsToKill.push(Number(await fs.readFile(pidFile, 'utf8')));

    expect(out.evidence).toMatchObject({ step: 'enable.2', verdict: 'ok' });
    expect(out.value.commands).toHaveLength(1);
    expect(out.value.commands[0]).toMatchObject({ exitCode: 0 });
    expect(out.value.health).toMatchObject({ url: `http://127.0.0.1:${port}/api/health`, status: 200 });
    // The server starts 400 ms after the command returns, so the wait had to poll more than once.
    expect(out.value.health!.attempts).toBeGreaterThan(1);
    expect(out.value.health!.bodyExcerpt).toContain('healthy');
  });

  it('puts the prefix in front of every command and runs daemon-reload before systemctl restart', async () => {
    const base = await healthServer(200);
    const log = join(dir, 'calls.jsonl');
    // The "prefix" records the argv it was given, standing in for sudo/ssh and systemctl.
    const recorder = ['-e', 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")', log];
    const out = await restartPulse({
      plan: false,
      step: 'disable.2',
      pulseUrl: base,
      daemonReload: true,
      prefix: [node, ...recorder],
      restart: { kind: 'systemd', unit: 'pulse-test', healthTimeoutMs: 5_000 },
    });
    const calls = (await fs.readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(calls).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'restart', 'pulse-test'],
    ]);
    expect(out.value.health).toMatchObject({ status: 200, attempts: 1 });
    expect(out.evidence.actions?.[0]).toEqual({
      kind: 'command',
      argv: [node, ...recorder, 'systemctl', 'daemon-reload'],
      timeoutMs: 180_000,
    });
  });

  it('plan mode lists the commands and the health check and runs nothing', async () => {
    const log = join(dir, 'calls.jsonl');
    const out = await restartPulse({
      plan: true,
      step: 'enable.2',
      pulseUrl: 'http://127.0.0.1:7655',
      daemonReload: true,
      prefix: [node, '-e', 'require("fs").writeFileSync(process.argv[1], "ran")', log],
      restart: { kind: 'systemd' },
    });
    await expect(fs.stat(log)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(out.evidence.verdict).toBe('planned');
    expect(out.evidence.actions?.map((a) => (a.kind === 'command' ? a.argv.slice(4) : a))).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'restart', 'pulse'],
      { kind: 'http', method: 'GET', url: 'http://127.0.0.1:7655/api/health', expect: '200 within 60000 ms' },
    ]);
  });

  it('a failing restart command becomes RestartFailed with its exit code, and no health wait follows', async () => {
    const started = Date.now();
    const f = await failure(
      restartPulse({
        plan: false,
        step: 'enable.2',
        pulseUrl: `http://127.0.0.1:${await freePort()}`,
        restart: { kind: 'command', argv: [node, '-e', 'console.error("Unit pulse.service not found."); process.exit(5)'] },
      }),
    );
    expect(f.type).toBe('RestartFailed');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('exit code 5');
    expect(f.message).toContain('Unit pulse.service not found.');
    expect(f.details?.[0]).toMatchObject({ exitCode: 5, cause: 'CommandFailed' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('health that never comes up ends in PulseNotHealthy after the timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const f = await failure(
      restartPulse({
        plan: false,
        step: 'enable.2',
        pulseUrl: `http://127.0.0.1:${port}`,
        restart: { kind: 'command', argv: [node, '-e', 'process.exit(0)'], healthTimeoutMs: 600, healthIntervalMs: 100 },
      }),
    );
    const elapsed = Date.now() - started;
    expect(f.type).toBe('PulseNotHealthy');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(`http://127.0.0.1:${port}/api/health`);
    expect(f.message).toContain('ECONNREFUSED');
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(5_000);
  });
});

describe('waitForHealthy', () => {
  it('does not accept a non-200 answer and reports the last status', async () => {
    const base = await healthServer(503);
    const f = await failure(waitForHealthy(`${base}/api/health`, 400, 50));
    expect(f.type).toBe('PulseNotHealthy');
    expect(f.details?.[0]).toMatchObject({ lastStatus: 503 });
    expect((f.details?.[0] as { attempts: number }).attempts).toBeGreaterThan(1);
  });

  it('keeps user:password out of the message', async () => {
    const f = await failure(waitForHealthy(`http://admin:hunter22@127.0.0.1:${await freePort()}/api/health`, 200, 50));
    expect(f.message).not.toContain('hunter22');
  });
});
