#!/usr/bin/env node
/**
 * The Pulse "service" of a rehearsal, managed the way systemd manages the real one (`Type=simple`,
 * `Environment=` plus `EnvironmentFile=`), so that a flag written to the env file takes effect only through a
 * restart, exactly as on a host. The Enable and Disable workflows run it as their restart command.
 *
 *   node service-ctl.mjs <start|restart|stop> <service.json>
 *
 * service.json: { argv, cwd, environment, envFile, pidFile, logFile, invocationsFile }.
 * - restart/start: stop the process in the pid file (SIGTERM, then SIGKILL after 10 s), read the env file the
 *   way systemd reads `EnvironmentFile=-<path>` (missing is fine), start `argv` detached with `environment`
 *   overridden by the file, stdout and stderr appended to the log file (the journal). Returns at once: waiting
 *   until Pulse answers is the caller's job (the workflow's health wait).
 * - stop: stop the process only.
 * Every invocation appends a line to the invocations file, so a report can count restarts.
 * Plain ESM with no dependencies: it must run wherever the worker runs, before anything is compiled.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnvironmentFile, stopPidFile } from './service-lib.mjs';

const [command, configPath] = process.argv.slice(2);
if (!['start', 'restart', 'stop'].includes(command ?? '') || !configPath) {
  process.stderr.write('usage: service-ctl.mjs <start|restart|stop> <service.json>\n');
  process.exit(2);
}
const service = JSON.parse(readFileSync(configPath, 'utf8'));
appendFileSync(service.invocationsFile, `${command} ${new Date().toISOString()}\n`);

function start() {
  const fileEnv = existsSync(service.envFile) ? parseEnvironmentFile(readFileSync(service.envFile, 'utf8')) : {};
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...service.environment, ...fileEnv };
  const log = openSync(service.logFile, 'a');
  const [file, ...args] = service.argv;
  const child = spawn(file, args, { cwd: service.cwd, env, detached: true, stdio: ['ignore', log, log] });
  writeFileSync(service.pidFile, String(child.pid));
  child.unref();
}

await stopPidFile(service.pidFile, 10_000);
if (command !== 'stop') start();
