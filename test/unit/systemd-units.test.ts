/**
 * The systemd units for hosts without Docker (deploy/systemd/): checked by systemd's own `systemd-analyze verify`
 * and `systemd-analyze security --offline` where systemd-analyze exists (Debian 12: systemd 252), and parsed here for
 * what must hold whatever systemd says: their own user, the hardening keys, secrets by LoadCredential only, and the
 * same program, settings and origins as the compose file's worker and codec-server services.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { argv, composeEnv, composeRoles, readComposeFile } from '../../src/production/compose-plan.js';
import { REPO_ROOT } from '../../src/production/versions.js';

type Unit = Record<string, Record<string, string[]>>;
const UNITS = ['pulse-runbooks-worker.service', 'pulse-runbooks-codec-server.service'];
const unitPath = (name: string) => path.join(REPO_ROOT, 'deploy', 'systemd', name);

/** An INI parser for unit files: sections of keys, a key repeated is a list, comments and blank lines skipped. */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    (unit[section][key] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

const REQUIRED: Record<string, string> = {
  User: 'pulse-runbooks',
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectControlGroups: 'yes',
  RestrictSUIDSGID: 'yes',
  CapabilityBoundingSet: '',
  UMask: '0077',
};

/** What a unit gets wrong; empty when it is fine. */
function unitProblems(unit: Unit, secrets: string[]): string[] {
  const s = unit.Service ?? {};
  const problems: string[] = [];
  for (const [key, want] of Object.entries(REQUIRED))
    if (s[key]?.at(-1) !== want) problems.push(`${key} must be "${want}", is ${JSON.stringify(s[key] ?? null)}`);
  const env = Object.fromEntries((s.Environment ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const credentials = new Map((s.LoadCredential ?? []).map((c) => [c.slice(0, c.indexOf(':')), c.slice(c.indexOf(':') + 1)]));
  for (const secret of secrets) {
    if (!credentials.get(secret)?.startsWith('/etc/pulse-runbooks/'))
      problems.push(`secret ${secret} must come by LoadCredential from /etc/pulse-runbooks/`);
  }
  for (const [k, v] of Object.entries(env)) {
    if (/TOKEN|KEY|PASSWORD|SECRET/i.test(k) && !(/_FILE$/.test(k) && /^%d\//.test(v)))
      problems.push(`${k} must be a file in the credentials directory (%d/...), not "${v}"`);
  }
  return problems;
}

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const haveAnalyze = analyze.status === 0;

describe('systemd units for hosts without Docker', () => {
  const compose = readComposeFile();
  const roles = composeRoles(compose);
  const worker = parseUnit(readFileSync(unitPath(UNITS[0]), 'utf8'));
  const codec = parseUnit(readFileSync(unitPath(UNITS[1]), 'utf8'));

  it('run as their own user with the hardening keys, secrets by LoadCredential only', () => {
    expect(unitProblems(worker, ['pulse_token', 'codec_keys'])).toEqual([]);
    expect(unitProblems(codec, ['codec_keys'])).toEqual([]);
    expect(readFileSync(unitPath('pulse-runbooks.sysusers.conf'), 'utf8')).toMatch(/^u pulse-runbooks /m);
  });

  it('a weakened unit is caught', () => {
    const weak = parseUnit(
      readFileSync(unitPath(UNITS[0]), 'utf8')
        .replace('ProtectSystem=strict', 'ProtectSystem=full')
        .replace('User=pulse-runbooks', 'User=root')
        .replace('Environment=PULSE_TOKEN_FILE=%d/pulse_token', 'Environment=PULSE_TOKEN=abc'),
    );
    expect(unitProblems(weak, ['pulse_token', 'codec_keys'])).toEqual([
      'User must be "pulse-runbooks", is ["root"]',
      'ProtectSystem must be "strict", is ["full"]',
      'PULSE_TOKEN must be a file in the credentials directory (%d/...), not "abc"',
    ]);
  });

  it('run what compose runs: the worker command and settings, the codec server with the same port and origins', () => {
    const exec = (u: Unit) => argv(u.Service.ExecStart[0]);
    expect(exec(worker).slice(2)).toEqual(argv(compose.services[roles.worker].command));
    const workerEnv = composeEnv(compose.services[roles.worker], {
      POSTGRES_PASSWORD: 'x',
      PULSE_TOKEN_FILE: 'x',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: 'x',
    });
    const unitEnv = Object.fromEntries(worker.Service.Environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    for (const key of ['TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE'])
      expect({ key, value: unitEnv[key] }).toEqual({ key, value: workerEnv[key] });
    for (const key of ['PULSE_TOKEN_FILE', 'PULSE_RUNBOOKS_CODEC_KEYS_FILE']) expect(unitEnv[key]).toMatch(/^%d\//);
    const composeCodec = argv(compose.services[roles.codecServer].command);
    const unitCodec = exec(codec).slice(2);
    const flag = (args: string[], name: string) => {
      const i = args.indexOf(name);
      const end = args.findIndex((a, j) => j > i && a.startsWith('--'));
      return args.slice(i + 1, end === -1 ? undefined : end);
    };
    expect(unitCodec[0]).toBe('codec-server');
    expect(flag(unitCodec, '--allow-origin')).toEqual(flag(composeCodec, '--allow-origin'));
    expect(flag(unitCodec, '--port')).toEqual(flag(composeCodec, '--port'));
    // Loopback on the host; compose's 0.0.0.0 is inside the container, published on 127.0.0.1.
    expect(flag(unitCodec, '--host')).toEqual(['127.0.0.1']);
  });

  (haveAnalyze ? it : it.skip)('pass systemd-analyze verify, and fail it when broken', () => {
    const ok = spawnSync('systemd-analyze', ['verify', ...UNITS.map(unitPath)], { encoding: 'utf8' });
    expect({ status: ok.status, output: `${ok.stdout}${ok.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    const dir = mkdtempSync(path.join(tmpdir(), 'units-'));
    try {
      const broken = path.join(dir, 'pulse-runbooks-broken.service');
      writeFileSync(
        broken,
        readFileSync(unitPath(UNITS[0]), 'utf8')
          .replace('ProtectSystem=strict', 'ProtectSystm=strict')
          .replace('/usr/bin/node ', '/usr/bin/no-such-node '),
      );
      const bad = spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
      expect(`${bad.stdout}${bad.stderr}`).toMatch(/Unknown key 'ProtectSystm'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (haveAnalyze ? it : it.skip)('have a low exposure by systemd-analyze security (at most 2.0 of 10)', () => {
    for (const u of UNITS) {
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', unitPath(u)], {
        encoding: 'utf8',
      });
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1];
      expect({ unit: u, status: r.status, score: Number(score) <= 2.0 }).toEqual({ unit: u, status: 0, score: true });
    }
  });
});
