/**
 * The emulator's TrueNAS client on a keep-alive connection the NAS closes (issue 17): like Go's http.Transport in
 * Pulse, a GET sent on a reused connection that is reset before any answer is sent once more on a new connection, so
 * the race does not count as a failed poll; a reset on a new connection still fails the poll.
 * In front of a real fake TrueNAS sits a proxy that resets every request after the first on each connection.
 */
import { createServer, get, globalAgent, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { TrueNASClient } from '../../src/emulator/truenas-client.js';

let nas: FakeTrueNAS;
let proxy: Server;
let resets = 0;
let resetFirst = false;
const served = new WeakMap<Socket, number>();
const KEY = 'k'.repeat(24);

beforeAll(async () => {
  nas = await startFakeTrueNAS({ apiKey: KEY, transports: ['rest'] });
  proxy = createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1 || resetFirst) {
      resets += 1;
      req.socket.destroy();
      return;
    }
    void fetch(`http://127.0.0.1:${nas.port}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } }).then(
      async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json', connection: 'keep-alive' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      },
    );
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await nas.close();
});

const client = () =>
  new TrueNASClient(
    {
      id: 'c1',
      name: 'nas',
      host: 'http://127.0.0.1',
      port: (proxy.address() as AddressInfo).port,
      apiKey: KEY,
      username: '',
      password: '',
      useHttps: false,
      insecureSkipVerify: false,
      fingerprint: '',
      enabled: true,
      pollIntervalSeconds: 60,
    },
    5000,
  );

it('sends a GET again on a new connection when the reused one was closed under it', async () => {
  resets = 0;
  const snapshot = await client().fetchSnapshot();
  expect(snapshot.system.hostname).toBeTruthy();
  expect(resets).toBeGreaterThan(0);
});

it('goes on past several idle connections all closed under it (after a stall), to a new one', async () => {
  // Three idle keep-alive connections in the shared pool, each answered once: the proxy resets the next request on each.
  const port = (proxy.address() as AddressInfo).port;
  globalAgent.destroy(); // no connection left over from the tests above
  await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise<void>((resolve, reject) => {
          get({ host: '127.0.0.1', port, path: '/api/v2.0/system/info', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          }).on('error', reject);
        }),
    ),
  );
  resets = 0;
  const snapshot = await client().fetchSnapshot();
  expect(snapshot.system.hostname).toBeTruthy();
  expect(resets).toBeGreaterThanOrEqual(3);
});

it('a reset on a new connection still fails the poll', async () => {
  resetFirst = true;
  try {
    await expect(client().fetchSnapshot()).rejects.toThrow(
      /^fetch truenas system info: truenas request GET \/system\/info failed: Get "http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/system\/info": /,
    );
  } finally {
    resetFirst = false;
  }
});
