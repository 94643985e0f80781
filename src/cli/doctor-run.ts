/**
 * The doctor's checks, in order, from the CLI's side: Temporal, the namespace and search attributes, a worker on the
 * task queue, the payload key, then the host checks a worker runs for us (workflows/doctor.ts). A check that depends
 * on one that failed is reported as skipped, with why. Nothing here changes anything; the doctor run itself is the
 * only thing written to Temporal (a short workflow with the same payload encryption as every other run), started
 * like every run through src/client.ts, so it carries who ran the doctor (client identity and actor header).
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionLike } from '@temporalio/client';
import { clientOnConnection, connectClient } from '../client.js';
import type { Identity } from '../identity/resolve.js';
import type { DoctorHostInputRaw } from '../config/doctor.js';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import type { LoadedCodec } from '../temporal/data-converter.js';
import { checkWorkersCanRead } from './codec-check.js';
import { loadSettingsCodec, EMBEDDED_ADDRESS, type Settings } from './context.js';
import { check, HOST_CHECKS, skippedBecause, type CheckId, type CheckResult } from '../doctor/check.js';
import { DOCTOR_WORKFLOW, type DoctorWorkflow } from '../../workflows/doctor.messages.js';

/** How long the host checks may take on the worker before the doctor reports the worker as not answering. */
export const HOST_CHECKS_TIMEOUT_SECONDS = 45;

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

function temporalFix(settings: Settings): string {
  return settings.temporal.address
    ? 'check --temporal-address / TEMPORAL_ADDRESS (or `pulse-runbook env set <env>.temporal.address host:port`) and that the Temporal frontend runs'
    : 'start the main job (`npm start`), or give --temporal-address / TEMPORAL_ADDRESS (or `pulse-runbook env set <env>.temporal.address host:port`)';
}

/** Every check, in order, acting as `identity`; the Temporal connection is closed before it returns. */
export async function runDoctor(settings: Settings, host: DoctorHostInputRaw, identity: Identity): Promise<CheckResult[]> {
  const address = settings.temporal.address ?? EMBEDDED_ADDRESS;
  let connection: ConnectionLike;
  let first: CheckResult;
  try {
    ({ connection } = await connectClient({ address, namespace: settings.temporal.namespace, identity }));
    const info = await connection.workflowService.getSystemInfo({});
    first = check('temporal', 'ok', `${address}${info.serverVersion ? `, server ${info.serverVersion}` : ''}`);
  } catch (err) {
    const failed = check('temporal', 'fail', `${address} is not reachable (${firstLine(err)})`, temporalFix(settings));
    return [
      failed,
      ...(['namespace', 'worker', 'payload-key', 'worker-host', ...HOST_CHECKS] as CheckId[]).map((id) => skippedBecause(id, failed)),
    ];
  }
  try {
    const namespace = await namespaceCheck(connection, settings.temporal.namespace);
    if (namespace.status === 'fail') {
      return [
        first,
        namespace,
        ...(['worker', 'payload-key', 'worker-host', ...HOST_CHECKS] as CheckId[]).map((id) => skippedBecause(id, namespace)),
      ];
    }
    return [first, namespace, ...(await workerChecks(connection, settings, host, identity))];
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function namespaceCheck(connection: ConnectionLike, namespace: string): Promise<CheckResult> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    return check(
      'namespace',
      'fail',
      `namespace "${namespace}" is not registered (${firstLine(err)})`,
      `register it (\`temporal operator namespace create --namespace ${namespace}\`, deploy/scripts/create-namespace.sh) or give the right --namespace / TEMPORAL_NAMESPACE`,
    );
  }
  let registered: Set<string>;
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    registered = new Set(Object.keys(res.customAttributes ?? {}));
  } catch (err) {
    return check(
      'namespace',
      'warn',
      `namespace "${namespace}" is registered; its search attributes could not be listed (${firstLine(err)})`,
      'check them with `temporal operator search-attribute list`',
    );
  }
  const missing = SEARCH_ATTRIBUTES.filter((a) => !registered.has(a.name));
  if (missing.length === 0)
    return check('namespace', 'ok', `namespace "${namespace}", ${SEARCH_ATTRIBUTES.length} search attributes registered`);
  return check(
    'namespace',
    'fail',
    `namespace "${namespace}" lacks the search attribute(s) ${missing.map((a) => a.name).join(', ')}`,
    `register them: ${missing.map((a) => `temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.type}`).join('; ')} (deploy/scripts/create-namespace.sh does all)`,
  );
}

