/**
 * The fake TrueNAS's JSON-RPC websocket at /api/current, through a real `ws` client on real sockets: what
 * Pulse's main line sends (internal/truenas/client.go) and the answers it decodes, a refused key, the REST
 * transport beside it, the REST-only fake, and the faults.
 */
import { connect as connectTcp } from 'node:net';
import { connect } from 'node:tls';
import { WebSocket } from 'ws';
import { startFakeTrueNAS, type FakeTrueNAS, type FakeTrueNASOptions } from '../../src/emulator/fake-truenas.js';
import { selfSignedCert } from '../../src/emulator/self-signed-cert.js';

const KEY = 'fake-key-123456';

interface Reply {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string; data?: { errname?: string; reason?: string } };
  method?: string;
  params?: unknown;
}

/** A JSON-RPC client like Pulse's: one socket, sequential ids, notifications kept aside. */
class RpcClient {
  private nextId = 1;
  private waiting = new Map<number, (reply: Reply) => void>();
  readonly notifications: Reply[] = [];
  /** Every message in arrival order: "#id" for an answer, the method name for a notification. */
  readonly received: string[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as Reply;
      this.received.push(reply.method ?? `#${reply.id}`);
      if (reply.method) this.notifications.push(reply);
      else this.waiting.get(reply.id!)?.(reply);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  static open(url: string): Promise<RpcClient> {
    const ws = new WebSocket(url, { rejectUnauthorized: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RpcClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake status ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  call(method: string, params: unknown[] = []): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.closed.then(() => reject(new Error('connection closed')));
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  async loggedIn(key = KEY): Promise<this> {
    expect((await this.call('auth.login_with_api_key', [key])).result).toBe(true);
    return this;
  }

  close(): void {
    this.ws.terminate();
  }
}

let fake: FakeTrueNAS | undefined;
const clients: RpcClient[] = [];
const start = async (opts: Partial<FakeTrueNASOptions> = {}) => (fake = await startFakeTrueNAS({ apiKey: KEY, ...opts }));
const open = async (url = fake!.rpcUrl) => {
  const client = await RpcClient.open(url);
  clients.push(client);
  return client;
};

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await fake?.close();
  fake = undefined;
});

describe('JSON-RPC: what a Pulse poll calls', () => {
  test('auth.login_with_api_key with the right key logs the session in; the inventory matches REST', async () => {
    await start();
    const client = await (await open()).loggedIn();
    const rest = async (path: string) =>
      (await fetch(`${fake!.url}/api/v2.0/${path}`, { headers: { Authorization: `Bearer ${KEY}` } })).json();

    const system = (await client.call('system.info')).result as Record<string, unknown>;
    expect(system).toMatchObject({ hostname: 'truenas-fake', version: 'TrueNAS-SCALE-24.10.2', system_serial: 'FAKE-SERIAL-0001' });
    expect({ ...system, uptime_seconds: 0 }).toEqual({ ...((await rest('system/info')) as object), uptime_seconds: 0 });
    expect((await client.call('pool.query', [[], {}])).result).toEqual(await rest('pool'));
    expect((await client.call('pool.dataset.query', [[], {}])).result).toEqual(await rest('pool/dataset'));
    expect((await client.call('disk.query', [[], { extra: { pools: true } }])).result).toEqual(await rest('disk'));
    const alerts = (await client.call('alert.list')).result as Array<Record<string, unknown>>;
    expect(alerts.map((a) => a.formatted)).toEqual(['Fake TrueNAS is running']);
    expect(alerts[0].datetime).toEqual({ $date: expect.any(Number) });
  });

  test('disk.query names the pool only when asked with extra.pools, as middleware does', async () => {
    await start();
    const client = await (await open()).loggedIn();
    const plain = (await client.call('disk.query', [[], {}])).result as Array<Record<string, unknown>>;
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatchObject({ name: 'sda', identifier: '{serial}FAKEDISK0' });
    expect(plain[0]).not.toHaveProperty('pool');
  });

  test('setInventory shows on the next call of an open connection', async () => {
    await start();
    const client = await (await open()).loggedIn();
    fake!.setInventory({ pools: [{ name: 'tank', status: 'DEGRADED' }, { name: 'backup' }] });
    const pools = (await client.call('pool.query', [[], {}])).result as Array<Record<string, unknown>>;
    expect(pools.map((p) => `${p.name} ${p.status}`)).toEqual(['tank DEGRADED', 'backup ONLINE']);
    expect(((await client.call('disk.query', [[], { extra: { pools: true } }])).result as unknown[]).length).toBe(2);
  });

  test('the best-effort calls answer empty, and a subscription sends its first event after its answer', async () => {
    await start();
    const client = await (await open()).loggedIn();
    for (const method of ['service.query', 'app.query', 'vm.query', 'sharing.smb.query', 'sharing.nfs.query', 'replication.query']) {
      expect([method, (await client.call(method, [[], {}])).result]).toEqual([method, []]);
    }
    expect((await client.call('zfs.resource.snapshot.query', [{ paths: [], recursive: true }])).result).toEqual([]);
    expect((await client.call('disk.temperature_agg', [['sda'], 7])).result).toEqual({});
    const graphs = (
      await client.call('reporting.get_data', [[{ name: 'cputemp', identifier: null }], { aggregate: true, start: 1, end: 2 }])
    ).result;
    expect(graphs).toEqual([
      { name: 'cputemp', identifier: null, data: [], start: 1, end: 2, legend: [], aggregations: { min: {}, mean: {}, max: {} } },
    ]);

    const name = 'reporting.realtime:{"interval":2}';
    const sub = await client.call('core.subscribe', [name]);
    expect(sub.result).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    await client.call('core.unsubscribe', [sub.result]);
    // Pulse skips notifications while it waits for an answer: an event sent before the answer would be lost.
    expect(client.received.slice(-3)).toEqual([`#${sub.id}`, 'collection_update', `#${sub.id! + 1}`]);
    expect(client.notifications).toEqual([
      {
        jsonrpc: '2.0',
        method: 'collection_update',
        params: { msg: 'added', collection: name, fields: expect.objectContaining({ cpu: { usage: 2.5 } }) },
      },
    ]);
    await client.call('core.subscribe', ['app.stats:{"interval":2}']);
    expect(client.notifications[1].params).toEqual({ msg: 'added', collection: 'app.stats:{"interval":2}', fields: [] });
  });

  test('auth.login_ex with API_KEY_PLAIN needs the key and its owner; PASSWORD_PLAIN the user and password', async () => {
    await start({ apiKeyUser: 'pulse', username: 'admin', password: 'secret-pw' });
    const login = (data: Record<string, unknown>) =>
      open().then((c) => c.call('auth.login_ex', [{ ...data, login_options: { user_info: false } }]));
    expect((await login({ mechanism: 'API_KEY_PLAIN', username: 'pulse', api_key: KEY })).result).toEqual({
      response_type: 'SUCCESS',
      user_info: null,
      authenticator: 'LEVEL_1',
    });
    expect((await login({ mechanism: 'API_KEY_PLAIN', username: 'root', api_key: KEY })).result).toEqual({ response_type: 'AUTH_ERR' });
    expect((await login({ mechanism: 'PASSWORD_PLAIN', username: 'admin', password: 'secret-pw' })).result).toMatchObject({
      response_type: 'SUCCESS',
    });
    expect((await login({ mechanism: 'PASSWORD_PLAIN', username: 'admin', password: 'nope' })).result).toEqual({
      response_type: 'AUTH_ERR',
    });
    expect((await login({ mechanism: 'SCRAM' })).error).toMatchObject({ code: -32602, data: { errname: 'EINVAL' } });
  });

  test('requests() lists the handshake and each call by method name, never the key', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await client.call('system.info');
    await client.call('no.such.method');
    const log = fake!.requests();
    expect(log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/current 101',
      'RPC auth.login_with_api_key 200',
      'RPC system.info 200',
      'RPC no.such.method -32601',
    ]);
    expect(JSON.stringify(log)).not.toContain(KEY);
  });
});

