/**
 * Ports for servers that restart on the same port (src/host/stable-port.ts): below the kernel's ephemeral range, so a
 * port handed out for `listen(0)` can never be one of them, free when chosen, and never one already taken.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stablePort } from '../../src/host/stable-port.js';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

it('chooses free ports below the ephemeral range, none of them taken twice', async () => {
  const taken = new Set<number>();
  let last = 0;
  for (let i = 0; i < 200; i += 1) {
    const port = await stablePort(taken);
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(ephemeralStart);
    expect(port).not.toBe(last);
    last = port;
  }
  expect(taken.size).toBeGreaterThanOrEqual(200); // each chosen port is in the set

  // The last one is free: a server can listen on it.
  const port = last;
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await new Promise((r) => srv.close(r));
});

it('calls made at once with one set never choose the same port', async () => {
  const taken = new Set<number>();
  const ports = await Promise.all(Array.from({ length: 300 }, () => stablePort(taken)));
  expect(new Set(ports).size).toBe(300);
});

it('a port 0 choice is never below the ephemeral range (why the range matters)', async () => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  expect(port).toBeGreaterThanOrEqual(ephemeralStart);
});
