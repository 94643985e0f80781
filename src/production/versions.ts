/**
 * What the production rehearsal runs instead of docker-compose.yml's images, and where it finds it. The versions
 * are the compose file's image tags (test/unit/production-agreement.test.ts fails when they drift apart):
 *   temporalio/server and temporalio/admin-tools 1.30.1  ->  go.temporal.io/server v1.30.1 (server, sql tool, schema)
 *   temporalio/ui 2.42.1                                  ->  github.com/temporalio/ui-server/v2 v2.42.1
 *   postgres:16                                           ->  Debian 12's PostgreSQL 15 (the one installable here)
 * scripts/install-temporal-cluster.sh builds the Go programs once per machine into the project's cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { cacheRoot } from '../temporal/tools.js';
import { PACKAGE_ROOT } from '../host/package-root.js';

export const TEMPORAL_SERVER_VERSION = '1.30.1';
export const TEMPORAL_UI_VERSION = '2.42.1';
/** The compose file's database image is postgres:16; the rehearsal runs the PostgreSQL Debian 12 ships. */
export const COMPOSE_POSTGRES_MAJOR = 16;

export const REPO_ROOT = PACKAGE_ROOT;

export interface ClusterBinaries {
  /** temporal-server and temporal-sql-tool. */
  serverBin: string;
  /** The module's schema/postgresql/v12 (the admin-tools image's /etc/temporal/schema/postgresql/v12). */
  schemaRoot: string;
  uiServer: string;
  /** The UI module's config/docker.yaml, the template the UI image renders from its environment. */
  uiConfigTemplate: string;
  /** PostgreSQL's bin directory (initdb, postgres, pg_isready, psql). */
  pgBin: string;
  /** What the install script recorded about the builds (versions, toolchain, build time). */
  buildInfo: string;
}

export function serverDir(): string {
  return path.join(cacheRoot(), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

export function uiDir(): string {
  return path.join(cacheRoot(), 'temporal-ui-server', TEMPORAL_UI_VERSION);
}

/** Builds what is missing (first time on a machine: minutes; progress on stderr) and says where everything is. */
export async function clusterBinaries(): Promise<ClusterBinaries> {
  const stamps = [path.join(serverDir(), 'BUILD-INFO'), path.join(uiDir(), 'BUILD-INFO')];
  if (!stamps.every((s) => existsSync(s))) {
    await execa('bash', [path.join(REPO_ROOT, 'scripts', 'install-temporal-cluster.sh'), 'all'], {
      stdout: 'inherit',
      stderr: 'inherit',
      env: { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION },
    });
  }
  const pg = await execa('bash', [path.join(REPO_ROOT, 'scripts', 'install-postgres.sh')], { stderr: 'inherit' });
  return {
    serverBin: path.join(serverDir(), 'bin'),
    schemaRoot: path.join(serverDir(), 'schema', 'postgresql', 'v12'),
    uiServer: path.join(uiDir(), 'ui-server'),
    uiConfigTemplate: path.join(uiDir(), 'config', 'docker.yaml'),
    pgBin: pg.stdout.trim(),
    buildInfo: stamps.map((s) => readFileSync(s, 'utf8').trim()).join('\n'),
  };
}