describe('JSON-RPC: refusals, as middleware answers them', () => {
  test('a wrong key still gets its websocket; the login answers false (Pulse: RPCAuthError, category auth)', async () => {
    await start();
    const client = await open();
    expect(await client.call('auth.login_with_api_key', ['wrong-key'])).toEqual({ jsonrpc: '2.0', id: 1, result: false });
    // Still not logged in: the session stays open but every other method is refused.
    const refused = await client.call('system.info');
    expect(refused.error).toEqual({
      code: -32001,
      message: 'Method call error',
      data: { error: 207, errname: 'ENOTAUTHENTICATED', reason: '[ENOTAUTHENTICATED] Not authenticated', trace: null, extra: null },
    });
    expect(fake!.requests().map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/current 101',
      'auth.login_with_api_key 401',
      'system.info -32001',
    ]);
  });

  test('malformed messages get JSON-RPC errors, a binary frame closes the connection', async () => {
    await start();
    const client = await open();
    const next = () => new Promise<Reply>((resolve) => client.ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    let reply = next();
    client.ws.send('{not json');
    expect(await reply).toMatchObject({ id: null, error: { code: -32700 } });
    reply = next();
    client.ws.send(JSON.stringify({ jsonrpc: '1.0', id: 7, method: 'system.info' }));
    expect(await reply).toMatchObject({ id: 7, error: { code: -32600 } });
    expect((await client.call('pool.query', 'not-an-array' as unknown as unknown[])).error).toMatchObject({ code: -32600 });
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.closed).toBe(1003);
  });
});

