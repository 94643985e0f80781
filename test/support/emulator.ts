/**
 * Helpers for tests that drive the emulator: an in-process start with temp dirs and captured logs,
 * a raw HTTP helper that keeps status, headers and body text exactly as sent, and the quick-setup
 * flow that turns the bootstrap token into an admin `*` token (as Pulse's own harness does).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOTSTRAP_FILE } from '../../src/emulator/auth.js';
import type { EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/server.js';

export interface TestEmulator extends EmulatorHandle {
  logs: string[];
  /** Stops the emulator and removes its temp dir. */
  dispose(): Promise<void>;
}

export function defaultTestConfig(dataDir: string, overrides: Partial<EmulatorConfig> = {}): EmulatorConfig {
  return {
    dataDir,
    port: 0,
    bindAddress: '127.0.0.1',
    metricsPort: 0,
    enableTrueNAS: 'true',
    profile: 'feb',
    tickSeconds: 3600, // tests drive ticks through the control API unless they want the timer
    staleSeconds: 120,
    tokens: [],
    pollTimeoutMs: 2000,
    testTimeoutMs: 2000,
    demoTrueNAS: false,
    ...overrides,
  };
}

/** Starts an in-process emulator on random ports in a fresh temp data dir. */
export async function startTestEmulator(overrides: Partial<EmulatorConfig> = {}): Promise<TestEmulator> {
  const root = mkdtempSync(join(tmpdir(), 'pulse-emu-test-'));
  const logs: string[] = [];
  const handle = await startEmulator(defaultTestConfig(overrides.dataDir ?? join(root, 'data'), overrides), {
    logSink: (line) => logs.push(line),
  });
  return {
    ...handle,
    logs,
    async dispose() {
      await handle.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  method?: string;
  /** Sent as-is when a string, JSON-encoded otherwise. */
  body?: unknown;
  token?: string;
  /** Send the token as `Authorization: Bearer` instead of `X-API-Token`. */
  bearer?: boolean;
  headers?: Record<string, string>;
}

export async function call(baseUrl: string, path: string, opts: CallOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) {
    if (opts.bearer) headers.Authorization = `Bearer ${opts.token}`;
    else headers['X-API-Token'] = opts.token;
  }
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method: opts.method ?? 'GET', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Quick-setup with the bootstrap token from the data dir; returns the new `*` API token. */
export async function quickSetupAdmin(baseUrl: string, dataDir: string, apiToken = randomBytes(32).toString('hex')): Promise<string> {
  const bootstrap = readFileSync(join(dataDir, BOOTSTRAP_FILE), 'utf8').trim();
  const res = await call(baseUrl, '/api/security/quick-setup', {
    method: 'POST',
    headers: { 'X-Setup-Token': bootstrap },
    body: { username: 'admin', password: 'emulator-admin-pass', apiToken },
  });
  if (res.status !== 200) throw new Error(`quick-setup failed: ${res.status} ${res.text}`);
  return apiToken;
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
