/**
 * The production rehearsal's process list, read from docker-compose.yml so both run the same scripts with the same
 * settings. Each compose service becomes a process: its environment and command line are the compose file's, with
 * container-only facts translated for processes on one host:
 *   - service names and published ports become 127.0.0.1 and free ports (`temporal:7233` -> 127.0.0.1:<frontend>);
 *   - paths inside a container become the host files its bind mounts and secrets name (`/pulse-runbooks/x.sh` ->
 *     deploy/scripts/x.sh, `/run/secrets/codec_keys` -> the rehearsal's key file);
 *   - what the images set up themselves is given explicitly (the schema directory, the UI's port and bind address).
 * Every such change is listed in `changes` with its reason; test/unit/production-agreement.test.ts checks that
 * nothing else differs, and the rehearsal prints the list when it starts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from './versions.js';

export interface ComposeService {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: Array<string | { host_ip?: string; target?: number; published?: string | number }>;
  build?: unknown;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The secrets and settings compose takes from the operator's environment (`${VAR:?...}`). */
export interface ComposeVariables {
  POSTGRES_PASSWORD: string;
  PULSE_TOKEN_FILE: string;
  PULSE_RUNBOOKS_CODEC_KEYS_FILE: string;
  [name: string]: string | undefined;
}

export function readComposeFile(file = path.join(REPO_ROOT, 'docker-compose.yml')): ComposeFile {
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS() as ComposeFile;
}

/**
 * Compose's variable interpolation, for the forms the file may use: ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?message}, ${VAR?message} and $$. A missing required variable throws with the file's message.
 */
export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name, colon, op, arg) => {
    if (whole === '$$') return '$';
    const v = vars[name as string];
    const unset = v === undefined || (colon === ':' && v === '');
    if (op === '?' && unset) throw new Error(`required variable ${name}: ${arg}`);
    if (op === '-' && unset) return arg as string;
    return v ?? '';
  });
}

export function composeEnv(service: ComposeService, vars: Record<string, string | undefined>): Record<string, string> {
  const env = service.environment ?? {};
  const pairs: Array<[string, string]> = Array.isArray(env)
    ? env.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v, vars)]));
}

export const argv = (v: string[] | string | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/));

/** Which compose service plays each role (by image or command, as compose-file.test.ts finds them). */
export function composeRoles(compose: ComposeFile) {
  const one = (role: string, test: (s: ComposeService) => boolean): string => {
    const names = Object.entries(compose.services)
      .filter(([, s]) => test(s))
      .map(([n]) => n);
    if (names.length !== 1) throw new Error(`docker-compose.yml: expected one ${role} service, found ${names.length}`);
    return names[0];
  };
  const job = (script: string) => (s: ComposeService) =>
    (s.image ?? '').startsWith('temporalio/admin-tools:') && argv(s.entrypoint).some((a) => a.endsWith(`/${script}`));
  return {
    database: one('PostgreSQL', (s) => (s.image ?? '').startsWith('postgres:')),
    schemaJob: one('schema job', job('setup-postgres.sh')),
    server: one('Temporal server', (s) => (s.image ?? '').startsWith('temporalio/server:')),
    namespaceJob: one('namespace job', job('create-namespace.sh')),
    ui: one('Temporal UI', (s) => (s.image ?? '').startsWith('temporalio/ui:')),
    worker: one('worker', (s) => s.build !== undefined),
    codecServer: one('codec server', (s) => argv(s.command)[0] === 'codec-server'),
  };
}

export function imageTag(service: ComposeService): string {
  return (service.image ?? '').split(':')[1] ?? '';
}

