/**
 * The audit trail as auditors read it: the Temporal Web UI in a real browser (Debian's Chromium driven by
 * playwright-core). This file runs its own dev server WITH the Web UI (the shared one is headless) and tells it the
 * codec server's endpoint, so the UI shows decrypted values while the server stores only ciphertext.
 *
 * A canary rollout runs on a worker with the codec: phase 1 enables TrueNAS on one instance through the real Enable
 * child workflow (the Pulse emulator run as a service, a fake TrueNAS whose API key the activity reads from an env
 * var: only the reference `{ env }` is in the input), the metric checkpoints are scripted green (Prometheus itself is
 * a closed port), a person confirms the staging rollback test, an approver signs off, and the approver then aborts
 * the rollout so its history stops growing. Then, in the browser:
 * - with the codec endpoint: the run is found by its search attribute, its input is readable, the sign-off shows
 *   the approver and the time, and neither the TrueNAS API key, the Pulse token nor the codec key is anywhere in
 *   the pages or in any response the browser received (the codec server's decoded answers included);
 * - the same server restarted on the same database WITHOUT the codec endpoint: the input is ciphertext and the
 *   approver's name is nowhere on the page.
 * Screenshots go to test-artifacts/web-ui/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as activities from '../../activities/index.js';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { localUiOrigins, startCodecServer, type CodecServer } from '../../src/temporal/codec-server.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { createWorker, type WorkerHandle } from '../../src/worker.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import type { SignOff } from '../../src/canary/state.js';
import {
  launchChromium,
  readableText,
  recordResponses,
  screenshot,
  waitForText,
  waitForWebUi,
  type ResponseLog,
} from '../support/browser.js';
import { canaryUpdate, scriptedMetrics, statusWhen } from '../../bench/support/canary.js';
import { startPulseService, type PulseService } from '../support/pulse-service.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { CANARY_ROLLOUT_WORKFLOW, type CanaryRolloutWorkflow } from '../../workflows/canary-rollout.messages.js';

const NAMESPACE = 'default';
/** Base64 of "binary/encrypted", the encoding the UI shows in a payload's metadata when it cannot decode it. */
const ENCRYPTED_ENCODING_B64 = Buffer.from('binary/encrypted').toString('base64');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const tag = randomBytes(3).toString('hex');
const rollout = `webui-${tag}`;
const workflowId = `canary-${rollout}`;
const startedBy = `rita-${tag}`;
const approver = `sam-${tag}`;
const keyEnv = `WEBUI_TRUENAS_KEY_${tag.toUpperCase()}`;
/** The TrueNAS API key: a random value only the env var holds; the input names the variable. */
const apiKey = randomBytes(24).toString('hex');

let dir: string;
let dbFile: string;
let codecKey: string;
let codecServer: CodecServer | undefined;
let server: DevServer | undefined;
let uiUrl: string;
let worker: WorkerHandle | undefined;
let running: Promise<void> | undefined;
let connection: Connection | undefined;
let fake: FakeTrueNAS | undefined;
let svc: PulseService | undefined;
let browser: Browser | undefined;
let signOff: SignOff;
const shots: string[] = [];

/** Every secret of the run: none may reach the browser in plain text, drawn or sent. */
const secrets = (): Array<[string, string]> => [
  ['the TrueNAS API key', apiKey],
  ['the Pulse API token', svc!.token],
  ['the codec key', codecKey],
];