describe('transports', () => {
  test('REST keeps working beside JSON-RPC, with its own 401 for a wrong key', async () => {
    await start();
    const get = (key: string) => fetch(`${fake!.url}/api/v2.0/pool`, { headers: { Authorization: `Bearer ${key}` } });
    expect((await get(KEY)).status).toBe(200);
    expect((await get('wrong')).status).toBe(401);
  });

  test("transports ['rest'] answers 404 on /api/current (a TrueNAS up to 24.10), before any auth", async () => {
    await start({ transports: ['rest'] });
    await expect(RpcClient.open(fake!.rpcUrl)).rejects.toThrow('handshake status 404');
    expect((await fetch(`${fake!.url}/api/current`)).status).toBe(404);
    expect((await fetch(`${fake!.url}/api/v2.0/pool`, { headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(200);
  });

  test("transports ['jsonrpc'] answers 404 on the REST paths (TrueNAS 26 has no REST)", async () => {
    await start({ transports: ['jsonrpc'] });
    expect((await fetch(`${fake!.url}/api/v2.0/pool`, { headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(404);
    await (await open()).loggedIn();
  });

  test('tls: wss with the certificate, and connection() registers it over https pinned to it', async () => {
    const tls = selfSignedCert();
    await start({ tls });
    expect(fake!.url).toMatch(/^https:/);
    expect(fake!.rpcUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/api\/current$/);
    await (await open()).loggedIn();
    const peer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: fake!.port, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.destroy();
      }).once('error', reject);
    });
    expect(peer.replace(/:/g, '').toLowerCase()).toBe(fake!.fingerprint);
    expect(fake!.connection()).toMatchObject({
      host: 'https://127.0.0.1',
      port: fake!.port,
      insecureSkipVerify: true,
      fingerprint: fake!.fingerprint,
    });
  });
});

describe('faults on the JSON-RPC transport', () => {
  test('status refuses new handshakes and fails calls on open connections; 401 answers EACCES', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await fake!.setFault({ status: 500 });
    await expect(RpcClient.open(fake!.rpcUrl)).rejects.toThrow('handshake status 500');
    expect((await client.call('system.info')).error).toMatchObject({ code: -32001, data: { errname: 'EFAULT' } });
    await fake!.setFault({ status: 401 });
    expect((await client.call('system.info')).error).toMatchObject({
      code: -32001,
      data: { errname: 'EACCES', reason: '[EACCES] Not authorized' },
    });
    await fake!.setFault(null);
    expect((await client.call('system.info')).result).toMatchObject({ hostname: 'truenas-fake' });
  });

  test('paths: a method name faults that method only; a REST path leaves the websocket alone', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await fake!.setFault({ status: 500, paths: ['disk.query'] });
    expect((await client.call('disk.query', [[], {}])).error).toMatchObject({ code: -32001 });
    expect((await client.call('pool.query', [[], {}])).result).toHaveLength(1);
    await (await open()).loggedIn(); // handshakes are not faulted
    await fake!.setFault({ status: 500, paths: ['/api/v2.0/disk'] });
    expect((await client.call('disk.query', [[], {}])).result).toHaveLength(1);
  });

  test('status 404 on /api/current only: the REST side still answers (Pulse main then probes REST)', async () => {
    await start();
    await fake!.setFault({ status: 404, paths: ['/api/current'] });
    await expect(RpcClient.open(fake!.rpcUrl)).rejects.toThrow('handshake status 404');
    expect((await fetch(`${fake!.url}/api/v2.0/system/info`, { headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(200);
  });

  test('delayMs answers the faulted calls late (others overtake them), and handshakes late', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await fake!.setFault({ delayMs: 300, paths: ['system.info'] });
    const order: string[] = [];
    const call = (method: string) => client.call(method, [[], {}]).then(() => order.push(method));
    const t0 = Date.now();
    await Promise.all([call('system.info'), call('pool.query')]);
    expect(order).toEqual(['pool.query', 'system.info']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await fake!.setFault({ delayMs: 300 });
    const t1 = Date.now();
    await open();
    expect(Date.now() - t1).toBeGreaterThanOrEqual(290);
  });

  test('a client that resets while delayMs holds its handshake leaves the fake serving', async () => {
    await start();
    await fake!.setFault({ delayMs: 200 });
    const socket = connectTcp(fake!.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      `GET /api/current HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fake!.setFault(null);
    await (await open()).loggedIn();
  });

  test('reset drops the connection on a call, and new handshakes', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await fake!.setFault({ reset: true, paths: ['pool.query'] });
    await expect(client.call('pool.query', [[], {}])).rejects.toThrow('connection closed');
    await fake!.setFault({ reset: true });
    await expect(RpcClient.open(fake!.rpcUrl)).rejects.toThrow();
  });

  test('down refuses connections and closes the open websockets; clearing it serves again', async () => {
    await start();
    const client = await (await open()).loggedIn();
    await fake!.setFault({ down: true });
    await client.closed;
    await expect(RpcClient.open(fake!.rpcUrl)).rejects.toThrow(/ECONNREFUSED/);
    await fake!.setFault(null);
    await (await open()).loggedIn();
  });
});