/** A container path through the service's bind mounts ("./x:/y[:ro]") to the host file, or undefined. */
export function hostPathOf(service: ComposeService, containerPath: string): string | undefined {
  for (const v of service.volumes ?? []) {
    const [source, target] = typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target ?? ''];
    if (!source || !target || !/^[./]/.test(source)) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`))
      return path.join(path.resolve(REPO_ROOT, source), containerPath.slice(target.length));
  }
  return undefined;
}

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface ClusterPorts {
  postgres: number;
  frontendGrpc: number;
  frontendHttp: number;
  frontendMembership: number;
  historyGrpc: number;
  historyMembership: number;
  matchingGrpc: number;
  matchingMembership: number;
  workerGrpc: number;
  workerMembership: number;
  ui: number;
  codec: number;
}
export const PORT_NAMES: Array<keyof ClusterPorts> = [
  'postgres',
  'frontendGrpc',
  'frontendHttp',
  'frontendMembership',
  'historyGrpc',
  'historyMembership',
  'matchingGrpc',
  'matchingMembership',
  'workerGrpc',
  'workerMembership',
  'ui',
  'codec',
];

export interface PlanInputs {
  ports: ClusterPorts;
  /** temporal-server and temporal-sql-tool. */
  serverBin: string;
  schemaRoot: string;
  uiServer: string;
  /** A directory holding the UI's config/docker.yaml for this rehearsal. */
  uiRoot: string;
  /** The directory of the `temporal` CLI (the namespace job's program). */
  temporalCliDir: string;
  /** Host files standing in for compose's secrets, by secret name (pulse_token, codec_keys). */
  secretFiles: Record<string, string>;
  /** The prebuilt workflow bundle (the Dockerfile's PULSE_RUNBOOKS_WORKFLOW_BUNDLE). */
  workflowBundle: string;
  variables: ComposeVariables;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** One translation of a compose setting for the rehearsal, and why. */
export interface PlanChange {
  service: string;
  setting: string;
  compose: string | undefined;
  rehearsal: string;
  reason: string;
}

export interface RehearsalPlan {
  schemaJob: ProcessSpec;
  temporal: Record<TemporalService, ProcessSpec>;
  namespaceJob: ProcessSpec;
  ui: ProcessSpec;
  codecServer: ProcessSpec;
  /** The worker's spec; each worker process gets a copy (the rehearsal runs two). */
  worker: ProcessSpec;
  changes: PlanChange[];
  versions: { server: string; adminTools: string; ui: string; postgres: string };
}

const UI_BIND_HOST = '127.0.0.1';
/**
 * The UI image's config template with the bind address added: the template has no `host`, so the UI listens on
 * every interface, which in a container is only its own network (compose publishes the port on 127.0.0.1).
 */
export function uiConfigText(template: string): string {
  return `${template.replace(/\s*$/, '')}\n# Added by the production rehearsal (src/production/compose-plan.ts): loopback only, as compose publishes it.\nhost: ${UI_BIND_HOST}\n`;
}

/** The server image's WORKDIR, against which DYNAMIC_CONFIG_FILE_PATH is relative (its Dockerfile). */
const SERVER_IMAGE_WORKDIR = '/etc/temporal';
/** The admin-tools image's schema directory, setup-postgres.sh's default SCHEMA_ROOT. */
const ADMIN_TOOLS_SCHEMA_ROOT = '/etc/temporal/schema/postgresql/v12';
/** The Dockerfile's environment for the worker image. */
export const WORKER_IMAGE_ENV = { NODE_ENV: 'production', PULSE_RUNBOOKS_WORKFLOW_BUNDLE: '/app/dist/workflow-bundle.js' };

const REASONS = {
  address: 'containers reach each other by service name; the rehearsal runs every service on 127.0.0.1',
  port: 'free ports on this host instead of the ports compose uses or publishes',
  bind: 'a container binds every interface of its own network and compose publishes on 127.0.0.1 only; a process on the host binds 127.0.0.1 itself',
  mount: 'the file compose bind-mounts there, read from the repository',
  secret: 'the file compose mounts as this secret',
  image: 'set up by the image: given explicitly to the process',
  path: 'the programs the image has on its PATH',
  logs: 'the services log at info by default; the rehearsal keeps warnings and errors in its log files',
} as const;
export type ChangeReason = keyof typeof REASONS;
export const CHANGE_REASONS: readonly string[] = Object.values(REASONS);

