/** A long-running process in a test (a worker, a server, a CLI that follows a run): its output so far, a wait for a line, a stop. */
import { execa, type ResultPromise } from 'execa';

export interface LongProcess {
  child: ResultPromise;
  output(): string;
  errors(): string;
  exited(): boolean;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export function spawnLong(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
  opts: { extendEnv?: boolean } = {},
): LongProcess {
  const child: ResultPromise = execa(file, args, { reject: false, env, extendEnv: opts.extendEnv ?? true, stdin: 'ignore' });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  void child.finally(() => (exited = true));
  return {
    child,
    output: () => out,
    errors: () => err,
    exited: () => exited,
    async waitFor(pattern: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = out.match(pattern) ?? err.match(pattern);
        if (m) return m;
        if (exited) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${pattern} in the output of ${args.slice(0, 2).join(' ')}:\n${out}\n${err}`);
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await child;
      clearTimeout(timer);
    },
  };
}
