/**
 * The time-skipping test server's class-data archive (scripts/install-temporal.sh): the install leaves classes.jsa
 * beside the wrapper, the wrapper passes it to java, and the archive is one this JDK can map. The last is checked by
 * starting the server with -Xshare:on, which makes java refuse to start rather than fall back when the archive is
 * unusable, and waiting for its port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { testServerPath } from '../../src/temporal/tools.js';
import { freePort } from '../../src/temporal/dev-server.js';

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

it('installs a class archive the wrapper uses, and java can map it', async () => {
  const wrapper = await testServerPath();
  const archive = path.join(path.dirname(wrapper), 'classes.jsa');
  expect(existsSync(archive)).toBe(true);
  expect(readFileSync(wrapper, 'utf8')).toContain('-XX:SharedArchiveFile=$here/classes.jsa');

  const port = await freePort();
  const server = execa(wrapper, [String(port)], {
    env: { TEMPORAL_TEST_SERVER_JAVA_OPTS: '-Xshare:on' },
    reject: false,
    all: true,
  });
  try {
    const deadline = Date.now() + 30_000;
    let up = false;
    while (!up && Date.now() < deadline && server.exitCode === null) {
      up = await listening(port);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error(`the test server did not listen with -Xshare:on: ${(await server).all}`);
  } finally {
    server.kill('SIGKILL');
    await server;
  }
});
