/**
 * Runs the Temporal dev server (`temporal server start-dev`) as a child process: the embedded server of the
 * main command (SQLite file, Web UI) and the one shared by the e2e tests (in memory, headless).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from './tools.js';
import { searchAttributeFlags } from './search-attributes.js';

export interface DevServerOptions {
  /** gRPC port; 0 picks a free one. */
  port?: number;
  /** Web UI port; omit with headless. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file; omitted means state lives in memory. */
  dbFile?: string;
  namespace?: string;
  /** Web UI codec server (issue 6). */
  uiCodecEndpoint?: string;
  readyTimeoutMs?: number;
  /** Where the server's own log goes; defaults to being discarded. */
  logFile?: string;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits until the frontend answers a real gRPC call, not just a TCP accept. */
export async function waitForTemporal(address: string, timeoutMs: number, child?: ResultPromise): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let exited = false;
  child?.catch(() => undefined).finally(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the Temporal dev server exited before it was ready (address ${address})`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const cli = await temporalCliPath();
  const port = opts.port || (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', opts.namespace ?? 'default'];
  args.push('--log-level', 'warn', ...searchAttributeFlags());
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);

  const child = execa(cli, args, {
    stdin: 'ignore',
    stdout: opts.logFile ? { file: opts.logFile } : 'ignore',
    stderr: opts.logFile ? { file: opts.logFile } : 'ignore',
    reject: false,
    cleanup: true,
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitForTemporal(address, opts.readyTimeoutMs ?? 60_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? port + 1000);
  return {
    address,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    pid: child.pid ?? -1,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child;
      clearTimeout(timer);
    },
  };
}
