/**
 * docker-compose.yml, the Dockerfile and .dockerignore, checked as far as a machine without a Docker engine can:
 * the compose file is parsed with `yaml` and checked for pinned images, the start order, secrets, the search
 * attributes the namespace job registers, the addresses the worker uses (through the project's own settings
 * code), the payload key file the worker and the codec server share, the codec endpoint the UI is given, the
 * files it mounts, and the image the worker is built from (compiled in a build stage: the image ships production
 * dependencies, bin/ and dist/, and runs dist/, never the sources through tsx). Each checker is also shown to fail on a broken copy,
 * so a check that cannot fail is caught here too. What `docker compose config` checks of the variables (every one
 * resolved, the required ones refused when unset, with their messages) is checked here by the same interpolation;
 * the `docker compose config` test itself runs only where the compose plugin is installed (not on these machines).
 * The deploy/ scripts' behaviour is tested in compose-scripts.test.ts; the codec server run with the compose
 * file's command line in compose-codec.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parseDocument } from 'yaml';
import { DEFAULT_BUNDLE_PATH } from '../../scripts/build-workflow-bundle.js';
import { CODEC_KEYS_FILE_ENV } from '../../src/config/codec.js';
import { resolveCodecKeysFile } from '../../src/temporal/codec-key-file.js';
import { resolvePulseTarget, resolveTemporalSettings } from '../../src/config/load.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { interpolate } from '../../src/production/compose-plan.js';

const root = path.resolve('.');
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

// ---------------------------------------------------------------------------------------------------------
// The compose file as data

interface DependsOn {
  condition?: string;
}
interface Service {
  image?: string;
  pull_policy?: string;
  build?: { context?: string; dockerfile?: string; target?: string } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  depends_on?: Record<string, DependsOn> | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | { host_ip?: string; target?: number; published?: string | number }>;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  secrets?: Array<string | { source: string; target?: string }>;
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; environment?: string; content?: string }>;
}

function loadYaml<T>(text: string, what: string): T {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS() as T;
}

const composeText = read('docker-compose.yml');
const loadCompose = (): ComposeFile => loadYaml<ComposeFile>(composeText, 'docker-compose.yml');

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `$VAR`, and `$$`. */
const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * The compose file as `docker compose config` resolves it with `env`: `missing` are the required variables it
 * would refuse to run without (with their messages), `unset` the ones used without a default, which compose warns
 * of and replaces with an empty string.
 */
function composeConfig(
  text: string,
  env: Record<string, string | undefined>,
): { compose: ComposeFile; missing: string[]; unset: string[] } {
  const missing: string[] = [];
  const unset: string[] = [];
  const resolve = (value: string) =>
    value.replace(VARIABLE, (whole, braced: string | undefined, op: string | undefined, arg = '', bare: string | undefined) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const value = env[name];
      const present = op?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (op?.replace(':', '')) {
        case '-':
          return present ? (value as string) : arg;
        case '?':
          if (!present) missing.push(`${name}: ${arg}`);
          return value ?? '';
        case '+':
          return present ? arg : '';
        default:
          if (value === undefined) unset.push(name);
          return value ?? '';
      }
    });
  const walk = (node: unknown): unknown =>
    typeof node === 'string'
      ? resolve(node)
      : Array.isArray(node)
        ? node.map(walk)
        : node && typeof node === 'object'
          ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]))
          : node;
  const compose = walk(loadYaml<ComposeFile>(text, 'docker-compose.yml')) as ComposeFile;
  return { compose, missing, unset: [...new Set(unset)] };
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function dependsOf(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v?.condition ?? 'service_started']));
}

const argvOf = (v: string[] | string | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/));

/** The one service that plays a role; a role played by none or by two services is a broken file. */
function serviceWith(compose: ComposeFile, role: string, test: (s: Service) => boolean): string {
  const names = Object.entries(compose.services)
    .filter(([, s]) => test(s))
    .map(([n]) => n);
  if (names.length !== 1) throw new Error(`expected one ${role} service, found ${names.length} (${names.join(', ')})`);
  return names[0];
}

const isAdminJob = (script: string) => (s: Service) =>
  (s.image ?? '').startsWith('temporalio/admin-tools:') && argvOf(s.entrypoint).some((a) => a.endsWith(`/${script}`));

