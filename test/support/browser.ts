/**
 * A real browser for the Web UI tests: Debian's Chromium (scripts/install-chromium.sh, CHROMIUM_PATH to use
 * another) driven by playwright-core, which never downloads a browser of its own. Plus what such a test needs
 * around it: a wait for the UI's HTTP server, a record of every response the pages received (to search for
 * secrets in what the browser was sent, not only in what it drew), text waits that poll the rendered page, and
 * screenshots kept under test-artifacts/web-ui.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL_SCRIPT = path.join(repoRoot, 'scripts', 'install-chromium.sh');

/** Where screenshots go (gitignored with the rest of test-artifacts/). */
export const WEB_UI_ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'web-ui');

/** The Chromium binary: CHROMIUM_PATH, a chromium on PATH, or Debian's package installed now (as root). */
export async function chromiumPath(): Promise<string> {
  const run = await execa('bash', [INSTALL_SCRIPT], { reject: false, stdin: 'ignore' });
  const found = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.exitCode !== 0 || !found) {
    throw new Error(`no Chromium for the browser test (scripts/install-chromium.sh exited ${run.exitCode}):\n${run.stderr}`);
  }
  return found;
}

/** Headless Chromium. As root its sandbox refuses to start, so root (CI, containers) runs it without one. */
export async function launchChromium(): Promise<Browser> {
  const args = ['--disable-dev-shm-usage'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: await chromiumPath(), headless: true, args });
}

/** Waits until the Web UI's own HTTP server answers: the dev server's gRPC port can be ready before it. */
export async function waitForWebUi(uiUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${uiUrl}/api/v1/settings`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the Web UI at ${uiUrl} did not answer within ${timeoutMs} ms (${last})`);
}

export interface ResponseRecord {
  url: string;
  status: number;
  body: string;
}

export interface ResponseLog {
  /** Every response the context's pages received so far, bodies read (binary ones as latin1). */
  all(): Promise<ResponseRecord[]>;
}

/** Records the responses of every page of the context: the UI's API answers and the codec server's alike. */
export function recordResponses(context: BrowserContext): ResponseLog {
  const pending: Array<Promise<ResponseRecord | undefined>> = [];
  context.on('response', (response) => {
    pending.push(
      response.body().then(
        (body) => ({ url: response.url(), status: response.status(), body: body.toString('latin1') }),
        // Redirects and aborted requests have no body; there is nothing in them to search.
        () => undefined,
      ),
    );
  });
  return {
    async all() {
      const settled = await Promise.all(pending);
      return settled.filter((r): r is ResponseRecord => r !== undefined);
    },
  };
}

/**
 * The text as a reader could recover it: the text itself plus every base64 run decoded. Payloads travel in
 * base64 (the UI's API answers, the codec server's answers), so a plain secret inside one is found here too.
 */
export function readableText(body: string): string {
  const decoded = (body.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []).map((run) =>
    Buffer.from(run, run.includes('-') || run.includes('_') ? 'base64url' : 'base64').toString('latin1'),
  );
  return [body, ...decoded].join('\n');
}

/** Polls the element's rendered text until it matches; the UI fills panels in as its requests come back. */
export async function waitForText(locator: Locator, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await locator.innerText({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => text);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline)
      throw new Error(`no ${pattern} in the page within ${timeoutMs} ms; the element's text was:\n${text.slice(0, 4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A full-page screenshot under test-artifacts/web-ui; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(WEB_UI_ARTIFACTS, { recursive: true });
  const file = path.join(WEB_UI_ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
