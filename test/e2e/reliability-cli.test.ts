/**
 * Issue 13: the defects a new user hit at the command line, each reproduced the way it was found and kept fixed.
 * The real program (`node bin/pulse-runbook.js`) where Node itself is part of the story (defect 1), the real entry
 * point in one process (bench/support/cli-in-process.ts) for refusals that end before Temporal is contacted, and a
 * real Temporal dev server, worker and emulator for the rest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCliCases } from '../../bench/support/cli-in-process.js';
import { pulseWithConnections, temporalAddress, temporalHarness, type PulseFixture, type TemporalHarness } from '../support/e2e.js';

const bin = path.resolve('bin/pulse-runbook.js');

/** Temporary directories of this file, removed at the end. */
const made: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function realCli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [bin, ...args], { reject: false, env: { PULSE_URL: '', PULSE_TOKEN: '', ...env }, timeout: 120_000 });
}

async function deadTemporal(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

describe('defect 1: the env file flag is one Node never takes', () => {
  it('Node 20 intercepts --env-file even after the script name: exit 9 before the CLI runs (why the flag was renamed)', async () => {
    const script = path.join(tempDir('node-env-file-'), 'any.mjs');
    writeFileSync(script, 'console.log("ran")');
    const after = await execa(process.execPath, [script, '--env-file', '/nonexistent/pulse/.env'], { reject: false });
    // On Node versions that no longer intercept it the script runs; on 20.x it exits 9 with Node's own message.
    if (after.exitCode === 9) expect(after.stderr).toContain('/nonexistent/pulse/.env: not found');
    else expect(after.stdout).toBe('ran');
  });

  it('--flag-env-file reaches the CLI even for a file that does not exist yet; the old spelling gets the new name', async () => {
    const temporal = await deadTemporal();
    const missing = path.join(tempDir('flag-env-'), 'not-yet', '.env');
    const renamed = await realCli(['disable', '--pulse-url', 'http://127.0.0.1:9', '--flag-env-file', missing, '--plan'], {
      TEMPORAL_ADDRESS: temporal,
    });
    expect(renamed.exitCode).toBe(2);
    expect(renamed.stderr).toContain(`Temporal at ${temporal} is not reachable`);
    expect(renamed.stderr).not.toContain('not found');

    const existing = path.join(tempDir('flag-env-'), 'pulse.env');
    writeFileSync(existing, 'PULSE_ENABLE_TRUENAS=true\n');
    const old = await realCli(['disable', '--pulse-url', 'http://127.0.0.1:9', '--env-file', existing, '--plan'], {
      TEMPORAL_ADDRESS: temporal,
    });
    if (old.exitCode !== 9) {
      expect(old.exitCode).toBe(2);
      expect(old.stderr).toContain('--env-file: renamed to --flag-env-file');
    }
    const help = await realCli(['enable', '--help']);
    expect(help.stdout).toContain('--flag-env-file <path>');
    expect(help.stdout).toContain('Do not type --env-file: Node reads that option itself');
    expect(readFileSync(path.resolve('README.md'), 'utf8')).toContain('--flag-env-file');
  });
});

describe('defects 3, 5, 8: refusals that name the flag and the fix, and repeat no secret', () => {
  const token = `f${randomBytes(31).toString('hex')}`; // 64 hex characters, identifier-shaped: what Pulse tokens look like
  let results: Awaited<ReturnType<typeof runCliCases>>;
  let temporal: string;
  beforeAll(async () => {
    temporal = await deadTemporal();
    const env = { TEMPORAL_ADDRESS: temporal };
    results = await runCliCases([
      { args: ['kill-switch', '--pulse-url', 'http://127.0.0.1:9', '--token-env', token, '--plan'], env },
      { args: ['kill-switch', '--pulse-url', `http://127.0.0.1:9/?apitoken=${token}`, '--plan'], env },
      { args: ['kill-switch', '--pulse-url', 'http://127.0.0.1:9/pulse/api', '--plan'], env },
      { args: ['kill-switch', '--pulse-url', 'http://127.0.0.1:9/#frag', '--plan'], env },
      { args: ['kill-switch', '--bogus-flag'], env },
      { args: ['kill-swtich'], env },
      { args: ['kill-switch', 'extra-argument'], env },
      { args: ['kill-switch', `--token=${token}`], env },
      { args: ['incident', 'open', '--title', 'x', '--impact', 'cosmetic', '--webhook', `ops=https://bot:${token}@hooks.example/x`], env },
      { args: ['enable', '--pulse-url', 'http://127.0.0.1:9', '--connection-host', 'nas.local', '--api-key-env', token], env },
    ]);
  });

  it('defect 3: a token given to --token-env is refused as a name, and never printed', () => {
    const r = results[0];
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--token-env / PULSE_TOKEN_ENV: looks like the token itself, not the name of a variable');
    expect(r.stderr).toContain('export PULSE_TOKEN=');
    expect(r.stderr + r.stdout).not.toContain(token);
    // Same for the TrueNAS key's reference.
    expect(results[9].exitCode).toBe(2);
    expect(results[9].stderr).toContain('--api-key-env: looks like the TrueNAS API key itself');
    expect(results[9].stderr).not.toContain(token);
  });

  it('defect 5: a --pulse-url with a query, path or fragment is refused (the query is never repeated)', () => {
    const [query, withPath, fragment] = results.slice(1, 4);
    for (const r of [query, withPath, fragment]) expect(r.exitCode).toBe(2);
    expect(query.stderr).toContain('--pulse-url / PULSE_URL: must not have a query');
    expect(query.stderr).not.toContain(token);
    expect(withPath.stderr).toContain('--pulse-url / PULSE_URL: must be the base URL without a path (got the path /pulse/api)');
    expect(withPath.stderr).toContain('give e.g. http://127.0.0.1:9');
    expect(fragment.stderr).toContain('must not have a fragment');
  });

  it('defect 8: unknown option, command and extra argument are bad input (exit 2) with the way to the help; --token=VALUE is not echoed', () => {
    const [option, command, extra, echoed] = results.slice(4, 8);
    for (const r of [option, command, extra, echoed]) expect(r.exitCode).toBe(2);
    expect(option.stderr).toContain("unknown option '--bogus-flag'");
    expect(option.stderr).toContain('see `pulse-runbook kill-switch --help`');
    expect(command.stderr).toContain("unknown command 'kill-swtich'");
    expect(command.stderr).toMatch(/Did you mean kill-switch\?/);
    expect(extra.stderr).toContain("too many arguments for 'kill-switch'");
    expect(echoed.stderr).toContain("unknown option '--token=<hidden>'");
    expect(echoed.stderr).not.toContain(token);
  });

  it('defect 8: a webhook URL with credentials is refused with the way to pass it by reference', () => {
    const r = results[8];
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('incident open --webhook / --webhook-env');
    expect(r.stderr).toContain('must not contain a user or password');
    expect(r.stderr).toContain('--webhook-env name=ENV_VAR');
    expect(r.stderr).not.toContain(token);
  });
});

describe('with a worker: one procedure per Pulse, the report file mode', () => {
  let temporal: TemporalHarness;
  let fx: PulseFixture;
  beforeAll(async () => {
    temporal = await temporalHarness();
    fx = await pulseWithConnections(2);
  });
  afterAll(async () => {
    await fx?.stop();
    await temporal?.close();
  });

  const env = () => ({ TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue, [fx.tokenEnv]: fx.token });

  it('defect 7: two kill-switches started at once on one Pulse make one run and one incident record; another procedure is refused with its id', async () => {
    // A 12 s tick: the Data Cleanup below is a new CLI process (a few seconds to start on a loaded machine) and must
    // find the Kill-Switch still running.
    const flags = [
      '--pulse-url',
      fx.emulator.url,
      '--token-env',
      fx.tokenEnv,
      '--tick-seconds',
      '12',
      '--stale-seconds',
      '10',
      '--verify-every-seconds',
      '0.5',
    ];
    const workflowId = `kill-switch@127.0.0.1:${new URL(fx.emulator.url).port}`;
    const dataDir = tempDir('busy-cleanup-');
    const [a, b, refused] = await temporal.withWorker(async () => {
      const first = realCli(['kill-switch', ...flags], env());
      const second = realCli(['kill-switch', ...flags], env());
      // While they run, a Data Cleanup on the same Pulse is refused, naming the kill-switch. The runs start after their
      // preflight (issue 15), so wait for the run to exist rather than for a fixed time.
      for (let i = 0; i < 300; i++) {
        const running = await temporal.client.workflow
          .getHandle(workflowId)
          .describe()
          .then(
            (d) => d.status.name === 'RUNNING',
            () => false,
          );
        if (running) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const cleanup = await realCli(['cleanup', '--pulse-url', fx.emulator.url, '--token-env', fx.tokenEnv, '--data-dir', dataDir], env());
      return [await first, await second, cleanup];
    });
    for (const r of [a, b]) {
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`workflow ${workflowId}`);
      expect(r.stdout).toContain('Kill-Switch complete: 2 deleted, 0 already gone');
    }
    expect([a.stderr, b.stderr].filter((e) => e.includes('kill-switch is already running on')).length).toBe(1);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain(`refused: kill-switch ${workflowId} (run `);
    expect(refused.stderr).toContain(`pulse-runbook follow ${workflowId}`);

    const runs = [];
    for await (const run of temporal.client.workflow.list({ query: `TaskQueue = "${temporal.taskQueue}"` })) runs.push(run);
    expect(runs.filter((r) => r.type === 'killSwitch')).toHaveLength(1);
    expect(runs.filter((r) => r.type === 'incident')).toHaveLength(1);
    expect(runs.filter((r) => r.type === 'dataCleanup')).toHaveLength(0);
    const deletes = (await fx.emulator.control.requests()).filter((q) => q.method === 'DELETE');
    expect(deletes.map((d) => d.status)).toEqual([200, 200]);
  });

  it('defect 8: incident report --out writes the report owner-only (0600)', async () => {
    const out = path.join(tempDir('report-'), 'incident.md');
    writeFileSync(out, 'an older report', { mode: 0o644 });
    const id = `report-mode-${Date.now()}`;
    const [opened, report] = await temporal.withWorker(async () => {
      const o = await realCli(['incident', 'open', '--plan', '--id', id, '--title', 'report mode', '--impact', 'cosmetic'], env());
      return [o, await realCli(['incident', 'report', id, '--out', out], env())];
    });
    expect(opened.exitCode).toBe(0);
    expect(report.stderr).toBe('');
    expect(report.exitCode).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toContain('report mode');
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).not.toBe(
      createHash('sha256').update('an older report').digest('hex'),
    );
  });
});