function rolloutInput(s: PulseService, truenas: FakeTrueNAS): CanaryInputRaw {
  const host = {
    pulse: { url: s.url, token: { env: s.tokenEnv }, timeoutMs: 3000 },
    flag: { kind: 'env-file' as const, path: s.envFile },
    restart: { kind: 'command' as const, argv: s.argv('restart'), healthTimeoutMs: 20_000, healthIntervalMs: 100 },
    logs: { kind: 'file' as const, path: s.logFile },
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
  };
  return {
    rollout,
    startedBy,
    // Nothing listens there: the scripted evaluateMetricChecks answers instead of Prometheus.
    prometheus: { url: 'http://127.0.0.1:1', timeoutMs: 1000 },
    checkEverySeconds: 1,
    phase1: {
      minSeconds: 2,
      greenSeconds: 1,
      instances: [
        {
          name: 'dev-1',
          pulseUrl: s.url,
          enable: {
            ...host,
            connection: { name: 'nas-canary', host: 'http://127.0.0.1', port: truenas.port, apiKey: { env: keyEnv } },
            appearWithinSeconds: 15,
            verifyEverySeconds: 0.25,
          },
        },
      ],
    },
    phase2: { minSeconds: 3600, quietSeconds: 1800 },
    approvers: { phase1: [approver], phase2: [approver], phase3: [approver] },
  } as CanaryInputRaw;
}

/** The dev server with its Web UI on the same database; with the codec endpoint when one is given. */
async function startServer(codecEndpoint?: string, uiPort?: number): Promise<DevServer> {
  const started = await startDevServer({
    uiPort: uiPort ?? (await freePort()),
    dbFile,
    logFile: path.join(dir, 'temporal-server.log'),
    ...(codecEndpoint ? { uiCodecEndpoint: codecEndpoint } : {}),
  });
  await waitForWebUi(started.uiUrl!);
  return started;
}

beforeAll(async () => {
  quietRuntime();
  dir = mkdtempSync(path.join(tmpdir(), 'web-ui-'));
  dbFile = path.join(dir, 'temporal.sqlite');
  // Chromium (installed on first use) starts while the servers and the run get going; afterAll closes it even
  // when a later step of this setup fails.
  const launching = launchChromium().then((b) => (browser = b));
  launching.catch(() => undefined);

  const keysFile = path.join(dir, 'codec-keys.json');
  const { currentKeyId } = createKeyFile(keysFile, { keyId: `web-ui-${tag}` });
  codecKey = JSON.parse(readFileSync(keysFile, 'utf8')).keys[currentKeyId];
  const { codec, dataConverter } = loadCodec(keysFile);

  // The codec server first: the UI is told its endpoint when it starts, and it answers only the UI's origin.
  const uiPort = await freePort();
  codecServer = await startCodecServer({ codec, allowedOrigins: localUiOrigins(uiPort), namespaces: [NAMESPACE] });
  server = await startServer(codecServer.url, uiPort);
  uiUrl = server.uiUrl!;

  process.env[keyEnv] = apiKey;
  fake = await startFakeTrueNAS({ apiKey });
  svc = await startPulseService({ envFile: 'PULSE_ENABLE_TRUENAS=false\n' });

  const taskQueue = `web-ui-${tag}`;
  const metrics = scriptedMetrics(
    () => ({}),
    () => Date.now(),
  );
  worker = await createWorker(
    { address: server.address, namespace: NAMESPACE, taskQueue },
    { activities: { ...activities, ...metrics.activities } },
    { codec },
  );
  running = worker.worker.run();
  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: NAMESPACE, dataConverter });

  const handle: WorkflowHandle = await client.workflow.start<CanaryRolloutWorkflow>(CANARY_ROLLOUT_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [rolloutInput(svc, fake)],
    staticSummary: `Canary rollout ${rollout} started by ${startedBy}`,
  });
  // Phase 1 activation ran the real Enable child (flag, restart, connection with the key read from the env var).
  await statusWhen(handle, (s) => s.status === 'monitoring', 90_000);
  await canaryUpdate(handle, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable run staging-disable-42 completed' });
  await statusWhen(handle, (s) => s.checklist.every((i) => i.ok || i.step === 'canary.checklist.5'), 30_000);
  signOff = await canaryUpdate(handle, 'signOff', { actor: approver, comment: 'phase 1 is green' });
  expect(signOff).toMatchObject({ actor: approver, phase: 1 });
  // Ends the run, so the history the browser reads is final (a running canary adds a checkpoint every second).
  await canaryUpdate(handle, 'abort', { actor: approver, reason: 'end of the Web UI audit check' });
  expect(((await handle.result()) as CanaryResult).outcome).toBe('aborted');

  await launching;
}, 240_000);

