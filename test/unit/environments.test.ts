/**
 * Named environments (issue 15): `env set|get|list|delete` on a real config file, a token refused as a value,
 * atomic 0600 writes, and `--env` applied with flags > environment variables > the file, as `doctor` reports it
 * (its Temporal check fails fast on a closed port, so no server is needed). Every case runs through main().
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCliCases } from '../../bench/support/cli-in-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'environments-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'a3f9c0d1e2b4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f6';

describe('pulse-runbook env and --env', () => {
  it('set, get, list and delete settings; refuse a token; apply flags > environment variables > the file', async () => {
    const file = path.join(dir, 'cfg', 'config.json');
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const env = { PULSE_RUNBOOK_CONFIG_FILE: file };
    const r = await runCliCases(
      [
        { args: ['env', 'set', `prod.temporal.address`, `127.0.0.1:${p1}`], env },
        { args: ['env', 'set', 'prod.pulse.tokenEnv', TOKEN], env },
        { args: ['env', 'set', 'prod.pulse.url', `http://127.0.0.1:9?apitoken=${TOKEN}`], env },
        { args: ['env', 'set', 'prod.pulse.tokenFile', '/run/secrets/pulse-token'], env },
        { args: ['env', 'set', 'prod.pulse.url', 'http://pulse.example:7655'], env },
        { args: ['env', 'get', 'prod.temporal.address'], env },
        { args: ['env', 'list', '--json'], env },
        { args: ['doctor', '--env', 'prod', '--json'], env },
        { args: ['doctor', '--json'], env: { ...env, PULSE_RUNBOOK_ENV: 'prod', TEMPORAL_ADDRESS: `127.0.0.1:${p2}` } },
        {
          args: ['doctor', '--env', 'prod', '--json', '--temporal-address', `127.0.0.1:${p3}`],
          env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${p2}` },
        },
        { args: ['doctor', '--env', 'staging'], env },
        { args: ['env', 'set', 'prod.temporal.adress', 'x:1'], env },
        { args: ['env', 'delete', 'prod.pulse.tokenFile'], env },
        { args: ['env', 'get', 'prod.pulse.tokenFile'], env },
        { args: ['env', 'delete', 'prod'], env },
        { args: ['env', 'list'], env },
      ],
      180_000,
    );
    const [
      set,
      tokenRefused,
      urlRefused,
      setFile,
      setUrl,
      get,
      list,
      fromFile,
      fromEnvVar,
      fromFlag,
      unknownEnv,
      unknownKey,
      del,
      getDeleted,
      delEnv,
      listEmpty,
    ] = r;

    expect(set.exitCode).toBe(0);
    expect(tokenRefused.exitCode).toBe(2);
    expect(tokenRefused.stderr).toContain('env set prod.pulse.tokenEnv: looks like the Pulse API token itself');
    expect(tokenRefused.stderr).toContain('Nothing was written');
    expect(urlRefused.exitCode).toBe(2);
    expect(urlRefused.stderr).toContain('env set prod.pulse.url: must not have a query');
    for (const x of r) expect(x.stdout + x.stderr).not.toContain(TOKEN);
    expect([setFile.exitCode, setUrl.exitCode]).toEqual([0, 0]);
    expect(get.stdout.trim()).toBe(`127.0.0.1:${p1}`);
    expect(JSON.parse(list.stdout).environments).toEqual({
      prod: {
        'temporal.address': `127.0.0.1:${p1}`,
        'pulse.tokenFile': '/run/secrets/pulse-token',
        'pulse.url': 'http://pulse.example:7655',
      },
    });

    const setting = (out: string, key: string) =>
      (JSON.parse(out).settings as Array<{ key: string; value: string; source: string }>).find((s) => s.key === key);
    expect(fromFile.exitCode).toBe(2);
    expect(JSON.parse(fromFile.stdout).temporal.address).toBe(`127.0.0.1:${p1}`);
    expect(setting(fromFile.stdout, 'temporal.address')).toEqual({
      key: 'temporal.address',
      value: `127.0.0.1:${p1}`,
      source: `environment "prod" in ${file}`,
    });
    expect(setting(fromFile.stdout, 'pulse.tokenFile')?.source).toBe(`environment "prod" in ${file}`);
    expect(JSON.parse(fromEnvVar.stdout).temporal.address).toBe(`127.0.0.1:${p2}`);
    expect(setting(fromEnvVar.stdout, 'temporal.address')?.source).toBe('environment variable TEMPORAL_ADDRESS');
    expect(JSON.parse(fromFlag.stdout).temporal.address).toBe(`127.0.0.1:${p3}`);
    expect(setting(fromFlag.stdout, 'temporal.address')?.source).toBe('flag --temporal-address');

    expect(unknownEnv.exitCode).toBe(2);
    expect(unknownEnv.stderr).toContain(`--env / PULSE_RUNBOOK_ENV: no environment "staging" in ${file}; it has prod`);
    expect(unknownKey.exitCode).toBe(2);
    expect(unknownKey.stderr).toContain('must be <environment>.<setting>, e.g. prod.temporal.address');
    expect(del.exitCode).toBe(0);
    expect(getDeleted.exitCode).toBe(2);
    expect(getDeleted.stderr).toContain('prod.pulse.tokenFile is not set');
    expect(delEnv.exitCode).toBe(0);
    expect(listEmpty.stdout).toContain(`no environments in ${file}`);

    // Written atomically with mode 0600; no temporary file is left behind.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['config.json']);
  });

  it('a config file holding a token where a reference belongs is refused when read, naming the key and the fix', async () => {
    const file = path.join(dir, 'planted.json');
    writeFileSync(file, JSON.stringify({ environments: { prod: { 'pulse.tokenEnv': TOKEN } } }), { mode: 0o600 });
    const [r] = await runCliCases([{ args: ['doctor', '--env', 'prod'], env: { PULSE_RUNBOOK_CONFIG_FILE: file } }]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`config file ${file}: prod.pulse.tokenEnv: looks like the Pulse API token itself`);
    expect(r.stderr).not.toContain(TOKEN);
  });
});

describe('what an environment may hold', () => {
  it('refuses secrets, credentials in URLs, relative worker paths and a bad argv, naming the fix; accepts references', async () => {
    const { settingProblem } = await import('../../src/config/environments.js');
    expect(settingProblem('pulse.tokenFile', '/run/secrets/pulse-token')).toBeUndefined();
    expect(settingProblem('pulse.tokenEnv', 'PULSE_TOKEN')).toBeUndefined();
    expect(settingProblem('host.restartCmd', '["/usr/local/bin/pulse-deploy","--restart"]')).toBeUndefined();
    expect(settingProblem('temporal.namespace', TOKEN)).toContain('store its NAME as pulse.tokenEnv or its path as pulse.tokenFile');
    expect(settingProblem('prometheus.url', 'http://admin:pw@prometheus:9090')).toContain('without a user, password or query');
    expect(settingProblem('host.flagEnvFile', 'etc/pulse/.env')).toContain("absolute path on the worker's host");
    expect(settingProblem('host.restartCmd', 'systemctl restart pulse')).toContain('JSON array of strings');
    expect(settingProblem('temporal.address', 'temporal')).toContain('host:port');
    for (const key of ['temporal.namespace', 'prometheus.url', 'host.flagEnvFile'])
      expect(settingProblem(key, TOKEN) ?? '').not.toContain(TOKEN);
  });
});
