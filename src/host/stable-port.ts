/**
 * A free loopback port for a server that is stopped and started again on the same port (a service's restart),
 * chosen below the kernel's ephemeral range. A port the kernel handed out for `listen(0)` goes back into that range
 * while its server restarts, and any other process binding port 0 or opening a connection meanwhile can get it: in
 * the test suite, a restarted Pulse emulator's port was once taken by one of the 500-instance fleet's emulators
 * starting beside it, and the Enable under test got that emulator's 401. Ports below the range are never handed out
 * by the kernel, so only a process choosing the same number itself could take one.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux: ip_local_port_range; else IANA's 49152). */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 49_152;
  } catch {
    return 49_152;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port below the ephemeral range that is free now and not in `taken`; port 0's choice when there is no room. The
 * port is added to `taken` as it is chosen, before the check that it is free: calls made at once with the same set
 * (a fleet starting 25 instances at a time) never choose the same port.
 */
export async function stablePort(taken: Set<number> = new Set()): Promise<number> {
  const below = ephemeralStart();
  if (below - LOWEST >= 1_000) {
    for (let i = 0; i < 100; i += 1) {
      const port = randomInt(LOWEST, below);
      if (taken.has(port)) continue;
      taken.add(port);
      if (await canListen(port)) return port;
    }
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
