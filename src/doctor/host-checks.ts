/**
 * The doctor's checks that only mean something on the worker's host, because that is where the procedures act:
 * the Pulse token is read there (never in the operator's shell), Pulse is called from there, the flag file is
 * written there, the restart command runs there, the data dir and Prometheus are reached from there. Each check
 * changes nothing (the flag check writes and removes a temporary file next to the flag file, as the real write does).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { DoctorHostInput } from '../config/doctor.js';
import type { TokenRef } from '../config/pulse-target.js';
import { looksLikeSecret } from '../runbook/redact.js';
import { inspectTarget } from '../host/env-file.js';
import { resolveDataDir } from '../host/safe-files.js';
import { describeAuthMode } from '../pulse/capabilities.js';
import { PulseClient } from '../pulse/client.js';
import { PulseAuthError, PulseError, PulseForbiddenError } from '../pulse/errors.js';
import { readPulseToken } from '../pulse/token.js';
import { PULSE_LINE_NAMES } from '../pulse/line.js';
import { PrometheusClient } from '../prometheus/client.js';
import { check, skippedBecause, type CheckResult } from './check.js';

/** The scopes the procedures need (pulse-api.md §1): the connections list, its writes, and the resources. */
export const NEEDED_SCOPES = ['settings:read', 'settings:write', 'monitoring:read'];

/** "the environment variable PULSE_TOKEN" / "the file /run/secrets/pulse-token", never a value. */
export function describeTokenRef(ref: TokenRef): string {
  if (ref.env) return `the environment variable ${looksLikeSecret(ref.env) ? '<a name that looks like a token, not shown>' : ref.env}`;
  return `the file ${ref.file}`;
}

/** The fix for a token the worker cannot read, in flag terms. */
export function tokenFix(ref: TokenRef | undefined): string {
  const name = ref?.env && !looksLikeSecret(ref.env) ? ref.env : 'PULSE_TOKEN';
  return (
    "the token is read on the worker's host, not in this shell: set " +
    `${name} in the worker's environment (systemd Environment=/EnvironmentFile=, compose environment:) and restart the worker, ` +
    'or write the token to a file the worker can read and pass --token-file <path> (or `pulse-runbook env set <env>.pulse.tokenFile <path>`)'
  );
}

async function tokenCheck(input: DoctorHostInput, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  if (!input.pulse) return check('token', 'skip', 'skipped: no Pulse URL given', 'give --pulse-url (or set <env>.pulse.url)');
  const ref = input.pulse.token;
  if (!ref || (!ref.env && !ref.file)) {
    return check(
      'token',
      'warn',
      'no token reference given: requests go without a token (works only when Pulse has no authentication)',
      'give --token-env NAME or --token-file PATH naming where the worker finds the token',
    );
  }
  try {
    await readPulseToken(ref, env);
    return check('token', 'ok', `read from ${describeTokenRef(ref)} on ${hostname()}`);
  } catch (err) {
    return check('token', 'fail', `${(err as Error).message.split(': ')[0]} (on the worker's host ${hostname()})`, tokenFix(ref));
  }
}

function pulseFix(url: string): string {
  return `check --pulse-url (${url}) and that the worker's host can reach it (firewall, DNS, Pulse running)`;
}

async function pulseChecks(input: DoctorHostInput, env: NodeJS.ProcessEnv, token: CheckResult): Promise<CheckResult[]> {
  if (!input.pulse) {
    return [
      check('pulse', 'skip', 'skipped: no Pulse URL given', 'give --pulse-url'),
      check('pulse-auth', 'skip', 'skipped: no Pulse URL given'),
    ];
  }
  if (token.status === 'fail') return [skippedBecause('pulse', token), skippedBecause('pulse-auth', token)];
  const target = input.pulse;
  let client: PulseClient;
  try {
    client = await PulseClient.create(target, { env });
  } catch (err) {
    const failed = check('pulse', 'fail', (err as Error).message, pulseFix(target.url));
    return [failed, skippedBecause('pulse-auth', failed)];
  }
  try {
    let reach: CheckResult;
    try {
      const health = await client.health();
      reach = health.ok
        ? check('pulse', 'ok', `GET ${target.url}/api/health answered ${health.status}`)
        : check(
            'pulse',
            'fail',
            `GET ${target.url}/api/health answered ${health.status}`,
            'Pulse answers but is not healthy: look at its logs',
          );
    } catch (err) {
      reach = check(
        'pulse',
        'fail',
        `${target.url} is not reachable from the worker's host: ${(err as Error).message}`,
        pulseFix(target.url),
      );
    }
    if (reach.status === 'fail') return [reach, skippedBecause('pulse-auth', reach)];
    return [reach, await authCheck(client, target.token)];
  } finally {
    await client.close();
  }
}