afterAll(async () => {
  worker?.worker.shutdown();
  await running?.catch(() => undefined);
  await worker?.connection.close();
  await connection?.close();
  await browser?.close();
  await server?.stop();
  await codecServer?.close();
  await svc?.stop();
  await fake?.close();
  delete process.env[keyEnv];
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (shots.length) process.stderr.write(`\n[web-ui] screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}\n`);
}, 60_000);

async function shoot(page: Page, name: string): Promise<void> {
  shots.push(await screenshot(page, name));
}

/** Nothing secret in the pages' HTML or in anything the browser was sent (base64 payloads decoded too). */
async function expectNoSecrets(pages: string[], responses: ResponseLog): Promise<void> {
  const sent = await responses.all();
  expect(sent.length).toBeGreaterThan(10);
  const corpus = [...pages, ...sent.map((r) => `${r.url}\n${r.body}`)].map(readableText).join('\n');
  for (const [what, value] of secrets()) {
    const where = corpus.indexOf(value);
    // The message names the secret, never its value.
    if (where >= 0) throw new Error(`${what} is readable in the browser's content or responses`);
  }
}

/** Filters the event history to Update events (the UI's Filter menu) and returns the events table. */
async function showOnlyUpdates(page: Page) {
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByTestId('None').click();
  await page.getByTestId('Update').click();
  await page.keyboard.press('Escape');
  await page.getByTestId('Update').waitFor({ state: 'hidden' });
  const table = page.getByTestId('event-summary-table');
  await waitForText(table, /Workflow Execution Update Accepted[\s\S]*signOff/);
  return table;
}

/** The event history filtered to Updates, both signOff events expanded; returns the table's text. */
async function openSignOffEvents(page: Page): Promise<string> {
  const table = await showOnlyUpdates(page);
  await table.getByTestId('event-summary-row').filter({ hasText: 'signOff' }).click();
  await table.getByTestId('event-summary-row').filter({ hasText: 'Update Completed' }).filter({ hasText: approver }).click();
  return waitForText(table, new RegExp(`"at": "${escapeRegExp(signOff.at)}"`));
}

