#!/usr/bin/env node
/**
 * A stand-in for `systemctl … pulse` in e2e tests: it manages the Pulse emulator the way systemd manages the
 * real service, so the feature flag written to the env file takes effect only through a restart.
 *
 *   node pulse-service-ctl.mjs <restart|start|stop|fail|restart-broken> <service.json>
 *
 * - restart/start: stop the process named in the pid file (SIGTERM, then SIGKILL after 5 s), read the env
 *   file the way systemd reads `EnvironmentFile=-<path>`, and start a new detached emulator on the same fixed
 *   port with `Environment=` (service.json) overridden by the file. It returns at once, like a Type=simple
 *   unit: waiting until Pulse answers is the caller's job. stdout and stderr go to the log file (the journal).
 * - stop: stop the process only.
 * - fail: a restart that fails, as `systemctl restart` does when the unit cannot be started (exit 1).
 * - restart-broken: stop Pulse, then start one that exits at once (a bad port), so it never answers again.
 * Every invocation appends one line to the invocations file, so tests can count restarts.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const [command, configPath] = process.argv.slice(2);
if (!command || !configPath) {
  process.stderr.write('usage: pulse-service-ctl.mjs <restart|start|stop|fail|restart-broken> <service.json>\n');
  process.exit(2);
}
const service = JSON.parse(readFileSync(configPath, 'utf8'));
appendFileSync(service.invocationsFile, `${command} ${new Date().toISOString()}\n`);

/** systemd's EnvironmentFile= parsing: KEY=VALUE lines, # and ; comments, optional matching quotes. */
function parseEnvironmentFile(text) {
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

function processState(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return 'gone';
  }
  // A child whose parent has exited may linger as a zombie if nobody reaps it: that is stopped too.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return 'gone';
  } catch {
    /* no /proc: trust kill(0) */
  }
  return 'running';
}

async function stop() {
  if (!existsSync(service.pidFile)) return;
  const pid = Number(readFileSync(service.pidFile, 'utf8').trim());
  rmSync(service.pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || processState(pid) === 'gone') return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (processState(pid) === 'running') {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function start(overrides = {}) {
  const fileEnv = existsSync(service.envFile) ? parseEnvironmentFile(readFileSync(service.envFile, 'utf8')) : {};
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...service.environment, // Environment= lines of the unit
    ...fileEnv, // EnvironmentFile= wins over Environment=
    ...overrides,
  };
  const log = openSync(service.logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', service.emulatorMain], {
    cwd: service.projectRoot,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  writeFileSync(service.pidFile, String(child.pid));
  child.unref();
}

switch (command) {
  case 'restart':
  case 'start':
    await stop();
    start();
    break;
  case 'stop':
    await stop();
    break;
  case 'restart-broken':
    await stop();
    start({ FRONTEND_PORT: 'not-a-port' });
    break;
  case 'fail':
    process.stderr.write('Job for pulse.service failed because the control process exited with error code.\nSee "systemctl status pulse.service" and "journalctl -xeu pulse.service" for details.\n');
    process.exit(1);
    break;
  default:
    process.stderr.write(`unknown command ${command}\n`);
    process.exit(2);
}