async function authCheck(client: PulseClient, ref: TokenRef | undefined): Promise<CheckResult> {
  const where = ref && (ref.env || ref.file) ? describeTokenRef(ref) : 'no token';
  const fixToken =
    `create an API token in Pulse (Settings → Security → API tokens) with the scopes ${NEEDED_SCOPES.join(', ')} ` +
    `and put it in ${where === 'no token' ? 'a file or env var' : where} on the worker's host (then --token-env / --token-file name it)`;
  try {
    const caps = await client.detectCapabilities();
    await client.probeSettingsWrite();
    const auth =
      where !== 'no token'
        ? `the token from ${where} was accepted`
        : caps.authRequired
          ? 'answered without a token although authentication is configured'
          : 'answered without a token';
    const flag = caps.truenasEnabled ? 'TrueNAS flag on' : 'TrueNAS flag off (404 truenas_disabled)';
    return check(
      'pulse-auth',
      'ok',
      `${auth}; Pulse authentication: ${describeAuthMode(caps.auth)}; scopes ${NEEDED_SCOPES.join(', ')} accepted; ${PULSE_LINE_NAMES[caps.line]}; ${flag}`,
    );
  } catch (err) {
    if (err instanceof PulseAuthError)
      return check('pulse-auth', 'fail', `Pulse answered 401 to the token from ${where}: it was refused`, fixToken);
    if (err instanceof PulseForbiddenError) {
      const scope = err.requiredScope ? ` (missing scope ${err.requiredScope})` : ` (${err.reason})`;
      return check('pulse-auth', 'fail', `Pulse answered 403 to ${err.method} ${err.path}${scope}`, fixToken);
    }
    if (err instanceof PulseError)
      return check('pulse-auth', 'fail', err.message, "look at Pulse's answer above; the procedures would get the same");
    throw err;
  }
}

async function flagCheck(input: DoctorHostInput): Promise<CheckResult> {
  if (!input.flag) return check('flag', 'skip', 'not needed here (only Enable and Disable write the flag)');
  const file = input.flag.path;
  const fix =
    "give the file the Pulse service reads its environment from (--flag-env-file, --dropin or --container-env; or set <env>.host.flagEnvFile), on the worker's host";
  try {
    await inspectTarget(file);
    // The real write makes a temporary file next to the target and renames it over; make (and remove) one now.
    const probe = path.join(path.dirname(file), `.pulse-runbook-doctor.${randomBytes(4).toString('hex')}.tmp`);
    await fs.writeFile(probe, '', { flag: 'wx', mode: 0o600 });
    await fs.unlink(probe);
    return check('flag', 'ok', `${file} (${input.flag.kind}) can be written by the worker`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code ? `cannot write next to ${file} (${e.code})` : e.message;
    return check('flag', 'fail', why, fix);
  }
}

/** Where a program would be found, as execa finds it: a path as given, a bare name on PATH. */
export async function findProgram(program: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = program.includes('/')
    ? [program]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, program));
  for (const c of candidates) {
    try {
      const st = await fs.stat(c);
      if (!st.isFile()) continue;
      await fs.access(c, fsConstants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function restartCheck(input: DoctorHostInput, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const restart = input.restart;
  if (!restart) return check('restart', 'skip', 'not needed here (Kill-Switch and Data Cleanup do not restart Pulse)');
  const argv = restart.kind === 'systemd' ? ['systemctl', 'restart', restart.unit] : restart.argv;
  const program = input.prefix[0] ?? argv[0];
  const what = `${restart.kind === 'systemd' ? `systemd unit ${restart.unit}` : restart.kind === 'container' ? 'container re-create' : 'restart command'}: ${[...input.prefix, ...argv].join(' ')}`;
  const found = await findProgram(program, env);
  if (found) return check('restart', 'ok', `${what} (${program} found at ${found}; not run)`);
  const fix =
    restart.kind === 'systemd'
      ? 'this host has no systemctl: give the restart method Pulse really uses, --restart-cmd \'["/path/to/restart"]\' or --container-recreate (or set <env>.host.restart)'
      : `install ${program} on the worker's host or give its absolute path in --restart-cmd`;
  return check('restart', 'fail', `${what}: ${program} is not on the worker's PATH or not executable`, fix);
}

async function dataDirCheck(input: DoctorHostInput, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  if (!input.dataDir) return check('data-dir', 'skip', 'not needed here (only Data Cleanup uses the data dir)');
  try {
    const info = await resolveDataDir(input.dataDir.path, env);
    const from = info.source === 'input' ? 'given' : info.source === 'PULSE_DATA_DIR' ? "the worker's PULSE_DATA_DIR" : 'the default';
    await fs.access(info.path, fsConstants.W_OK | fsConstants.X_OK);
    return check('data-dir', 'ok', `${info.path} (${from}) is a directory the worker can change`);
  } catch (err) {
    return check(
      'data-dir',
      'fail',
      (err as Error).message,
      'give --data-dir (or set <env>.host.dataDir) to the directory Pulse runs with (its PULSE_DATA_DIR), as seen from the worker',
    );
  }
}

async function prometheusCheck(input: DoctorHostInput, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  if (!input.prometheus)
    return check(
      'prometheus',
      'skip',
      'not configured (the canary and the alert monitor use it)',
      'give --prometheus-url (or set <env>.prometheus.url) to check it',
    );
  const url = input.prometheus.url;
  try {
    const client = await PrometheusClient.create(input.prometheus, env);
    if (await client.ready()) return check('prometheus', 'ok', `GET ${url}/-/ready answered 200`);
    return check(
      'prometheus',
      'fail',
      `GET ${url}/-/ready did not answer 200 from the worker's host`,
      'check --prometheus-url and that Prometheus runs and is reachable from the worker',
    );
  } catch (err) {
    return check('prometheus', 'fail', (err as Error).message, "check the Prometheus token reference on the worker's host");
  }
}

/** Every host check, in the table's order. */
export async function runHostChecks(input: DoctorHostInput, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const token = await tokenCheck(input, env);
  const pulse = await pulseChecks(input, env, token);
  return [
    token,
    ...pulse,
    await flagCheck(input),
    await restartCheck(input, env),
    await dataDirCheck(input, env),
    await prometheusCheck(input, env),
  ];
}
