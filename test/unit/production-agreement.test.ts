/**
 * The compose file and the production rehearsal agree: the same versions (compose's image tags, the rehearsal's
 * versions and the install script's defaults), the same scripts (deploy/scripts/*.sh, mounted in compose, run from the
 * repository by the rehearsal), the same dynamic config file, and the same environment and command line for every
 * service except the translations listed in the plan's `changes`, each with its reason. Each checker is shown to
 * fail on a broken copy, so a drift is caught and not silently accepted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  argv,
  CHANGE_REASONS,
  composeEnv,
  composeRoles,
  readComposeFile,
  rehearsalPlan,
  TEMPORAL_SERVICES,
  WORKER_IMAGE_ENV,
  type ComposeFile,
  type ComposeVariables,
  type RehearsalPlan,
} from '../../src/production/compose-plan.js';
import { COMPOSE_POSTGRES_MAJOR, REPO_ROOT, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../src/production/versions.js';

const variables: ComposeVariables = {
  POSTGRES_PASSWORD: 'pw-for-the-test',
  PULSE_TOKEN_FILE: '/tmp/token',
  PULSE_RUNBOOKS_CODEC_KEYS_FILE: '/tmp/keys',
};
const ports = {
  postgres: 21000,
  frontendGrpc: 21001,
  frontendHttp: 21002,
  frontendMembership: 21003,
  historyGrpc: 21004,
  historyMembership: 21005,
  matchingGrpc: 21006,
  matchingMembership: 21007,
  workerGrpc: 21008,
  workerMembership: 21009,
  ui: 21010,
  codec: 21011,
};
const planFor = (compose: ComposeFile) =>
  rehearsalPlan(compose, {
    ports,
    serverBin: '/cache/server/bin',
    schemaRoot: '/cache/server/schema/postgresql/v12',
    uiServer: '/cache/ui/ui-server',
    uiRoot: '/work/ui',
    temporalCliDir: '/cache/cli',
    secretFiles: { pulse_token: '/work/secrets/pulse_token', codec_keys: '/work/secrets/codec_keys' },
    workflowBundle: '/work/workflow-bundle.js',
    variables,
  });
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

function versionProblems(compose: ComposeFile, installScript: string): string[] {
  const problems: string[] = [];
  const r = composeRoles(compose);
  const tag = (name: string) => (compose.services[name].image ?? '').split(':')[1];
  for (const name of [r.server, r.schemaJob, r.namespaceJob]) {
    if (tag(name) !== TEMPORAL_SERVER_VERSION)
      problems.push(`${name} runs ${compose.services[name].image}, the rehearsal Temporal ${TEMPORAL_SERVER_VERSION}`);
  }
  if (tag(r.ui) !== TEMPORAL_UI_VERSION)
    problems.push(`${r.ui} runs ${compose.services[r.ui].image}, the rehearsal UI ${TEMPORAL_UI_VERSION}`);
  if (tag(r.database) !== String(COMPOSE_POSTGRES_MAJOR))
    problems.push(
      `${r.database} runs ${compose.services[r.database].image}; deploy/README.md and versions.ts say postgres:${COMPOSE_POSTGRES_MAJOR}`,
    );
  if (!installScript.includes(`SERVER_VERSION="\${TEMPORAL_SERVER_VERSION:-${TEMPORAL_SERVER_VERSION}}"`))
    problems.push(`install-temporal-cluster.sh does not build server ${TEMPORAL_SERVER_VERSION} by default`);
  if (!installScript.includes(`UI_VERSION="\${TEMPORAL_UI_VERSION:-${TEMPORAL_UI_VERSION}}"`))
    problems.push(`install-temporal-cluster.sh does not build UI ${TEMPORAL_UI_VERSION} by default`);
  return problems;
}

/** Every setting of the plan is compose's, or a listed change with a known reason. */
function planProblems(compose: ComposeFile, plan: RehearsalPlan): string[] {
  const problems: string[] = [];
  const r = composeRoles(compose);
  const changed = (service: string, setting: string) => plan.changes.some((c) => c.service === service && c.setting === setting);
  const sameEnv = (service: string, env: Record<string, string>, inherited: Record<string, string> = {}) => {
    const want = { ...inherited, ...composeEnv(compose.services[service], variables) };
    for (const [k, v] of Object.entries(want)) {
      if (env[k] === undefined) problems.push(`${service}: ${k} is missing`);
      else if (env[k] !== v && !changed(service, k))
        problems.push(`${service}: ${k} is "${env[k]}", compose has "${v}", and no change says why`);
    }
    for (const k of Object.keys(env))
      if (!(k in want) && !changed(service, k))
        problems.push(`${service}: ${k} is set but compose has no such setting and no change says why`);
  };
  sameEnv(r.schemaJob, plan.schemaJob.env);
  for (const s of TEMPORAL_SERVICES) sameEnv(r.server, plan.temporal[s].env);
  sameEnv(r.namespaceJob, plan.namespaceJob.env);
  sameEnv(r.ui, plan.ui.env);
  sameEnv(r.codecServer, plan.codecServer.env);
  sameEnv(r.worker, plan.worker.env, WORKER_IMAGE_ENV);

  const script = (name: string) => path.join(REPO_ROOT, 'deploy', 'scripts', name);
  if (plan.schemaJob.args[0] !== script('setup-postgres.sh')) problems.push(`the schema job runs ${plan.schemaJob.args[0]}`);
  if (plan.namespaceJob.args[0] !== script('create-namespace.sh')) problems.push(`the namespace job runs ${plan.namespaceJob.args[0]}`);
  const dynamicConfig = plan.temporal.frontend.env.DYNAMIC_CONFIG_FILE_PATH;
  if (dynamicConfig !== path.join(REPO_ROOT, 'deploy', 'dynamicconfig', 'development-sql.yaml'))
    problems.push(`the server reads dynamic config ${dynamicConfig}`);

  const composeCodec = argv(compose.services[r.codecServer].command);
  const codecArgs = plan.codecServer.args.slice(1);
  if (codecArgs.length !== composeCodec.length)
    problems.push(`the codec server has ${codecArgs.length} arguments, compose ${composeCodec.length}`);
  codecArgs.forEach((a, i) => {
    if (a !== composeCodec[i] && !plan.changes.some((c) => c.service === r.codecServer && c.compose === composeCodec[i]))
      problems.push(`codec server argument ${composeCodec[i]} became ${a} with no change saying why`);
  });
  if (JSON.stringify(plan.worker.args.slice(1)) !== JSON.stringify(argv(compose.services[r.worker].command)))
    problems.push(`the worker runs ${plan.worker.args.slice(1).join(' ')}`);

  const known = new Set([...CHANGE_REASONS, 'the issue asks for frontend, history, matching and worker as separate processes']);
  for (const c of plan.changes) if (!known.has(c.reason)) problems.push(`${c.service} ${c.setting}: unknown reason "${c.reason}"`);
  return problems;
}