describe('the Temporal Web UI in Chromium', () => {
  it('with the codec endpoint: finds the canary by search attribute, shows the decoded input and the sign-off, and no secret', async () => {
    const context: BrowserContext = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    const responses = recordResponses(context);
    try {
      const page = await context.newPage();
      const html: string[] = [];

      // The workflow list, filtered by the search attribute the canary publishes.
      const query = encodeURIComponent('RunbookProcedure="canary-rollout"');
      await page.goto(`${uiUrl}/namespaces/${NAMESPACE}/workflows?query=${query}`);
      const link = page.getByRole('link', { name: workflowId, exact: true });
      await link.waitFor({ timeout: 30_000 });
      // Only the canary: its Enable child carries no RunbookProcedure, so the filter (not luck) found the run.
      expect(await page.getByRole('link', { name: `${workflowId}-enable-dev-1` }).count()).toBe(0);
      await shoot(page, 'list-filtered-by-search-attribute');
      html.push(await page.content());

      await link.click();
      await page.getByTestId('workflow-id-heading').getByText(workflowId).waitFor();
      // The UI reached the codec server: the input is the rollout as it was started, in clear.
      await page.getByTestId('data-encoder-status-success').waitFor();
      const input = await waitForText(page.getByTestId('input-and-result'), new RegExp(`"rollout": "${rollout}"`));
      expect(input).toContain(`"startedBy": "${startedBy}"`);
      // The API key travels as a reference: its variable's name is in the input, its value is not.
      expect(input).toContain(`"env": "${keyEnv}"`);
      expect(input).toContain('"outcome": "aborted"');
      await shoot(page, 'run-decoded-input');

      // The sign-off: who (the update's input and outcome) and when (the outcome's time and the events' times).
      const events = await openSignOffEvents(page);
      expect(events).toMatch(new RegExp(`"actor": "${approver}",\\s*"comment": "phase 1 is green"`));
      expect(events).toMatch(new RegExp(`"phase": 1,\\s*"actor": "${approver}",\\s*"at": "${escapeRegExp(signOff.at)}"`));
      // The Update Completed row's own timestamp (UTC, as the UI shows it) is the moment of the sign-off.
      const row = await page
        .getByTestId('event-summary-row')
        .filter({ hasText: 'Update Completed' })
        .filter({ hasText: approver })
        .innerText();
      const shown = /(\d{4}-\d{2}-\d{2}) UTC (\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(row);
      expect(shown).not.toBeNull();
      expect(Math.abs(Date.parse(`${shown![1]}T${shown![2]}Z`) - Date.parse(signOff.at))).toBeLessThan(5000);
      await shoot(page, 'sign-off-events');
      html.push(await page.content());

      // The Enable child, whose activities read the API key and the Pulse token: only references there too.
      await page.goto(`${uiUrl}/namespaces/${NAMESPACE}/workflows/${workflowId}-enable-dev-1`);
      await page.getByTestId('data-encoder-status-success').waitFor();
      const childInput = await waitForText(page.getByTestId('input-and-result'), /"apiKey": \{\s*"env":/);
      expect(childInput).toContain(`"env": "${keyEnv}"`);
      expect(childInput).toContain(`"env": "${svc!.tokenEnv}"`);
      await shoot(page, 'enable-child-decoded-input');
      html.push(await page.content());

      const codecAnswers = (await responses.all()).filter((r) => r.url.startsWith(codecServer!.url) && r.status === 200);
      // The check below reads decoded payloads too: the codec server answered, and its answers hold the plain input.
      expect(codecAnswers.length).toBeGreaterThan(0);
      expect(codecAnswers.map((r) => readableText(r.body)).join('\n')).toContain(keyEnv);
      await expectNoSecrets(html, responses);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('without the codec endpoint (same database, server restarted): the input is ciphertext and the approver is nowhere', async () => {
    // No worker is needed to read history; the run has ended.
    worker?.worker.shutdown();
    await running;
    await worker?.connection.close();
    worker = undefined;
    await connection?.close();
    connection = undefined;
    await server!.stop();
    server = undefined;
    server = await startServer();
    uiUrl = server.uiUrl!;

    const context = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    const responses = recordResponses(context);
    try {
      const page = await context.newPage();
      await page.goto(`${uiUrl}/namespaces/${NAMESPACE}/workflows/${workflowId}`);
      await page.getByTestId('workflow-id-heading').getByText(workflowId).waitFor({ timeout: 30_000 });
      const input = await waitForText(page.getByTestId('input-and-result'), new RegExp(escapeRegExp(ENCRYPTED_ENCODING_B64)));
      expect(input).not.toContain(rollout);
      expect(input).not.toContain(startedBy);
      expect(await page.getByTestId('data-encoder-status-success').count()).toBe(0);
      await shoot(page, 'run-without-codec-ciphertext');
      // The sign-off's events are there (update names are not payloads), but what they carry is not readable.
      const table = await showOnlyUpdates(page);
      await table.getByTestId('event-summary-row').filter({ hasText: 'signOff' }).click();
      const request = await waitForText(
        table,
        new RegExp(`Accepted Request[\\s\\S]*"name": "signOff"[\\s\\S]*${escapeRegExp(ENCRYPTED_ENCODING_B64)}`),
      );
      expect(request).not.toContain(approver);
      await table.getByText('Accepted Request', { exact: true }).scrollIntoViewIfNeeded();
      await shoot(page, 'sign-off-without-codec-ciphertext');
      const html = await page.content();
      expect(html).not.toContain(approver);
      expect((await responses.all()).some((r) => r.url.startsWith(codecServer!.url))).toBe(false);
      await expectNoSecrets([html], responses);
    } finally {
      await context.close();
    }
  }, 120_000);
});
