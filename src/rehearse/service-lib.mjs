/**
 * What a service manager does, shared by the rehearsal's service (service-ctl.mjs) and the e2e tests' stand-in
 * for `systemctl` (test/support/pulse-service-ctl.mjs): read an `EnvironmentFile=` the way systemd does, and stop a
 * process with SIGTERM, then SIGKILL. Plain ESM with no dependencies.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';

/** systemd's EnvironmentFile= parsing: KEY=VALUE lines, # and ; comments, optional matching quotes. */
export function parseEnvironmentFile(text) {
  const env = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue; // systemd ignores (and logs) lines without an assignment
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue; // e.g. "export NAME=…" is not an assignment to systemd
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    env[key] = value;
  }
  return env;
}

/** Whether the process runs; a zombie (exited, not yet reaped) counts as stopped. */
export function isRunning(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Stops the process named in the pid file (SIGTERM, then SIGKILL after `graceMs`) and removes the file. */
export async function stopPidFile(pidFile, graceMs) {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