function roles(compose: ComposeFile) {
  return {
    database: serviceWith(compose, 'PostgreSQL', (s) => (s.image ?? '').startsWith('postgres:')),
    schemaJob: serviceWith(compose, 'schema job', isAdminJob('setup-postgres.sh')),
    server: serviceWith(compose, 'Temporal server', (s) => (s.image ?? '').startsWith('temporalio/server:')),
    namespaceJob: serviceWith(compose, 'namespace job', isAdminJob('create-namespace.sh')),
    ui: serviceWith(compose, 'Temporal UI', (s) => (s.image ?? '').startsWith('temporalio/ui:')),
    worker: serviceWith(compose, 'worker', (s) => s.build !== undefined),
    codecServer: serviceWith(compose, 'codec server', (s) => argvOf(s.command)[0] === 'codec-server'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checkers: each returns the problems it finds, so a test can show it fails on a broken file

function imageProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(compose.services)) {
    if (!s.image) {
      problems.push(`${name}: no image (a built service also needs a pinned image name:tag)`);
      continue;
    }
    const m = /^([a-z0-9./_-]+):([A-Za-z0-9._-]+)$/.exec(s.image);
    if (!m) problems.push(`${name}: image ${s.image} has no literal tag`);
    else if (m[2] === 'latest') problems.push(`${name}: image ${s.image} uses latest`);
  }
  return problems;
}

const REQUIRED_VAR = /^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$/;
const SECRET_NAME = /(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CODEC_KEYS?|CREDENTIALS?)(_FILE)?$/i;

function secretProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(envOf(s))) {
      if (!SECRET_NAME.test(key)) continue;
      const isFileRef = /_FILE$/i.test(key) && value.startsWith('/run/secrets/');
      if (!isFileRef && !REQUIRED_VAR.test(value)) {
        problems.push(`${name}: ${key} must come from a required variable (\${VAR:?...}) or /run/secrets, not "${value}"`);
      }
    }
    for (const arg of [...argvOf(s.command), ...argvOf(s.entrypoint)]) {
      if (/^--?(pw|password)\b/i.test(arg)) problems.push(`${name}: a password flag on the command line (${arg})`);
    }
  }
  for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
    if (secret.content !== undefined) problems.push(`secret ${name}: literal content`);
    if (secret.file !== undefined && !REQUIRED_VAR.test(secret.file)) {
      problems.push(`secret ${name}: file ${secret.file} must be a required variable so no default file is used`);
    }
  }
  return problems;
}

const ONE_SHOT_RESTARTS = new Set([undefined, 'no', 'on-failure']);

function startOrderProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const names = new Set(Object.keys(compose.services));
  for (const [name, s] of Object.entries(compose.services)) {
    for (const dep of Object.keys(dependsOf(s))) if (!names.has(dep)) problems.push(`${name} depends on unknown ${dep}`);
  }
  let r: ReturnType<typeof roles>;
  try {
    r = roles(compose);
  } catch (err) {
    return [...problems, (err as Error).message];
  }
  const want: Array<[string, string, string]> = [
    [r.schemaJob, r.database, 'service_healthy'],
    [r.server, r.schemaJob, 'service_completed_successfully'],
    [r.namespaceJob, r.server, 'service_healthy'],
    [r.ui, r.namespaceJob, 'service_completed_successfully'],
    [r.worker, r.namespaceJob, 'service_completed_successfully'],
  ];
  for (const [from, to, condition] of want) {
    const got = dependsOf(compose.services[from])[to];
    if (got !== condition) problems.push(`${from} must wait for ${to} with ${condition}, has ${got ?? 'nothing'}`);
  }
  // A job that compose restarts forever never "completes successfully": the services after it would never start.
  for (const job of [r.schemaJob, r.namespaceJob]) {
    const restart = compose.services[job].restart?.replace(/:\d+$/, '');
    if (!ONE_SHOT_RESTARTS.has(restart)) problems.push(`${job} is a one-shot job but restarts "${restart}"`);
  }
  // No cycles (compose would refuse to start).
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    if (state.get(n) === 'done' || !compose.services[n]) return;
    if (state.get(n) === 'visiting') {
      problems.push(`dependency cycle: ${[...trail, n].join(' -> ')}`);
      return;
    }
    state.set(n, 'visiting');
    for (const d of Object.keys(dependsOf(compose.services[n]))) visit(d, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of names) visit(n, []);
  return problems;
}

/** Where a container path comes from on the host, through the service's bind mounts ("./x:/y[:ro]"). */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  for (const v of service.volumes ?? []) {
    if (typeof v !== 'string' || !v.startsWith('.')) continue;
    const [src, target] = v.split(':');
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return path.join(root, src, containerPath.slice(target.length));
    }
  }
  return undefined;
}

/** The value after a flag in an argv, and every value of a variadic flag (up to the next --flag). */
function flagValues(argv: string[], flag: string): string[] {
  const at = argv.indexOf(flag);
  if (at < 0) return [];
  const values: string[] = [];
  for (const a of argv.slice(at + 1)) {
    if (a.startsWith('--')) break;
    values.push(a);
  }
  return values;
}

/** The host address ("127.0.0.1:8080") a service publishes a container port on. */
function publishedAt(service: Service, containerPort: string): string | undefined {
  for (const p of service.ports ?? []) {
    if (typeof p !== 'string') continue;
    const parts = p.split(':');
    if (parts.length === 3 && parts[2] === containerPort) return `${parts[0]}:${parts[1]}`;
  }
  return undefined;
}

/**
 * The Web UI's browser calls TEMPORAL_CODEC_ENDPOINT itself: it must be where the codec server is published, the
 * codec server must listen beyond its container's loopback, and it must allow the origin the UI is opened at.
 */