describe('the compose file and the production rehearsal', () => {
  const compose = readComposeFile();
  const installScript = read('scripts/install-temporal-cluster.sh');

  it('run the same versions: Temporal 1.30.1 (server and admin-tools), UI 2.42.1; compose pins postgres:16', () => {
    expect(versionProblems(compose, installScript)).toEqual([]);
    expect([TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION]).toEqual(['1.30.1', '2.42.1']);
  });

  it('a version drift is caught', () => {
    const drifted = structuredClone(compose);
    drifted.services[composeRoles(drifted).server].image = 'temporalio/server:1.30.2';
    expect(versionProblems(drifted, installScript)).toEqual([expect.stringContaining('temporalio/server:1.30.2')]);
    expect(versionProblems(compose, installScript.replace('TEMPORAL_UI_VERSION:-2.42.1', 'TEMPORAL_UI_VERSION:-2.34.0'))).toEqual([
      expect.stringContaining('UI 2.42.1'),
    ]);
  });

  it('run the same scripts and settings, each difference listed with its reason', () => {
    const plan = planFor(compose);
    expect(planProblems(compose, plan)).toEqual([]);
    // What the rehearsal changes, in words a reviewer can check against the compose file.
    const changed = plan.changes.map((c) => `${c.service} ${c.setting}`);
    expect(changed).toEqual(
      expect.arrayContaining([
        'temporal POSTGRES_SEEDS',
        'temporal DB_PORT',
        'temporal BIND_ON_IP',
        'temporal-namespace TEMPORAL_ADDRESS',
        'worker PULSE_RUNBOOKS_CODEC_KEYS_FILE',
      ]),
    );
    // Never a secret in the changes list (it is printed when the rehearsal starts).
    expect(JSON.stringify(plan.changes)).not.toContain(variables.POSTGRES_PASSWORD);
    // The settings that matter for behaviour are compose's, untouched.
    expect(plan.namespaceJob.env.NAMESPACE_RETENTION).toBe(
      composeEnv(compose.services[composeRoles(compose).namespaceJob], variables).NAMESPACE_RETENTION,
    );
    expect(plan.temporal.history.env.DB).toBe('postgres12');
    expect(plan.ui.env.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    // The image's bundle path is the Dockerfile's.
    expect(read('Dockerfile')).toContain(`PULSE_RUNBOOKS_WORKFLOW_BUNDLE=${WORKER_IMAGE_ENV.PULSE_RUNBOOKS_WORKFLOW_BUNDLE}`);
    expect(read('Dockerfile')).toContain(`NODE_ENV=${WORKER_IMAGE_ENV.NODE_ENV}`);
  });

  it('a setting changed without a reason, or another script, is caught', () => {
    const plan = planFor(compose);
    plan.namespaceJob.env.NAMESPACE_RETENTION = '72h';
    plan.temporal.matching.env.NUM_HISTORY_SHARDS = '512';
    plan.schemaJob.args[0] = '/elsewhere/setup-postgres.sh';
    expect(planProblems(compose, plan)).toEqual([
      'temporal: NUM_HISTORY_SHARDS is set but compose has no such setting and no change says why',
      'temporal-namespace: NAMESPACE_RETENTION is "72h", compose has "720h", and no change says why',
      'the schema job runs /elsewhere/setup-postgres.sh',
    ]);
  });

  it('a compose secret never reaches a command line of the rehearsal', () => {
    const plan = planFor(compose);
    const specs = [plan.schemaJob, ...Object.values(plan.temporal), plan.namespaceJob, plan.ui, plan.codecServer, plan.worker];
    for (const spec of specs) expect(spec.args.join(' ')).not.toContain(variables.POSTGRES_PASSWORD);
    expect(plan.schemaJob.env.SQL_PASSWORD).toBe(variables.POSTGRES_PASSWORD);
    expect(plan.temporal.frontend.env.POSTGRES_PWD).toBe(variables.POSTGRES_PASSWORD);
  });
});
