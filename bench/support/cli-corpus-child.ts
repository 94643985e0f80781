/**
 * Runs many `pulse-runbook` invocations in one process, each through the real entry point: `main(argv)` from
 * src/cli/main.ts, which is exactly what bin/pulse-runbook.js calls after registering tsx. One process instead of
 * one per case keeps a corpus of 100+ bad inputs to seconds (a process start with tsx costs ~2 s here).
 *
 * Input (a JSON file named by argv[2]): [{ "args": [...], "env": {...} }, ...]. Each case sees only the env it
 * names plus PATH/HOME (the rest of this process's environment is removed for it). Output: one JSON array on
 * stdout of { exitCode, stdout, stderr } in the same order.
 */
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';

interface Case {
  args: string[];
  env?: Record<string, string>;
}

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Case[];
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
const baseEnv = { ...process.env };
const results: Array<{ exitCode: number; stdout: string; stderr: string }> = [];

for (const c of cases) {
  let stdout = '';
  let stderr = '';
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, { PATH: baseEnv.PATH, HOME: baseEnv.HOME }, c.env ?? {});
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    await main(['node', 'pulse-runbook', ...c.args]);
  } catch (err) {
    stderr += `UNCAUGHT: ${(err as Error).stack}`;
    process.exitCode = 99;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
  results.push({ exitCode: Number(process.exitCode ?? 0), stdout, stderr });
}
process.exitCode = 0;
for (const key of Object.keys(process.env)) delete process.env[key];
Object.assign(process.env, baseEnv);
realOut(`${JSON.stringify(results)}\n`);
// Clients some cases may have opened must not keep the process alive.
setTimeout(() => process.exit(0), 200).unref();
