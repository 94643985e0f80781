/**
 * One long-lived process that runs `pulse-runbook` invocations one after the other, each through the real entry
 * point (`main(argv)` from src/cli/main.ts, what bin/pulse-runbook.js calls), for the e2e suites that run the CLI
 * dozens of times: a start of the CLI costs ~0.5 CPU-second (mostly loading the Temporal client), and the suite paid
 * it ~160 times. Started by test/support/cli-host.ts, compiled when the build is fresh (src/host/node-entry.ts).
 *
 * Requests arrive over the IPC channel: { id, args, env, cwd }. Each call sees exactly the environment it is given
 * (the test's whole process.env plus its overrides, as execa passes them) and the working directory; its stdout and
 * stderr are captured, and the reply is { id, exitCode, stdout, stderr }. A call that throws is reported as the
 * binary reports it: the stack on stderr, exit code 1.
 */
import { main } from '../../src/cli/main.js';

interface Request {
  id: number;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
let current: { stdout: string; stderr: string } | undefined;

// Something a call left running that fails later must not end the host: it is told to the call running then, if any.
process.on('unhandledRejection', (reason) => {
  if (current) current.stderr += `unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`;
});

async function run(req: Request): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  current = out;
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, req.env);
  process.chdir(req.cwd);
  process.exitCode = undefined;
  process.argv = [process.execPath, 'pulse-runbook', ...req.args];
  process.stdout.write = ((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    await main(process.argv);
  } catch (err) {
    out.stderr += `${(err as Error)?.stack ?? String(err)}\n`;
    process.exitCode = 1;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    current = undefined;
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { exitCode, ...out };
}

// Requests are served one at a time (the parent sends the next only after the reply).
process.on('message', (req: Request) => {
  void run(req).then((res) => process.send!({ id: req.id, ...res }));
});
// The test process is gone: so is this host.
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
