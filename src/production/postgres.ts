/**
 * The rehearsal's PostgreSQL: Debian's server in a temporary data directory, on 127.0.0.1 and a free port, run as
 * the `postgres` user when started by root (PostgreSQL refuses to run as root). Set up like the compose file's
 * postgres image: the superuser is POSTGRES_USER with POSTGRES_PASSWORD (scram-sha-256 over TCP), local socket
 * connections are trusted. The password reaches initdb through a file that is removed at once, never an argument.
 * The server runs in the foreground as a child (not daemonised by pg_ctl), so it dies with the rehearsal.
 */
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ManagedProcess, waitUntil } from './process.js';

export interface PostgresOptions {
  pgBin: string;
  port: number;
  user: string;
  password: string;
  /** Where the server's log goes. */
  logFile: string;
  /**
   * Separate Temporal services each keep their own connection pools (20 + 10 per process by default); four of
   * them plus the tools need more than PostgreSQL's default of 100.
   */
  maxConnections?: number;
}

export interface Postgres {
  port: number;
  process: ManagedProcess;
  dataDir: string;
  /** SQL over the local socket (trusted), as the superuser; the rows as text lines. */
  query(sql: string, database?: string): Promise<string[]>;
  /** Bytes on disk of a database. */
  databaseSize(database: string): Promise<number>;
  /** A fast shutdown (SIGINT: open transactions roll back), as an operator or a crash-safe restart would. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
  version: string;
}

async function osUser(): Promise<{ uid: number; gid: number; prefix: string[] } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await execa('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await execa('id', ['-g', 'postgres'])).stdout);
  return { uid, gid, prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'] };
}

export async function startPostgres(opts: PostgresOptions): Promise<Postgres> {
  const as = await osUser();
  const root = mkdtempSync(path.join(tmpdir(), 'pulse-runbooks-pg-'));
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  mkdirSync(socketDir);
  const pwFile = path.join(root, 'pw');
  writeFileSync(pwFile, `${opts.password}\n`, { mode: 0o600 });
  if (as) for (const p of [root, socketDir, pwFile]) chownSync(p, as.uid, as.gid);
  try {
    await execa(
      as ? as.prefix[0] : path.join(opts.pgBin, 'initdb'),
      [
        ...(as ? [...as.prefix.slice(1), path.join(opts.pgBin, 'initdb')] : []),
        '-D',
        dataDir,
        '-U',
        opts.user,
        `--pwfile=${pwFile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '-E',
        'UTF8',
        '--no-locale',
      ],
      { env: { LANG: 'C.UTF-8' } },
    );
  } finally {
    rmSync(pwFile, { force: true });
  }
  const proc = new ManagedProcess(
    {
      name: 'postgresql',
      command: path.join(opts.pgBin, 'postgres'),
      args: [
        '-D',
        dataDir,
        '-p',
        String(opts.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${socketDir}`,
        '-c',
        `max_connections=${opts.maxConnections ?? 200}`,
      ],
      env: {},
    },
    opts.logFile,
    as?.prefix ?? [],
  );

  const psql = (sql: string, database = 'postgres') =>
    execa(path.join(opts.pgBin, 'psql'), [
      '-X',
      '-A',
      '-t',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      socketDir,
      '-p',
      String(opts.port),
      '-U',
      opts.user,
      '-d',
      database,
      '-c',
      sql,
    ]);
  const ready = () =>
    waitUntil(
      `PostgreSQL on 127.0.0.1:${opts.port}`,
      async () =>
        (
          await execa(
            path.join(opts.pgBin, 'pg_isready'),
            ['-h', '127.0.0.1', '-p', String(opts.port), '-U', opts.user, '-d', 'postgres'],
            { reject: false },
          )
        ).exitCode === 0,
      30_000,
      proc,
    );

  const stop = async () => {
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM is its smart shutdown, which waits for every client to leave.
    if (proc.running) await proc.stop(30_000, 'SIGINT');
  };
  proc.start();
  await ready();
  const version = (await psql('SHOW server_version')).stdout.trim();
  return {
    port: opts.port,
    process: proc,
    dataDir,
    version,
    async query(sql, database) {
      return (await psql(sql, database)).stdout.split('\n').filter((l) => l !== '');
    },
    async databaseSize(database) {
      return Number((await psql(`SELECT pg_database_size('${database.replace(/'/g, "''")}')`)).stdout.trim());
    },
    stop,
    async start() {
      proc.start();
      await ready();
    },
    async destroy() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
