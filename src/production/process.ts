/**
 * One service of the rehearsal as a child process: started from its spec with a clean environment (a container
 * inherits nothing from the host either), its output appended to a log file that survives restarts, stopped with
 * SIGTERM (SIGKILL after a grace period), killed with SIGKILL for the fault tests, and started again with the same
 * spec. An exit nobody asked for is recorded, so a test can fail on a service that died behind its back.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { ProcessSpec } from './compose-plan.js';

/** Children still running, killed if this process exits without stopping them (a crashed test run). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** What every process gets besides its spec's environment. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return env;
}

export interface UnexpectedExit {
  name: string;
  pid: number;
  at: string;
  code: number | null;
  signal: string | null;
}

export class ManagedProcess {
  private child?: ChildProcess;
  private exitInfo?: { code: number | null; signal: string | null };
  private stopping = false;
  private hasExited = false;
  private exited?: Promise<void>;
  /** Exits that neither stop() nor kill() asked for. */
  readonly unexpectedExits: UnexpectedExit[] = [];

  constructor(
    public spec: ProcessSpec,
    readonly logFile: string,
    /** Runs the command as another user (PostgreSQL refuses root): a prefix such as setpriv's. */
    private readonly prefix: string[] = [],
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return !!this.child && !this.hasExited;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `\n--- ${new Date().toISOString()} start ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    const [command, ...args] = [...this.prefix, this.spec.command, ...this.spec.args];
    this.stopping = false;
    this.hasExited = false;
    const child = spawn(command, args, { env: { ...baseEnv(), ...this.spec.env }, cwd: this.spec.cwd, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    live.add(child);
    const pid = child.pid ?? -1;
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: string | null) => {
        live.delete(child);
        this.hasExited = true;
        this.exitInfo = { code, signal };
        if (!this.stopping) this.unexpectedExits.push({ name: this.name, pid, at: new Date().toISOString(), code, signal });
        resolve();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        writeSync(openSync(this.logFile, 'a'), `spawn failed: ${err.message}\n`);
        done(null, null);
      });
    });
  }

  /** SIGTERM (or `signal`), then SIGKILL after graceMs; resolves once the process is gone. */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.hasExited) return;
    this.stopping = true;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** A crash: SIGKILL, no chance to clean up. */
  async kill(): Promise<void> {
    if (!this.child || this.hasExited) return;
    this.stopping = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async restart(graceMs?: number): Promise<void> {
    await this.stop(graceMs);
    this.start();
  }

  /** Resolves with the exit code of a one-shot job. */
  async exitCode(): Promise<number | null> {
    await this.exited;
    return this.exitInfo?.code ?? null;
  }

  /** Marks the current run as one that is expected to end (a one-shot job). */
  expectExit(): void {
    this.stopping = true;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 30): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }
}

/** Polls `check` until it returns true, failing with `what` and the process's log tail when time runs out. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, proc?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && !proc.running && proc.unexpectedExits.length > 0) {
      throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.tail()}`);
    }
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${proc ? `\n${proc.name} log:\n${proc.tail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
