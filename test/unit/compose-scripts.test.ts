/**
 * The one-shot jobs of docker-compose.yml (deploy/scripts/*.sh), run for real with the shell of their entrypoint
 * and the environment the compose file gives them, against fake `temporal` and `temporal-sql-tool` programs that
 * keep their state in a temp directory and record every call. What a fake cannot show (the real admin-tools
 * image, a real PostgreSQL) is listed in deploy/README.md.
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

const root = path.resolve('.');
const scriptsDir = path.join(root, 'deploy', 'scripts');

interface Service {
  image?: string;
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean | null>;
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

/** The service whose entrypoint runs `script`, and its entrypoint's shell and environment. */
function job(script: string, vars: Record<string, string> = {}): { shell: string; env: Record<string, string> } {
  const found = Object.values(compose.services).filter((s) => s.entrypoint?.some((a) => a.endsWith(`/${script}`)));
  expect(found).toHaveLength(1);
  const [shell] = found[0].entrypoint!;
  const env = Object.fromEntries(
    Object.entries(found[0].environment ?? {}).map(([k, v]) => [
      k,
      // Compose's ${VAR:?msg} / ${VAR:-default}, resolved with the variables a test supplies.
      String(v ?? '').replace(
        /\$\{(\w+)(?::?[-?]([^}]*))?\}/g,
        (whole, name: string, fallback?: string) => vars[name] ?? (whole.includes(':-') ? (fallback ?? '') : ''),
      ),
    ]),
  );
  return { shell: path.basename(shell), env };
}

async function makeFake(dir: string, name: string, body: string): Promise<void> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}`);
  await chmod(file, 0o755);
}

/** A fake Temporal CLI with the behaviour the namespace job relies on; state lives in $FAKE_STATE. */
const FAKE_TEMPORAL = `
state="$FAKE_STATE"
printf '%s\\n' "$*" >> "$state/calls"
sub="$1 $2 $3"
ns=""; name=""; type=""
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns="$2"; shift ;;
    --name) name="$2"; shift ;;
    --type) type="$2"; shift ;;
  esac
  shift
done
# take COUNTER: succeeds (and counts down) while the named failure counter is above zero
take() {
  left=$(cat "$state/$1" 2>/dev/null || echo 0)
  [ "$left" -gt 0 ] || return 1
  echo $((left - 1)) > "$state/$1"
}
case "$sub" in
  "operator cluster health")
    if take health-failures; then echo 'failed reaching server: connection refused' >&2; exit 1; fi
    echo SERVING ;;
  "operator namespace describe")
    [ -f "$state/ns-$ns" ] || { echo "Namespace $ns is not found." >&2; exit 1; }
    echo "NamespaceInfo.Name  $ns" ;;
  "operator namespace create")
    [ -f "$state/ns-$ns" ] && { echo "Namespace $ns already exists." >&2; exit 1; }
    : > "$state/ns-$ns"
    echo "Namespace $ns successfully registered." ;;
  "operator search-attribute list")
    [ -f "$state/ns-$ns" ] || { echo "Namespace $ns is not found." >&2; exit 1; }
    if take list-failures; then echo "unable to list search attributes: Namespace $ns is not found." >&2; exit 1; fi
    echo '                 Name                    Type    '
    echo '  WorkflowId                          Keyword    '
    echo '  BinaryChecksums                     KeywordList'
    echo '  StartTime                           Datetime   '
    for f in "$state"/sa-*; do
      [ -f "$f" ] || continue
      printf '  %-36s%-11s\\n' "$(basename "$f" | cut -c4-)" "$(cat "$f")"
    done ;;
  "operator search-attribute create")
    if [ -f "$state/sa-$name" ] && [ "$(cat "$state/sa-$name")" != "$type" ]; then echo "$name exists with another type" >&2; exit 1; fi
    printf '%s' "$type" > "$state/sa-$name"
    echo 'Search attributes have been added' ;;
  *) echo "fake temporal: unexpected command: $sub" >&2; exit 64 ;;