export function rehearsalPlan(compose: ComposeFile, inputs: PlanInputs): RehearsalPlan {
  const roles = composeRoles(compose);
  const p = inputs.ports;
  const changes: PlanChange[] = [];
  const svc = (name: string) => compose.services[name];
  const frontend = `127.0.0.1:${p.frontendGrpc}`;
  // Addresses as compose gives them (service names, published loopback ports) -> the rehearsal's.
  const addressMap: Array<[RegExp, string]> = [
    [new RegExp(`^${roles.server}:7233$`), frontend],
    [/^http:\/\/(127\.0\.0\.1|localhost):8080$/, `http://$1:${p.ui}`],
    [/^http:\/\/127\.0\.0\.1:8888$/, `http://127.0.0.1:${p.codec}`],
  ];
  /** A published port on the Docker host's loopback (only the port changes), rather than a service name. */
  const isLoopback = (v: string) => /^(https?:\/\/)?(127\.0\.0\.1|localhost):\d+$/.test(v);
  const translateAddress = (v: string) => addressMap.reduce((acc, [re, to]) => acc.replace(re, to), v);

  /** compose env -> rehearsal env, recording each change. */
  const envFor = (
    service: string,
    extra: Record<string, [string, ChangeReason]>,
    base: Record<string, string> = {},
  ): Record<string, string> => {
    const env = { ...base, ...composeEnv(svc(service), inputs.variables) };
    for (const [k, v] of Object.entries(env)) {
      let next = translateAddress(v);
      let reason: ChangeReason = isLoopback(v) ? 'port' : 'address';
      if (next === v && v.startsWith('/run/secrets/')) {
        next = inputs.secretFiles[v.slice('/run/secrets/'.length)] ?? v;
        reason = 'secret';
      }
      if (next !== v) {
        changes.push({ service, setting: k, compose: v, rehearsal: next, reason: REASONS[reason] });
        env[k] = next;
      }
    }
    for (const [k, [v, reason]] of Object.entries(extra)) {
      changes.push({ service, setting: k, compose: env[k], rehearsal: v, reason: REASONS[reason] });
      env[k] = v;
    }
    return env;
  };
  const hostScript = (service: string): { command: string; args: string[] } => {
    const [shell, script, ...rest] = argv(svc(service).entrypoint);
    const file = hostPathOf(svc(service), script);
    if (!file) throw new Error(`docker-compose.yml: ${service}'s script ${script} is not bind-mounted from the repository`);
    changes.push({ service, setting: 'entrypoint', compose: script, rehearsal: path.relative(REPO_ROOT, file), reason: REASONS.mount });
    return { command: shell, args: [file, ...rest] };
  };
  const withPath = (dir: string) => [`${dir}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`, 'path'] as [string, ChangeReason];
  /** The PATH change as people read it: the directory put first. */
  const shortPath = () => {
    for (const c of changes) if (c.setting === 'PATH') c.rehearsal = `${c.rehearsal.split(path.delimiter)[0]}:$PATH`;
  };

  // The schema job: deploy/scripts/setup-postgres.sh with temporal-sql-tool.
  const schemaJob: ProcessSpec = {
    name: roles.schemaJob,
    ...hostScript(roles.schemaJob),
    env: envFor(roles.schemaJob, {
      POSTGRES_SEEDS: ['127.0.0.1', 'address'],
      DB_PORT: [String(p.postgres), 'port'],
      SCHEMA_ROOT: [inputs.schemaRoot, 'image'],
      PATH: withPath(inputs.serverBin),
    }),
  };
  changes.find((c) => c.setting === 'SCHEMA_ROOT')!.compose = `${ADMIN_TOOLS_SCHEMA_ROOT} (the script's default)`;

  // The server: the image runs `temporal-server start`, which renders its embedded config template from this
  // environment; here one process per service, each told every service's ports.
  const dynamicConfig = composeEnv(svc(roles.server), inputs.variables).DYNAMIC_CONFIG_FILE_PATH ?? '';
  const dynamicConfigHost = hostPathOf(svc(roles.server), path.posix.resolve(SERVER_IMAGE_WORKDIR, dynamicConfig));
  if (!dynamicConfigHost)
    throw new Error(`docker-compose.yml: the server's DYNAMIC_CONFIG_FILE_PATH ${dynamicConfig} is not bind-mounted from the repository`);
  const serverEnv = envFor(roles.server, {
    POSTGRES_SEEDS: ['127.0.0.1', 'address'],
    DB_PORT: [String(p.postgres), 'port'],
    BIND_ON_IP: ['127.0.0.1', 'bind'],
    DYNAMIC_CONFIG_FILE_PATH: [dynamicConfigHost, 'mount'],
    FRONTEND_GRPC_PORT: [String(p.frontendGrpc), 'port'],
    FRONTEND_HTTP_PORT: [String(p.frontendHttp), 'port'],
    FRONTEND_MEMBERSHIP_PORT: [String(p.frontendMembership), 'port'],
    HISTORY_GRPC_PORT: [String(p.historyGrpc), 'port'],
    HISTORY_MEMBERSHIP_PORT: [String(p.historyMembership), 'port'],
    MATCHING_GRPC_PORT: [String(p.matchingGrpc), 'port'],
    MATCHING_MEMBERSHIP_PORT: [String(p.matchingMembership), 'port'],
    WORKER_GRPC_PORT: [String(p.workerGrpc), 'port'],
    WORKER_MEMBERSHIP_PORT: [String(p.workerMembership), 'port'],
    LOG_LEVEL: ['warn', 'logs'],
  });
  const temporal = Object.fromEntries(
    TEMPORAL_SERVICES.map((s) => [
      s,
      {
        name: `temporal-${s}`,
        command: path.join(inputs.serverBin, 'temporal-server'),
        args: ['start', '--service', s],
        env: { ...serverEnv },
      },
    ]),
  ) as Record<TemporalService, ProcessSpec>;
  changes.push({
    service: roles.server,
    setting: 'command',
    compose: 'temporal-server start (every service in one process)',
    rehearsal: TEMPORAL_SERVICES.map((s) => `temporal-server start --service ${s}`).join('; '),
    reason: 'the issue asks for frontend, history, matching and worker as separate processes',
  });

  // The namespace job: deploy/scripts/create-namespace.sh with the temporal CLI.
  const namespaceJob: ProcessSpec = {
    name: roles.namespaceJob,
    ...hostScript(roles.namespaceJob),
    env: envFor(roles.namespaceJob, { PATH: withPath(inputs.temporalCliDir) }),
  };

  // The UI: the image runs `ui-server --env docker start` beside its config/docker.yaml template.
  const ui: ProcessSpec = {
    name: roles.ui,
    command: inputs.uiServer,
    args: ['--root', inputs.uiRoot, '--env', 'docker', 'start'],
    cwd: inputs.uiRoot,
    env: envFor(roles.ui, { TEMPORAL_UI_PORT: [String(p.ui), 'port'] }),
  };
  changes.push({
    service: roles.ui,
    setting: 'config/docker.yaml host',
    compose: '(unset: every interface of the container)',
    rehearsal: UI_BIND_HOST,
    reason: REASONS.bind,
  });

  // The codec server and the worker: this repository's CLI, as the image's entrypoint runs it.
  const node = process.execPath;
  const cli = path.join(REPO_ROOT, 'bin', 'pulse-runbook.js');
  const codecArgs = argv(svc(roles.codecServer).command).map((a, i, all) => {
    const flag = all[i - 1];
    let next = translateAddress(a);
    if (flag === '--host') next = '127.0.0.1';
    if (flag === '--port') next = String(p.codec);
    if (next !== a)
      changes.push({
        service: roles.codecServer,
        setting: `${flag?.startsWith('--') ? flag : 'argument'} ${a}`,
        compose: a,
        rehearsal: next,
        reason: REASONS[flag === '--host' ? 'bind' : flag === '--port' || isLoopback(a) ? 'port' : 'address'],
      });
    return next;
  });
  const codecServer: ProcessSpec = {
    name: roles.codecServer,
    command: node,
    args: [cli, ...codecArgs],
    env: envFor(roles.codecServer, {}),
  };

  const workerEnv = envFor(roles.worker, { PULSE_RUNBOOKS_WORKFLOW_BUNDLE: [inputs.workflowBundle, 'image'] }, { ...WORKER_IMAGE_ENV });
  changes.find((c) => c.setting === 'PULSE_RUNBOOKS_WORKFLOW_BUNDLE')!.compose =
    `${WORKER_IMAGE_ENV.PULSE_RUNBOOKS_WORKFLOW_BUNDLE} (the Dockerfile's ENV)`;
  const worker: ProcessSpec = { name: roles.worker, command: node, args: [cli, ...argv(svc(roles.worker).command)], env: workerEnv };

  shortPath();
  return {
    schemaJob,
    temporal,
    namespaceJob,
    ui,
    codecServer,
    worker,
    changes,
    versions: {
      server: imageTag(svc(roles.server)),
      adminTools: imageTag(svc(roles.schemaJob)),
      ui: imageTag(svc(roles.ui)),
      postgres: imageTag(svc(roles.database)),
    },
  };
}