function codecEndpointProblems(compose: ComposeFile): string[] {
  let r: ReturnType<typeof roles>;
  try {
    r = roles(compose);
  } catch (err) {
    return [(err as Error).message];
  }
  const problems: string[] = [];
  const argv = argvOf(compose.services[r.codecServer].command);
  const host = flagValues(argv, '--host')[0];
  if (host !== '0.0.0.0')
    problems.push(
      `${r.codecServer} listens on ${host ?? '127.0.0.1 (the default)'} inside its container: other containers and the published port cannot reach it; give --host 0.0.0.0`,
    );
  const port = flagValues(argv, '--port')[0] ?? '8888';
  const published = publishedAt(compose.services[r.codecServer], port);
  const endpoint = envOf(compose.services[r.ui]).TEMPORAL_CODEC_ENDPOINT;
  if (!published) problems.push(`${r.codecServer} does not publish its port ${port}`);
  if (endpoint === undefined || endpoint === '') problems.push(`${r.ui}: TEMPORAL_CODEC_ENDPOINT is not set: the UI would show ciphertext`);
  else if (published && endpoint.replace(/\/+$/, '') !== `http://${published}`) {
    problems.push(`${r.ui}: TEMPORAL_CODEC_ENDPOINT ${endpoint} is not the codec server's published address http://${published}`);
  }
  const ui = publishedAt(compose.services[r.ui], '8080');
  const origins = flagValues(argv, '--allow-origin');
  if (ui && !origins.includes(`http://${ui}`))
    problems.push(`${r.codecServer} does not allow the UI's origin http://${ui} (--allow-origin ${origins.join(' ') || '(none)'})`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// The Dockerfile as data

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fm) throw new Error(`cannot read FROM ${rest}`);
      const from = fm[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
      stages.push({ name: fm[2], from, instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k] = v ?? '';
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

/** The stage and every stage it is built FROM, nearest first. */
function stageChain(stages: Stage[], target: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === target);
  while (current) {
    chain.push(current);
    const base = current.from;
    current = stages.find((s) => s.name === base);
  }
  return chain;
}

/** The last value of an instruction in effect for a target (its own stage first, then the stages below it). */
function effective(chain: Stage[], op: string): string | undefined {
  for (const stage of chain) {
    const found = stage.instructions.filter((i) => i.op === op);
    if (found.length > 0) return found[found.length - 1].args;
  }
  return undefined;
}

function envFrom(chain: Stage[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const stage of [...chain].reverse()) {
    for (const i of stage.instructions.filter((x) => x.op === 'ENV')) {
      for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
    }
  }
  return env;
}

const GLIBC_DISTRO = /(bookworm|bullseye|trixie|buster|jammy|noble|focal)/;

function baseImageProblems(stages: Stage[]): string[] {
  const problems: string[] = [];
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    if (names.has(s.from)) continue;
    const [image, tag] = s.from.split(':');
    if (!tag) problems.push(`${s.name ?? s.from}: base ${s.from} has no tag`);
    else if (tag === 'latest') problems.push(`${s.name ?? s.from}: base ${s.from} uses latest`);
    if (/alpine|musl/i.test(s.from)) problems.push(`${s.name ?? s.from}: base ${s.from} is musl-based; the SDK's native core needs glibc`);
    else if (!GLIBC_DISTRO.test(tag ?? '') && !/^(debian|ubuntu)$/.test(image)) {
      problems.push(`${s.name ?? s.from}: base ${s.from} does not name a glibc distribution (e.g. -bookworm)`);
    }
  }
  return problems;
}

interface CopyInstruction {
  from?: string;
  sources: string[];
  dest: string;
}

function copiesOf(stage: Stage): CopyInstruction[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.trim().split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
    });
}

/** What scripts/build.mjs reads: tsconfig.build.json's inputs, the tsconfig it extends, and the build's own scripts. */
function buildInputs(): string[] {
  const buildConfig = JSON.parse(read('tsconfig.build.json')) as { extends: string; include: string[] };
  return [
    'package.json',
    'package-lock.json',
    'tsconfig.build.json',
    path.posix.normalize(buildConfig.extends),
    ...buildConfig.include,
    'scripts/build.mjs',
    'bin/build-freshness.mjs',
  ];
}

/**
 * The image runs compiled JavaScript: its stages hold no TypeScript source (so bin/pulse-runbook.js takes dist/, see
 * bin/build-freshness.mjs), node_modules comes from a production-only install, and dist/ from a stage that installs
 * every dependency and runs scripts/build.mjs on everything that build reads.
 */
