/**
 * `pulse-runbook <args>` for the e2e suites, with execa's result shape (exit code, stdout and stderr without their
 * final newline): through one long-lived process per test file (bench/support/cli-host-child.ts, the CLI's real entry
 * point) when it is free, else as the real binary, bin/pulse-runbook.js, in a process of its own. Calls a test makes
 * at once (Promise.all, or a call that waits while another acts) therefore never wait for each other. The binary
 * itself stays covered: every call made while the host is busy, and the suites that test the process (cli.test.ts,
 * reliability-cli.test.ts, the installed package).
 *
 * Each call sees what execa would give its process: this process's environment at the time of the call plus `env`,
 * and this process's working directory. A call that outlives `timeoutMs` ends the host (it is started again).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { nodeArgsFor } from '../../src/host/node-entry.js';

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Where it ran: the long-lived host or a process of its own. */
  via: 'host' | 'process';
}

interface Reply {
  id: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

const bin = path.resolve('bin/pulse-runbook.js');
const childEntry = path.resolve('bench/support/cli-host-child.ts');

let host: { child: ChildProcess; ready: Promise<void> } | undefined;
let busy = false;
let nextId = 1;

function startHost(): NonNullable<typeof host> {
  const started = nodeArgsFor(childEntry).then((args) =>
    spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, TSX_DISABLE_CACHE: '0' } }),
  );
  const h = {
    child: undefined as unknown as ChildProcess,
    ready: started.then(
      (child) =>
        new Promise<void>((resolve, reject) => {
          h.child = child;
          child.once('message', () => resolve());
          child.once('exit', (code) => {
            if (host === h) host = undefined;
            reject(new Error(`the CLI host exited (${code})`));
          });
        }),
    ),
  };
  h.ready.catch(() => undefined);
  return h;
}

const stripFinalNewline = (s: string) => s.replace(/\r?\n$/, '');

async function viaHost(args: string[], env: Record<string, string>, timeoutMs: number): Promise<CliRun> {
  host ??= startHost();
  const h = host;
  await h.ready;
  const id = nextId++;
  return new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      h.child.kill('SIGKILL');
      if (host === h) host = undefined;
      reject(new Error(`pulse-runbook ${args.join(' ')} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the CLI host exited (${code}) during pulse-runbook ${args.join(' ')}`));
    };
    h.child.once('exit', onExit);
    const onMessage = (m: Reply) => {
      if (m.id !== id) return;
      clearTimeout(timer);
      h.child.off('message', onMessage);
      h.child.off('exit', onExit);
      resolve({ exitCode: m.exitCode, stdout: stripFinalNewline(m.stdout), stderr: stripFinalNewline(m.stderr), via: 'host' });
    };
    h.child.on('message', onMessage);
    h.child.send({ id, args, env, cwd: process.cwd() });
  });
}

async function viaProcess(args: string[], env: Record<string, string>, timeoutMs: number): Promise<CliRun> {
  const r = await execa(process.execPath, [bin, ...args], { reject: false, timeout: timeoutMs, env });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), via: 'process' };
}

/** Runs `pulse-runbook <args>` with this process's environment plus `env`. */
export async function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  // Values set to undefined are left out, as execa leaves them out of a child's environment.
  const env = Object.fromEntries(Object.entries({ ...process.env, ...opts.env }).filter((e): e is [string, string] => e[1] !== undefined));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (busy) return viaProcess(args, env, timeoutMs);
  busy = true;
  try {
    return await viaHost(args, env, timeoutMs);
  } finally {
    busy = false;
  }
}

/** Stops the host (each test file's afterAll does, through the hook below). */
export async function closeCliHost(): Promise<void> {
  const h = host;
  host = undefined;
  if (!h) return;
  await h.ready.catch(() => undefined);
  if (!h.child || h.child.exitCode !== null) return;
  const exited = new Promise((r) => h.child.once('exit', r));
  h.child.disconnect();
  await exited;
}

// A test file that imports this stops its host when it ends.
if (typeof afterAll === 'function') afterAll(() => closeCliHost());