/**
 * The checks that need a worker: one polls the task queue, it holds our payload key, and then (a doctor run on
 * the queue) the host checks. Also the preflight of the destructive procedures, with the connection they already
 * have. The doctor run is started as `identity` (src/client.ts clientOnConnection).
 */
export async function workerChecks(
  connection: ConnectionLike,
  settings: Settings,
  host: DoctorHostInputRaw,
  identity: Identity,
): Promise<CheckResult[]> {
  const { namespace, taskQueue } = settings.temporal;
  let codec: LoadedCodec | undefined;
  let codecError: string | undefined;
  try {
    codec = loadSettingsCodec(settings, () => true);
  } catch (err) {
    codecError = firstLine(err);
  }
  const rest = (failed: CheckResult, ids: CheckId[]) => ids.map((id) => skippedBecause(id, failed));

  let pollers;
  try {
    pollers = await checkWorkersCanRead(clientOnConnection({ connection, namespace, identity }), namespace, taskQueue, codec);
  } catch (err) {
    const failed = check(
      'worker',
      'fail',
      `the task queue "${taskQueue}" could not be described (${firstLine(err)})`,
      'check --namespace and --task-queue',
    );
    return [failed, ...rest(failed, ['payload-key', 'worker-host', ...HOST_CHECKS])];
  }
  const count = pollers.checked.length + pollers.unknown.length;
  if (count === 0) {
    const failed = check(
      'worker',
      'fail',
      `no worker has polled task queue "${taskQueue}" in namespace "${namespace}" in the last 2 minutes`,
      `start one on the host that runs the procedures: \`pulse-runbook worker --task-queue ${taskQueue}\` with the same Temporal address and key file (or give the --task-queue the workers use)`,
    );
    return [failed, ...rest(failed, ['payload-key', 'worker-host', ...HOST_CHECKS])];
  }
  const names = [...pollers.checked.map((c) => c.identity), ...pollers.unknown].map((i) => i.split(' ')[0]);
  const worker = check('worker', 'ok', `${count} worker(s) on "${taskQueue}": ${names.join(', ')}`);

  let key: CheckResult;
  const bad = pollers.checked.filter((c) => c.problem);
  if (codecError)
    key = check(
      'payload-key',
      'fail',
      `this command's key file cannot be used: ${codecError}`,
      'fix --codec-keys-file / PULSE_RUNBOOKS_CODEC_KEYS_FILE',
    );
  else if (bad.length) key = check('payload-key', 'fail', `${bad[0].identity.split(' ')[0]}: ${bad[0].problem}`);
  else if (pollers.checked.length === 0) {
    key = check(
      'payload-key',
      'warn',
      'the workers do not advertise their keys (an older build): not checked',
      'upgrade the workers; a run they cannot read fails at once with PayloadUndecodable',
    );
  } else {
    key = check(
      'payload-key',
      'ok',
      codec
        ? `the workers hold key "${codec.codec.currentKeyId}" (${codec.keysFile}) and this command theirs`
        : 'no payload encryption, on either side',
    );
  }
  if (key.status === 'fail') return [worker, key, ...rest(key, ['worker-host', ...HOST_CHECKS])];
  return [worker, key, ...(await hostChecksOnWorker(connection, settings, codec, host, identity))];
}

/** Starts the doctor run on the task queue and waits (a bounded time) for the worker's host checks. */
async function hostChecksOnWorker(
  connection: ConnectionLike,
  settings: Settings,
  codec: LoadedCodec | undefined,
  host: DoctorHostInputRaw,
  identity: Identity,
): Promise<CheckResult[]> {
  const { namespace, taskQueue } = settings.temporal;
  const client = clientOnConnection({ connection, namespace, identity, ...(codec && { dataConverter: codec.dataConverter }) });
  const workflowId = `doctor-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const started = Date.now();
  try {
    const results = await client.workflow.execute<DoctorWorkflow>(DOCTOR_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [host],
      workflowExecutionTimeout: `${HOST_CHECKS_TIMEOUT_SECONDS}s`,
      staticSummary: 'doctor: host checks on a worker (read-only)',
    });
    const ran = check('worker-host', 'ok', `a worker answered in ${((Date.now() - started) / 1000).toFixed(1)} s (run ${workflowId})`);
    return [ran, ...(results as CheckResult[])];
  } catch (err) {
    const cause = firstLine((err as { cause?: unknown }).cause ?? err);
    const failed = check(
      'worker-host',
      'fail',
      `the worker did not run the host checks (run ${workflowId}: ${cause})`,
      'a worker of an older build has no doctor workflow: upgrade and restart the workers on this task queue',
    );
    return [failed, ...HOST_CHECKS.map((id) => skippedBecause(id, failed))];
  }
}