function compiledImageProblems(stages: Stage[], target: string): string[] {
  const problems: string[] = [];
  const chain = stageChain(stages, target);
  const workdir = effective(chain, 'WORKDIR') ?? '/';
  const copies = chain.flatMap(copiesOf);
  const sourceDirs = ['src', 'workflows', 'activities'];
  for (const c of copies.filter((x) => !x.from)) {
    for (const src of c.sources) {
      if (sourceDirs.includes(src.split('/')[0]) || src.endsWith('.ts'))
        problems.push(`${target} ships the source ${src}: the image must run dist/, not the sources through tsx`);
    }
  }
  const stageOf = (name: string | undefined) => (name ? stageChain(stages, name) : []);
  const runsOf = (chainOf: Stage[]) => chainOf.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
  const into = (c: CopyInstruction, dir: string) => path.posix.resolve(workdir, c.dest) === path.posix.join(workdir, dir);

  const modules = copies.find((c) => into(c, 'node_modules'));
  if (!modules?.from) problems.push(`${target} does not copy node_modules from an install stage`);
  else if (!runsOf(stageOf(modules.from)).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)))
    problems.push(`${target}'s node_modules (from ${modules.from}) is not a production-only install (npm ci --omit=dev)`);

  const dist = copies.find((c) => into(c, 'dist'));
  if (!dist?.from) {
    problems.push(`${target} does not copy dist/ from a build stage`);
    return problems;
  }
  const build = stageOf(dist.from);
  const buildDir = effective(build, 'WORKDIR') ?? '/';
  if (dist.sources.map((src) => path.posix.resolve(buildDir, src)).join() !== path.posix.join(buildDir, 'dist'))
    problems.push(`${target} copies ${dist.sources.join(' ')} from ${dist.from}, not the dist/ it builds`);
  const runs = runsOf(build);
  const builds = runs.findIndex((r) => /\bnode scripts\/build\.mjs\b|\bnpm run build\b/.test(r));
  if (builds < 0) problems.push(`${dist.from} does not run scripts/build.mjs (npm run build)`);
  const install = runs.findIndex((r) => /\bnpm ci\b/.test(r));
  if (install < 0 || /--omit=dev/.test(runs[install]) || (builds >= 0 && install > builds))
    problems.push(`${dist.from} does not install every dependency (TypeScript is a devDependency) before it builds`);
  const copied = build.flatMap(copiesOf).filter((c) => !c.from);
  for (const input of buildInputs()) {
    const found = copied.some((c) =>
      c.sources.some((src) => {
        const dest = c.dest.endsWith('/') || c.sources.length > 1 ? path.posix.join(c.dest, path.posix.basename(src)) : c.dest;
        return path.posix.resolve(buildDir, dest) === path.posix.join(buildDir, input) && src === input;
      }),
    );
    if (!found) problems.push(`${dist.from} does not copy ${input}, which the build reads`);
  }
  return problems;
}

