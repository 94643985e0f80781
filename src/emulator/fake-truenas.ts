/**
 * A fake TrueNAS for the emulator, the tests and real Pulse binaries to poll for real, over either of the
 * two transports TrueNAS SCALE 25.x serves (option `transports`, default both):
 * - REST: the five `/api/v2.0` endpoints Pulse's Feb client and v6.0.0 call. Requests need
 *   `Authorization: Bearer <apiKey>` (or basic auth when username/password are given), else 401.
 * - JSON-RPC 2.0 over a websocket at `/api/current` (fake-truenas-rpc.ts), which Pulse's main line (6.1+)
 *   dials first. Without it, `/api/current` answers 404, as on TrueNAS up to 24.10: Pulse main then probes
 *   `/api/v2.0/system/info` and falls back to REST only for a CORE or pre-25.04 SCALE `version`.
 *
 * Pulse main sends JSON-RPC credentials over TLS only ("truenas JSON-RPC credentials require TLS"), so for it
 * give the fake a certificate (`tls`); `connection()` then registers it over https, pinned by fingerprint.
 *
 * Faults: `{status}` answers every REST endpoint with that status, `{delayMs}` answers late, `{down:true}`
 * closes the listener (connection refused until cleared), `{reset:true}` accepts and drops connections;
 * `paths` limits a status/delay/reset fault to some endpoints. fake-truenas-rpc.ts says what each does to
 * the websocket.
 *
 * Remember Pulse's endpoint rule: without an explicit `port`, "http://127.0.0.1:P" is dialled over HTTPS.
 * Register the fake as {"host": "http://127.0.0.1", "port": P} (or `fake.connection()` below).
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createInventory, type InventoryOptions, type InventoryUpdate } from './fake-truenas-inventory.js';
import { trueNASMethods } from './fake-truenas-methods.js';
import { afterFaultDelay, RPC_PATH, serveJsonRpc } from './fake-truenas-rpc.js';

export type { FakeDataset, FakePool } from './fake-truenas-inventory.js';

export type FakeTransport = 'rest' | 'jsonrpc';

/** The inventory options (hostname, version, serial, pools, datasets) and how the fake is reached. */
export interface FakeTrueNASOptions extends InventoryOptions {
  apiKey: string;
  /** Owner of the API key: `auth.login_ex` with API_KEY_PLAIN must name it (default "root"). */
  apiKeyUser?: string;
  username?: string;
  password?: string;
  port?: number;
  /** Default both; ['rest'] is a NAS without /api/current, ['jsonrpc'] one without REST (TrueNAS 26). */
  transports?: FakeTransport[];
  /** Serve HTTPS/WSS with this certificate (PEM) instead of plain HTTP/WS. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface FakeFault {
  status?: number;
  body?: string;
  delayMs?: number;
  down?: boolean;
  reset?: boolean;
  /**
   * What the fault applies to; default all. REST paths (e.g. "/api/v2.0/disk"), "/api/current" (the whole
   * websocket: handshakes and calls) or JSON-RPC method names (e.g. "disk.query": those calls only).
   */
  paths?: string[];
}

export interface FakeRequest {
  /** HTTP method, or "RPC" for a JSON-RPC call. */
  method: string;
  /** URL path, or the JSON-RPC method name. */
  path: string;
  /** HTTP status (101: websocket opened); for a call 200, 401 (login refused) or the JSON-RPC error code. */
  status: number;
}

export interface FakeTrueNAS {
  url: string;
  port: number;
  /** ws:// or wss:// URL of the JSON-RPC endpoint. */
  rpcUrl: string;
  /** SHA-256 fingerprint (hex) of the TLS certificate, when there is one. */
  fingerprint?: string;
  /** Body for POST /api/truenas/connections pointing at this fake (plain HTTP, or HTTPS pinned when `tls`). */
  connection(extra?: Record<string, unknown>): Record<string, unknown>;
  setFault(fault: FakeFault | null): Promise<void>;
  /** Replace the served inventory (e.g. mark a pool DEGRADED). */
  setInventory(update: InventoryUpdate): void;
  /** Requests and JSON-RPC calls received so far, no header values, params or secrets. */
  requests(): FakeRequest[];
  close(): Promise<void>;
}

export async function startFakeTrueNAS(opts: FakeTrueNASOptions): Promise<FakeTrueNAS> {
  const transports = new Set(opts.transports ?? ['rest', 'jsonrpc']);
  const inventory = createInventory(opts);
  let fault: FakeFault | null = null;
  const log: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const faultFor = (targets: string[]) => (fault && (!fault.paths || targets.some((t) => fault!.paths!.includes(t))) ? fault : null);

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

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    // A transport the NAS does not have is a route it does not have, whoever asks.
    if ((path === RPC_PATH && !transports.has('jsonrpc')) || (path.startsWith('/api/v2.0/') && !transports.has('rest'))) {
      return send(req, res, 404, JSON.stringify({ message: 'Not found' }));
    }
    const active = faultFor([path]);
    afterFaultDelay(active, () => {
      if (active?.reset) {
        req.socket.destroy();
        return;
      }
      if (active?.status) return send(req, res, active.status, active.body ?? JSON.stringify({ message: 'Injected fault' }));
      if (!authorized(req)) return send(req, res, 401, JSON.stringify({ message: 'Unauthorized' }));
      const body = bodies[path];
      if (!body || req.method !== 'GET') return send(req, res, 404, JSON.stringify({ message: 'Not found' }));
      return send(req, res, 200, JSON.stringify(body()));
    });
  };
  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createServer(onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (transports.has('jsonrpc')) {
    const methods = trueNASMethods(inventory, {
      apiKey: opts.apiKey,
      apiKeyUser: opts.apiKeyUser ?? 'root',
      username: opts.username,
      password: opts.password,
    });
    serveJsonRpc(server, { methods, faultFor, log: (entry) => log.push(entry) });
  }

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
  const scheme = opts.tls ? 'https' : 'http';
  const fingerprint = opts.tls ? new X509Certificate(opts.tls.cert).fingerprint256.replace(/:/g, '').toLowerCase() : undefined;
  // Pulse checks a pinned fingerprint only on top of chain verification, which a self-signed certificate
  // fails; skip-verify plus the pin is how it accepts one certificate and nothing else.
  const tlsFields = fingerprint ? { insecureSkipVerify: true, fingerprint } : {};

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    rpcUrl: `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}${RPC_PATH}`,
    fingerprint,
    connection: (extra = {}) => ({
      name: inventory.hostname(),
      host: `${scheme}://127.0.0.1`,
      port,
      apiKey: opts.apiKey,
      enabled: true,
      ...tlsFields,
      ...extra,
    }),
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