esac
`;

/** A fake temporal-sql-tool: records its argv and whether it was given the password (through SQL_PASSWORD). */
const FAKE_SQL_TOOL = `
printf '%s|password:%s\\n' "$*" "$( [ "$SQL_PASSWORD" = "$EXPECTED_PASSWORD" ] && echo given || echo missing )" >> "$FAKE_STATE/calls"
case "$*" in
  *" create")
    left=$(cat "$FAKE_STATE/create-failures" 2>/dev/null || echo 0)
    if [ "$left" -gt 0 ]; then echo $((left - 1)) > "$FAKE_STATE/create-failures"; echo 'dial tcp: connection refused' >&2; exit 1; fi ;;
esac
exit 0
`;

describe('deploy/scripts', () => {
  let dir: string;
  let bin: string;
  let state: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'compose-scripts-'));
    bin = path.join(dir, 'bin');
    await mkdir(bin);
    await makeFake(bin, 'temporal', FAKE_TEMPORAL);
    await makeFake(bin, 'temporal-sql-tool', FAKE_SQL_TOOL);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    state = await mkdtemp(path.join(dir, 'state-'));
  });

  const calls = async () => (await readFile(path.join(state, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  async function run(script: string, shell: string, env: Record<string, string | undefined>) {
    return execa(shell, [path.join(scriptsDir, script)], {
      reject: false,
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_STATE: state, RETRY_DELAY_SECONDS: '0', MAX_ATTEMPTS: '5', ...env },
      extendEnv: false,
    });
  }

  it('every script is valid for bash -n and the POSIX sh of the admin-tools entrypoints', async () => {
    const scripts = (await readdir(scriptsDir)).filter((f) => f.endsWith('.sh'));
    expect(scripts.sort()).toEqual(['create-namespace.sh', 'retry.sh', 'setup-postgres.sh']);
    for (const s of scripts) {
      for (const shell of ['bash', 'sh']) {
        const r = await execa(shell, ['-n', path.join(scriptsDir, s)], { reject: false });
        expect({ s, shell, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ s, shell, exitCode: 0, stderr: '' });
      }
    }
  });

  it('the syntax check fails on a broken script', async () => {
    const broken = path.join(dir, 'broken.sh');
    await writeFile(broken, 'if true; then\n  echo missing fi\n');
    expect((await execa('bash', ['-n', broken], { reject: false })).exitCode).not.toBe(0);
  });

  describe('create-namespace.sh (the namespace job)', () => {
    const { shell, env } = job('create-namespace.sh');
    const address = { TEMPORAL_ADDRESS: '127.0.0.1:7233' };

    it.each(['sh', 'bash'])('waits for health, creates the namespace and registers SEARCH_ATTRIBUTES (%s)', async (sh) => {
      expect(shell).toBe('sh');
      await writeFile(path.join(state, 'health-failures'), '2');
      await writeFile(path.join(state, 'list-failures'), '1');
      const r = await run('create-namespace.sh', sh, { ...env, ...address });
      expect(r.stderr).toContain('done: namespace default with 6 search attributes');
      expect(r.exitCode).toBe(0);
      const log = await calls();
      // Two failed health checks were retried, not treated as fatal (the upstream typo made this exit).
      expect(log.filter((c) => c.startsWith('operator cluster health'))).toHaveLength(3);
      expect(log.filter((c) => c.startsWith('operator namespace create'))).toEqual([
        'operator namespace create --namespace default --retention 720h --address 127.0.0.1:7233',
      ]);
      const created = log.filter((c) => c.startsWith('operator search-attribute create'));
      expect(created).toEqual(
        SEARCH_ATTRIBUTES.map(
          (a) => `operator search-attribute create --namespace default --name ${a.name} --type ${a.type} --address 127.0.0.1:7233`,
        ),
      );
      for (const a of SEARCH_ATTRIBUTES) expect(await readFile(path.join(state, `sa-${a.name}`), 'utf8')).toBe(a.type);
      expect(log.every((c) => c.endsWith('--address 127.0.0.1:7233'))).toBe(true);
    });

    it('is idempotent: a second run creates nothing', async () => {
      expect((await run('create-namespace.sh', shell, { ...env, ...address })).exitCode).toBe(0);
      const first = (await calls()).length;
      const again = await run('create-namespace.sh', shell, { ...env, ...address });
      expect(again.exitCode).toBe(0);
      const second = (await calls()).slice(first);
      expect(second.filter((c) => / create /.test(c))).toEqual([]);
      expect(again.stderr).toContain('namespace default exists');
      expect(again.stderr).toContain('search attribute RunbookProcedure (Keyword) already registered');
    });

    it('fails after MAX_ATTEMPTS health checks when the server never becomes healthy, touching nothing', async () => {
      await writeFile(path.join(state, 'health-failures'), '100');
      const r = await run('create-namespace.sh', shell, { ...env, ...address, MAX_ATTEMPTS: '3' });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain('cluster health: still failing after 3 attempts');
      const log = await calls();
      expect(log).toHaveLength(3);
      expect(log.every((c) => c.startsWith('operator cluster health'))).toBe(true);
    });

    it('refuses a search attribute that exists with another type', async () => {
      await writeFile(path.join(state, 'ns-default'), '');
      await writeFile(path.join(state, 'sa-RunbookStatus'), 'Text');
      const r = await run('create-namespace.sh', shell, { ...env, ...address });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('search attribute RunbookStatus is registered with another type than Keyword');
    });

    it('refuses a malformed attribute list and a missing one, before calling the server', async () => {
      const bad = await run('create-namespace.sh', shell, {
        ...address,
        PULSE_RUNBOOKS_SEARCH_ATTRIBUTES: 'Good=Keyword bad-name=Keyword',
      });
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain("'bad-name' is not a search attribute name");
      const wrongType = await run('create-namespace.sh', shell, { ...address, PULSE_RUNBOOKS_SEARCH_ATTRIBUTES: 'Good=String' });
      expect(wrongType.stderr).toContain("'String' (for Good) is not a search attribute type");
      const missing = await run('create-namespace.sh', shell, { ...address });
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toContain('PULSE_RUNBOOKS_SEARCH_ATTRIBUTES');
      expect(await calls()).toEqual([]);
    });
  });

  describe('setup-postgres.sh (the schema job)', () => {
    const password = 'pw-for-test-only';
    const { shell, env } = job('setup-postgres.sh', { POSTGRES_PASSWORD: password });
    let schemaRoot: string;

    beforeAll(async () => {
      schemaRoot = path.join(dir, 'schema');
      for (const d of ['temporal', 'visibility']) await mkdir(path.join(schemaRoot, d, 'versioned'), { recursive: true });
    });

    it('creates and migrates both databases in order, the password only in SQL_PASSWORD', async () => {
      await writeFile(path.join(state, 'create-failures'), '1');
      const r = await run('setup-postgres.sh', shell, { ...env, SCHEMA_ROOT: schemaRoot, EXPECTED_PASSWORD: password });
      expect(r.stderr).toContain('[setup-postgres] done');
      expect(r.exitCode).toBe(0);
      const common = '--plugin postgres12 --ep postgresql -u temporal -p 5432';
      const step = (db: string, rest: string) => `${common} --db ${db} ${rest}|password:given`;
      expect(await calls()).toEqual([
        step('temporal', 'create'), // refused once (the database not accepting yet), then retried
        step('temporal', 'create'),
        step('temporal', 'setup-schema -v 0.0'),
        step('temporal', `update-schema -d ${schemaRoot}/temporal/versioned`),
        step('temporal_visibility', 'create'),
        step('temporal_visibility', 'setup-schema -v 0.0'),
        step('temporal_visibility', `update-schema -d ${schemaRoot}/visibility/versioned`),
      ]);
      expect((await calls()).join('\n')).not.toContain(password);
    });

    it('fails without the password, and with a schema directory that does not match the image', async () => {
      const noPassword = await run('setup-postgres.sh', shell, { ...env, SQL_PASSWORD: '', SCHEMA_ROOT: schemaRoot });
      expect(noPassword.exitCode).not.toBe(0);
      expect(noPassword.stderr).toContain('SQL_PASSWORD');
      const wrongRoot = await run('setup-postgres.sh', shell, { ...env, SCHEMA_ROOT: path.join(dir, 'nope') });
      expect(wrongRoot.exitCode).toBe(1);
      expect(wrongRoot.stderr).toContain(`schema directory ${path.join(dir, 'nope')}/temporal/versioned is missing`);
      expect(await calls()).toEqual([]);
    });
  });
});
