/**
 * A fake TrueNAS REST API (the five `/api/v2.0` endpoints Pulse's Feb client calls), for the emulator
 * to poll for real over HTTP. Requests need `Authorization: Bearer <apiKey>` (or basic auth when
 * username/password are given), else 401. Faults: `{status}` answers every endpoint with that status,
 * `{delayMs}` answers late, `{down:true}` closes the listener (connection refused until cleared),
 * `{reset:true}` accepts and drops connections; `paths` limits a status/delay/reset fault to some endpoints.
 *
 * Remember Pulse's endpoint rule: without an explicit `port`, "http://127.0.0.1:P" is dialled over HTTPS.
 * Register the fake as {"host": "http://127.0.0.1", "port": P} (or `fake.connection()` below).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createInventory, type FakeDataset, type FakePool } from './fake-truenas-inventory.js';

export type { FakeDataset, FakePool } from './fake-truenas-inventory.js';

export interface FakeTrueNASOptions {
  apiKey: string;
  username?: string;
  password?: string;
  hostname?: string;
  version?: string;
  serial?: string;
  pools?: FakePool[];
  datasets?: FakeDataset[];
  port?: number;
}

export interface FakeFault {
  status?: number;
  body?: string;
  delayMs?: number;
  down?: boolean;
  reset?: boolean;
  /** Endpoint paths (e.g. "/api/v2.0/disk") the fault applies to; default all. */
  paths?: string[];
}

export interface FakeTrueNAS {
  url: string;
  port: number;
  /** Body for POST /api/truenas/connections pointing at this fake over plain HTTP. */
  connection(extra?: Record<string, unknown>): Record<string, unknown>;
  setFault(fault: FakeFault | null): Promise<void>;
  /** Replace the served inventory (e.g. mark a pool DEGRADED). */
  setInventory(update: { pools?: FakePool[]; datasets?: FakeDataset[]; hostname?: string }): void;
  /** Requests received so far (method, path, status), no header values. */
  requests(): Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

export async function startFakeTrueNAS(opts: FakeTrueNASOptions): Promise<FakeTrueNAS> {
  const inventory = createInventory(opts);
  let fault: FakeFault | null = null;
  const log: Array<{ method: string; path: string; status: number }> = [];
  const sockets = new Set<Socket>();

  const bodies: Record<string, () => unknown> = {
    '/api/v2.0/system/info': inventory.systemInfo,
    '/api/v2.0/pool': inventory.pools,
    '/api/v2.0/pool/dataset': inventory.datasets,
    '/api/v2.0/disk': inventory.disks,
    '/api/v2.0/alert/list': inventory.alerts,
  };

  const authorized = (req: IncomingMessage): boolean => {
    const authz = req.headers.authorization ?? '';
    if (authz === `Bearer ${opts.apiKey}`) return true;
    if (opts.username && opts.password && authz.startsWith('Basic ')) {
      return Buffer.from(authz.slice(6), 'base64').toString('utf8') === `${opts.username}:${opts.password}`;
    }
    return false;
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string, type = 'application/json') => {
    log.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], status });
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const active = fault && (!fault.paths || fault.paths.includes(path)) ? fault : null;
    const answer = () => {
      if (active?.reset) {
        req.socket.destroy();
        return;
      }
      if (active?.status) return send(req, res, active.status, active.body ?? JSON.stringify({ message: 'Injected fault' }));
      if (!authorized(req)) return send(req, res, 401, JSON.stringify({ message: 'Unauthorized' }));
      const body = bodies[path];
      if (!body || req.method !== 'GET') return send(req, res, 404, JSON.stringify({ message: 'Not found' }));
      return send(req, res, 200, JSON.stringify(body()));
    };
    if (active?.delayMs) setTimeout(answer, active.delayMs);
    else answer();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const closeListener = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const port = await listen(opts.port ?? 0);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    connection: (extra = {}) => ({ name: inventory.hostname(), host: 'http://127.0.0.1', port, apiKey: opts.apiKey, enabled: true, ...extra }),
    async setFault(next) {
      const wasDown = fault?.down === true;
      fault = next;
      if (next?.down && !wasDown) await closeListener();
      if (!next?.down && wasDown) await listen(port);
    },
    setInventory: inventory.update,
    requests: () => [...log],
    close: closeListener,
  };
}
