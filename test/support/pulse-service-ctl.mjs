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
import { appendFileSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnvironmentFile, stopPidFile } from '../../src/rehearse/service-lib.mjs';

const [command, configPath] = process.argv.slice(2);
if (!command || !configPath) {
  process.stderr.write('usage: pulse-service-ctl.mjs <restart|start|stop|fail|restart-broken> <service.json>\n');
  process.exit(2);
}
const service = JSON.parse(readFileSync(configPath, 'utf8'));
appendFileSync(service.invocationsFile, `${command} ${new Date().toISOString()}\n`);

async function stop() {
  await stopPidFile(service.pidFile, 5000);
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
  const child = spawn(process.execPath, service.emulatorArgs, {
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
    process.stderr.write(
      'Job for pulse.service failed because the control process exited with error code.\nSee "systemctl status pulse.service" and "journalctl -xeu pulse.service" for details.\n',
    );
    process.exit(1);
    break;
  default:
    process.stderr.write(`unknown command ${command}\n`);
    process.exit(2);
}