/** .dockerignore matching: the last matching pattern wins, and a pattern that matches a directory covers its contents. */
function dockerignoreIncludes(patterns: string[], file: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^$()|[\]{}]/g, '\\$&')
        .replace(/\*\*\//g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        // eslint-disable-next-line no-control-regex -- NUL is the placeholder for `**/` put in above
        .replace(/\u0000/g, '(?:.*/)?')}$`,
    );
  const parts = file.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const re = toRegex((negated ? raw.slice(1) : raw).replace(/\/$/, ''));
    if (prefixes.some((p) => re.test(p))) included = negated;
  }
  return included;
}

// ---------------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const r = roles(compose);

  it('parses as YAML without duplicate keys and has the expected services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [r.database, r.schemaJob, r.server, r.namespaceJob, r.ui, r.worker, r.codecServer].sort(),
    );
  });

  it('pins every image to a tag other than latest (server and admin-tools 1.30.1, UI 2.42.1, PostgreSQL 16)', () => {
    expect(imageProblems(compose)).toEqual([]);
    const image = (n: string) => compose.services[n].image;
    expect(image(r.server)).toBe('temporalio/server:1.30.1');
    expect(image(r.schemaJob)).toBe('temporalio/admin-tools:1.30.1');
    expect(image(r.namespaceJob)).toBe(image(r.schemaJob));
    expect(image(r.ui)).toBe('temporalio/ui:2.42.1');
    expect(image(r.database)).toBe('postgres:16');
  });

  it('the image check fails on an untagged or latest image', () => {
    const broken = loadCompose();
    broken.services[r.database].image = 'postgres';
    broken.services[r.ui].image = 'temporalio/ui:latest';
    expect(imageProblems(broken)).toEqual([expect.stringContaining('no literal tag'), expect.stringContaining('uses latest')]);
  });

  it('starts in order: database -> schema job -> server -> namespace job -> UI and worker', () => {
    expect(startOrderProblems(compose)).toEqual([]);
  });

  it('the start-order check fails when the worker does not wait for the namespace job or a job restarts forever', () => {
    const broken = loadCompose();
    broken.services[r.worker].depends_on = { [r.namespaceJob]: { condition: 'service_started' } };
    broken.services[r.namespaceJob].restart = 'unless-stopped';
    broken.services[r.ui].depends_on = { [r.server]: { condition: 'service_healthy' }, ghost: { condition: 'service_started' } };
    const problems = startOrderProblems(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        `${r.ui} depends on unknown ghost`,
        expect.stringContaining(`${r.worker} must wait for ${r.namespaceJob} with service_completed_successfully, has service_started`),
        expect.stringContaining(`${r.ui} must wait for ${r.namespaceJob}`),
        expect.stringContaining(`${r.namespaceJob} is a one-shot job but restarts "unless-stopped"`),
      ]),
    );
  });

  it('the start-order check finds a cycle', () => {
    const broken = loadCompose();
    broken.services[r.database].depends_on = { [r.worker]: { condition: 'service_started' } };
    expect(startOrderProblems(broken)).toEqual(expect.arrayContaining([expect.stringMatching(/^dependency cycle: /)]));
  });

  it('holds no secret: passwords come from required variables, the Pulse token and the payload keys from Docker secrets', () => {
    expect(secretProblems(compose)).toEqual([]);
    // The database password is required wherever it is used, and has no fallback value.
    expect(envOf(compose.services[r.database]).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(envOf(compose.services[r.server]).POSTGRES_PWD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(envOf(compose.services[r.schemaJob]).SQL_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(composeText).not.toMatch(/\$\{[A-Z_]*(PASSWORD|TOKEN|SECRET)[A-Z_]*:?-/);
    expect(compose.secrets?.pulse_token?.file).toMatch(/^\$\{PULSE_TOKEN_FILE:\?/);
    expect(compose.secrets?.codec_keys?.file).toMatch(/^\$\{PULSE_RUNBOOKS_CODEC_KEYS_FILE:\?/);
  });

  it('the secret check fails on a payload key file given as a path of its own or with a default', () => {
    const broken = loadCompose();
    (broken.services[r.worker].environment as Record<string, string>)[CODEC_KEYS_FILE_ENV] = '/etc/pulse-runbooks/codec-keys.json';
    broken.secrets!.codec_keys = { file: '${PULSE_RUNBOOKS_CODEC_KEYS_FILE:-./codec-keys.json}' };
    expect(secretProblems(broken)).toEqual([
      expect.stringContaining(`${r.worker}: ${CODEC_KEYS_FILE_ENV} must come from a required variable`),
      expect.stringContaining('secret codec_keys: file ${PULSE_RUNBOOKS_CODEC_KEYS_FILE:-./codec-keys.json} must be a required variable'),
    ]);
  });

  it('the secret check fails on a literal or defaulted password and on literal secret content', () => {
    const broken = loadCompose();
    (broken.services[r.database].environment as Record<string, string>).POSTGRES_PASSWORD = 'temporal';
    (broken.services[r.server].environment as Record<string, string>).POSTGRES_PWD = '${POSTGRES_PASSWORD:-temporal}';
    broken.services[r.worker].environment = ['PULSE_TOKEN=abc123'];
    broken.secrets = { pulse_token: { content: 'abc123' } };
    expect(secretProblems(broken)).toEqual([
      expect.stringContaining(`${r.database}: POSTGRES_PASSWORD`),
      expect.stringContaining(`${r.server}: POSTGRES_PWD`),
      expect.stringContaining(`${r.worker}: PULSE_TOKEN`),
      'secret pulse_token: literal content',
    ]);
  });

  it('interpolates like compose: without POSTGRES_PASSWORD, PULSE_TOKEN_FILE or PULSE_RUNBOOKS_CODEC_KEYS_FILE the file is refused with a message', () => {
    const db = envOf(compose.services[r.database]);
    expect(() => interpolate(db.POSTGRES_PASSWORD, {})).toThrow(/required variable POSTGRES_PASSWORD: set POSTGRES_PASSWORD/);
    expect(interpolate(db.POSTGRES_PASSWORD, { POSTGRES_PASSWORD: 's3cret' })).toBe('s3cret');
    expect(() => interpolate(compose.secrets!.pulse_token.file!, {})).toThrow(/required variable PULSE_TOKEN_FILE/);
    expect(() => interpolate(compose.secrets!.codec_keys.file!, {})).toThrow(
      /required variable PULSE_RUNBOOKS_CODEC_KEYS_FILE: .*codec keygen/,
    );
    expect(interpolate(compose.secrets!.codec_keys.file!, { PULSE_RUNBOOKS_CODEC_KEYS_FILE: '/etc/pulse-runbooks/codec-keys.json' })).toBe(
      '/etc/pulse-runbooks/codec-keys.json',
    );
    expect(interpolate(db.POSTGRES_USER, {})).toBe('temporal');
  });

  it('the namespace job registers exactly SEARCH_ATTRIBUTES of src/temporal/search-attributes.ts', () => {
    const words = envOf(compose.services[r.namespaceJob]).PULSE_RUNBOOKS_SEARCH_ATTRIBUTES.trim().split(/\s+/);
    const registered = words.map((w) => {
      const [name, type] = w.split('=');
      return { name, type };
    });
    expect(registered).toEqual(SEARCH_ATTRIBUTES.map((a) => ({ name: a.name, type: a.type })));
    // SQL visibility pre-allocates 10 Keyword columns per namespace: more could never be registered.
    expect(registered.filter((a) => a.type === 'Keyword').length).toBeLessThanOrEqual(10);
  });

  it('the worker, the UI and the namespace job reach the server service on its gRPC port', () => {
    const server = compose.services[r.server];
    expect(envOf(server).BIND_ON_IP).toBe('0.0.0.0');
    const containerPorts = (server.ports ?? []).map((p) => (typeof p === 'string' ? p.split(':').pop() : String(p.target)));
    expect(containerPorts).toContain('7233');
    for (const client of [r.worker, r.ui, r.namespaceJob]) {
      expect(envOf(compose.services[client]).TEMPORAL_ADDRESS).toBe(`${r.server}:7233`);
    }
    // The worker's environment, read by the project's own settings code, as `pulse-runbook worker` will.
    const settings = resolveTemporalSettings({}, envOf(compose.services[r.worker]));
    expect(settings).toEqual({ address: `${r.server}:7233`, namespace: 'default', taskQueue: 'pulse-runbooks' });
    expect(envOf(compose.services[r.namespaceJob]).TEMPORAL_NAMESPACE).toBe(settings.namespace);
  });

  it('runs `pulse-runbook worker` and hands the Pulse token over as /run/secrets/pulse_token', () => {
    const worker = compose.services[r.worker];
    expect(argvOf(worker.command)).toEqual(['worker']);
    expect(worker.secrets).toContain('pulse_token');
    const env = envOf(worker);
    expect(env.PULSE_TOKEN_FILE).toBe('/run/secrets/pulse_token');
    // The CLI run inside the container resolves the token reference to that file, never to a value.
    const target = resolvePulseTarget({}, { ...env, PULSE_URL: 'http://pulse:7655' });
    expect(target?.token).toEqual({ file: '/run/secrets/pulse_token' });
  });

  it('publishes ports on the loopback interface only (Temporal and the UI have no authentication here)', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(typeof p === 'string' ? p : `${p.host_ip}:`).toMatch(/^127\.0\.0\.1:/);
  });

  it('keeps the UI read-only', () => {
    expect(envOf(compose.services[r.ui]).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  });

  it('the worker and the codec server read the payload keys from the codec_keys secret, by reference', () => {
    for (const name of [r.worker, r.codecServer]) {
      const service = compose.services[name];
      expect({ name, secrets: service.secrets }).toEqual({ name, secrets: expect.arrayContaining(['codec_keys']) });
      // Read by the project's own code, as `pulse-runbook worker` / `codec-server` will in the container.
      expect({ name, file: resolveCodecKeysFile({}, envOf(service)) }).toEqual({ name, file: '/run/secrets/codec_keys' });
    }
    expect(Object.keys(compose.secrets ?? {})).toContain('codec_keys');
  });

  it("runs the codec server on the worker's image, built by the worker service and never pulled", () => {
    const codec = compose.services[r.codecServer];
    expect(codec.build).toBeUndefined();
    expect(codec.image).toBe(compose.services[r.worker].image);
    // A pull of a local tag fails; compose builds it through the worker service before creating containers.
    expect(codec.pull_policy).toBe('never');
  });

  it("gives the UI the codec endpoint the browser reaches, and the codec server allows the UI's origin", () => {
    expect(codecEndpointProblems(compose)).toEqual([]);
    expect(envOf(compose.services[r.ui]).TEMPORAL_CODEC_ENDPOINT).toBe('http://127.0.0.1:8888');
  });

  it('the codec endpoint check fails on an endpoint nobody publishes, an unlisted UI origin and a loopback-only listener', () => {
    const broken = loadCompose();
    (broken.services[r.ui].environment as Record<string, string>).TEMPORAL_CODEC_ENDPOINT = 'http://127.0.0.1:9999';
    broken.services[r.ui].ports = ['127.0.0.1:8081:8080'];
    broken.services[r.codecServer].command = [
      'codec-server',
      '--host',
      '127.0.0.1',
      '--port',
      '8888',
      '--allow-origin',
      'http://127.0.0.1:8080',
    ];
    expect(codecEndpointProblems(broken)).toEqual([
      expect.stringContaining('listens on 127.0.0.1 inside its container'),
      expect.stringContaining(
        "TEMPORAL_CODEC_ENDPOINT http://127.0.0.1:9999 is not the codec server's published address http://127.0.0.1:8888",
      ),
      expect.stringContaining("does not allow the UI's origin http://127.0.0.1:8081"),
    ]);
    const unset = loadCompose();
    delete (unset.services[r.ui].environment as Record<string, string>).TEMPORAL_CODEC_ENDPOINT;
    expect(codecEndpointProblems(unset)).toEqual([expect.stringContaining('TEMPORAL_CODEC_ENDPOINT is not set')]);
  });

  it('mounts files that exist: the job scripts and the dynamic config the server is told to read', () => {
    for (const job of [r.schemaJob, r.namespaceJob]) {
      const service = compose.services[job];
      const script = argvOf(service.entrypoint).find((a) => a.endsWith('.sh'))!;
      const host = hostPathOf(service, script);
      expect({ job, script, onHost: host !== undefined && existsSync(host) }).toEqual({ job, script, onHost: true });
    }
    const server = compose.services[r.server];
    // Relative to the server image's working directory, /etc/temporal.
    const configPath = path.posix.join('/etc/temporal', envOf(server).DYNAMIC_CONFIG_FILE_PATH);
    const host = hostPathOf(server, configPath);
    expect(host).toBeDefined();
    const config = loadYaml<Record<string, unknown>>(readFileSync(host!, 'utf8'), configPath);
    expect(Object.keys(config).length).toBeGreaterThan(0);
    for (const [key, values] of Object.entries(config)) {
      expect({ key, ok: Array.isArray(values) && values.every((v) => v && typeof v === 'object' && 'value' in v) }).toEqual({
        key,
        ok: true,
      });
    }
  });

  // What `docker compose config` checks of the variables, run everywhere: compose interpolates every string of the
  // parsed file (comments are not part of it) with the environment (compose-spec "Interpolation").
  describe('variable interpolation, as `docker compose config` does it', () => {
    const env = {
      POSTGRES_PASSWORD: 'x',
      PULSE_TOKEN_FILE: '/srv/secrets/pulse-token',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: '/srv/secrets/codec-keys.json',
    };

    it('resolves every variable with the documented settings: none unset, secrets from the given files, $$ left to the container', () => {
      const r = composeConfig(composeText, env);
      expect(r.missing).toEqual([]);
      expect(r.unset).toEqual([]);
      expect(r.compose.secrets?.pulse_token?.file).toBe('/srv/secrets/pulse-token');
      expect(r.compose.secrets?.codec_keys?.file).toBe('/srv/secrets/codec-keys.json');
      const postgres = r.compose.services.postgresql as Service & { healthcheck?: { test?: string[] } };
      expect(envOf(postgres)).toMatchObject({ POSTGRES_USER: 'temporal', POSTGRES_PASSWORD: 'x' });
      expect(postgres.healthcheck?.test?.join(' ')).toContain('-U "${POSTGRES_USER}"');
    });

    it('refuses a start without POSTGRES_PASSWORD, or without the token or key file, naming what to set', () => {
      for (const name of Object.keys(env)) {
        const r = composeConfig(composeText, { ...env, [name]: '' });
        expect(r.missing.map((m) => m.split(':')[0])).toContain(name);
        expect(r.missing.find((m) => m.startsWith(name))).toMatch(new RegExp(`set ${name}`));
      }
    });

    it('catches a variable used without a default, as compose warns of it', () => {
      const broken = composeText.replace('image: postgres:16', 'image: postgres:${PG_TAG}');
      expect(broken).not.toBe(composeText);
      expect(composeConfig(broken, env).unset).toEqual(['PG_TAG']);
    });
  });

  const composeCli = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const itWithComposeCli = composeCli.status === 0 ? it : it.skip;
  itWithComposeCli('is accepted by `docker compose config` (only where the compose plugin is installed)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'compose-config-'));
    try {
      const token = path.join(dir, 'token');
      await writeFile(token, 'not-a-real-token\n', { mode: 0o600 });
      const base = ['compose', '--project-directory', root, '-f', path.join(root, 'docker-compose.yml'), 'config', '--quiet'];
      const keys = path.join(dir, 'codec-keys.json');
      await writeFile(keys, '{}\n', { mode: 0o600 });
      const ok = await execa('docker', base, {
        reject: false,
        env: { POSTGRES_PASSWORD: 'x', PULSE_TOKEN_FILE: token, PULSE_RUNBOOKS_CODEC_KEYS_FILE: keys },
      });
      expect(ok.stderr).toBe('');
      expect(ok.exitCode).toBe(0);
      const missing = await execa('docker', base, {
        reject: false,
        env: { PULSE_TOKEN_FILE: token, PULSE_RUNBOOKS_CODEC_KEYS_FILE: keys, POSTGRES_PASSWORD: '' },
      });
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toMatch(/POSTGRES_PASSWORD/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const { stages } = parseDockerfile(read('Dockerfile'));
  const compose = loadCompose();
  const worker = compose.services[roles(compose).worker];
  const build = worker.build as { context: string; dockerfile: string; target: string };
  const chain = stageChain(stages, build.target);

  it('is the file compose builds, and has the stage compose asks for', () => {
    expect(path.resolve(root, build.context, build.dockerfile)).toBe(path.join(root, 'Dockerfile'));
    expect(chain.map((s) => s.name)).toContain(build.target);
  });

  it('builds on pinned glibc images (node:20-bookworm), never Alpine', () => {
    expect(baseImageProblems(stages)).toEqual([]);
    const base = chain[chain.length - 1].from;
    expect(base).toMatch(/^node:20(\.\d+)*-bookworm/);
    // Every stage of the target, including the go toolchain it copies from.
    for (const s of stages) expect(s.from).not.toMatch(/alpine/);
  });

  it('the base image check fails on Alpine, latest and an untagged image', () => {
    const problems = baseImageProblems([
      { from: 'node:20-alpine', instructions: [] },
      { from: 'node:latest', instructions: [] },
      { from: 'debian', instructions: [] },
    ]);
    expect(problems).toEqual([
      expect.stringContaining('musl-based'),
      expect.stringContaining('uses latest'),
      expect.stringContaining('does not name a glibc distribution'),
      expect.stringContaining('has no tag'),
    ]);
  });

  it('builds dist/ in a build stage and ships production dependencies, bin/ and dist/ only', () => {
    expect(compiledImageProblems(stages, build.target)).toEqual([]);
    // The build stage installs everything and builds; what the image runs is the compiled CLI.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
    expect(read(pkg.bin['pulse-runbook'])).toContain("'../dist/src/cli/main.js'");
  });

  it('the compiled-image check fails on an image that runs the sources through tsx, or builds without devDependencies', () => {
    // The image as it was before it shipped dist/: sources and a bundle-only stage.
    const tsxImage = parseDockerfile(
      [
        'FROM node:20-bookworm AS deps',
        'WORKDIR /app',
        'COPY package.json package-lock.json ./',
        'RUN npm ci --omit=dev',
        'FROM deps AS bundle',
        'COPY src ./src',
        'RUN node_modules/.bin/tsx scripts/build-workflow-bundle.ts --out dist/workflow-bundle.js',
        'FROM node:20-bookworm AS worker',
        'WORKDIR /app',
        'COPY --from=deps /app/node_modules ./node_modules',
        'COPY bin ./bin',
        'COPY src ./src',
        'COPY workflows ./workflows',
        'COPY --from=bundle /app/dist/workflow-bundle.js ./dist/workflow-bundle.js',
      ].join('\n'),
    ).stages;
    expect(compiledImageProblems(tsxImage, 'worker')).toEqual([
      'worker ships the source src: the image must run dist/, not the sources through tsx',
      'worker ships the source workflows: the image must run dist/, not the sources through tsx',
      'worker does not copy dist/ from a build stage',
    ]);
    // A build stage that installs only after it builds and misses an input, whose node_modules (devDependencies
    // and all) the image takes as they are.
    const broken = parseDockerfile(
      [
        'FROM node:20-bookworm AS build',
        'WORKDIR /app',
        'COPY package.json package-lock.json ./',
        'COPY tsconfig.json tsconfig.build.json ./',
        'COPY bin/build-freshness.mjs ./bin/build-freshness.mjs',
        'COPY scripts/build.mjs scripts/build-workflow-bundle.ts ./scripts/',
        'COPY src ./src',
        'COPY workflows ./workflows',
        'RUN node scripts/build.mjs',
        'RUN npm ci',
        'FROM node:20-bookworm AS worker',
        'WORKDIR /app',
        'COPY --from=build /app/node_modules ./node_modules',
        'COPY --from=build /app/dist ./dist',
      ].join('\n'),
    ).stages;
    expect(compiledImageProblems(broken, 'worker')).toEqual([
      "worker's node_modules (from build) is not a production-only install (npm ci --omit=dev)",
      'build does not install every dependency (TypeScript is a devDependency) before it builds',
      'build does not copy activities, which the build reads',
    ]);
  });

  it("with the image's files (no sources), bin/pulse-runbook.js runs the compiled dist/, never tsx", async () => {
    const chain = stageChain(stages, build.target);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'image-layout-'));
    try {
      // Every file the image takes from the build context, at its place under the WORKDIR.
      for (const c of chain.flatMap(copiesOf).filter((x) => !x.from)) {
        for (const src of c.sources) {
          const dest = c.dest.endsWith('/') || c.sources.length > 1 ? path.join(c.dest, path.basename(src)) : c.dest;
          await cp(path.join(root, src), path.join(dir, dest), { recursive: true });
        }
      }
      // dist/ as the build stage leaves it, with a main that says it ran; no node_modules, so a fall-back to tsx
      // (which the image must never take) fails instead of passing unnoticed.
      await mkdir(path.join(dir, 'dist', 'src', 'cli'), { recursive: true });
      await writeFile(
        path.join(dir, 'dist', 'src', 'cli', 'main.js'),
        'export async function main(argv) { process.stdout.write(`compiled main ${argv.slice(2).join(" ")}\\n`); }\n',
      );
      await writeFile(path.join(dir, 'dist', '.build-stamp'), '0\n');
      const r = await execa(process.execPath, [path.join(dir, 'bin', 'pulse-runbook.js'), 'worker'], {
        cwd: dir,
        reject: false,
        env: { PULSE_RUNBOOKS_FROM_SOURCE: '' },
      });
      expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
        exitCode: 0,
        stdout: 'compiled main worker',
        stderr: '',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('points PULSE_RUNBOOKS_WORKFLOW_BUNDLE at the bundle the build stage builds', () => {
    const env = envFrom(chain);
    const bundlePath = env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE;
    expect(bundlePath).toMatch(/^\//);
    const workdir = effective(chain, 'WORKDIR')!;
    // dist/ is copied from the build stage (checked above), and scripts/build.mjs writes the bundle into it.
    expect(path.posix.join(workdir, 'dist/workflow-bundle.js')).toBe(bundlePath);
    expect(path.relative(root, DEFAULT_BUNDLE_PATH)).toBe(path.join('dist', 'workflow-bundle.js'));
    expect(read('scripts/build.mjs')).toContain("'dist', 'scripts', 'build-workflow-bundle.js'");
  });

  it('runs as an unprivileged user, with `pulse-runbook` as the entrypoint', () => {
    expect(effective(chain, 'USER')).toMatch(/^(?!root$|0$)\w+$/);
    expect(JSON.parse(effective(chain, 'ENTRYPOINT')!)).toEqual(['pulse-runbook']);
    const runs = chain
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(runs).toMatch(/ln -s \/app\/bin\/pulse-runbook\.js \/usr\/local\/bin\/pulse-runbook/);
    expect(runs).toMatch(/apt-get install[^\n]*\bgit\b/);
  });

  it('.dockerignore lets in everything the Dockerfile copies and nothing secret', () => {
    const patterns = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect({ src, exists: existsSync(path.join(root, src)), included: dockerignoreIncludes(patterns, src) }).toEqual({
        src,
        exists: true,
        included: true,
      });
      if (statSync(path.join(root, src)).isDirectory()) expect(dockerignoreIncludes(patterns, `${src}/x/y.ts`)).toBe(true);
    }
    for (const secret of [
      '.env',
      'deploy/worker.env',
      'deploy/secrets/pulse_token',
      '.data/temporal.sqlite',
      'node_modules/a/b.js',
      '.git/config',
      'test/unit/a.test.ts',
      'src/x.test.ts',
    ]) {
      expect({ secret, included: dockerignoreIncludes(patterns, secret) }).toEqual({ secret, included: false });
    }
  });
});
