/**
 * A tiny real "Pulse" for the Code Rollback tests: a Go module (stdlib only) in a temporary git repository whose
 * history mimics the runbook's range, a real `go build`, and a real HTTP server that a restart command
 * (re)starts from the built binary on a fixed port, with a pid file.
 *
 * History (the range to revert is tn00^..trr00, four commits, as in the runbook's f9680ef8^..687ecd79):
 *   init   go.mod, cmd/pulse/main.go serving GET /api/health, .gitignore (bin/)
 *   tn00   "TN-00" docs/architecture/truenas-ga-plan-2026-02.md
 *   tn01   "TN-01" internal/truenas/client.go (the REST client scaffold)
 *   tn03   "TN-03" cmd/pulse/truenas_routes.go: GET/POST /api/truenas/connections, DELETE …/{id}
 *   trr00  "TRR-00" docs/architecture/truenas-rollout-readiness-plan-2026-02.md
 *   after  unrelated work after the range (README.md)
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stablePort } from '../../src/host/stable-port.js';

const run = promisify(execFile);

/** No network, no toolchain download: the module has no dependencies and Go is on the machine. */
export const GO_ENV: Record<string, string> = { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off' };
/** `-o bin/` because ./... holds a library package too; bin/ is in .gitignore, so the tree stays clean. */
export const GO_BUILD = ['go', 'build', '-o', 'bin/', './...'];

const IDENTITY = ['-c', 'user.name=Runbook Test', '-c', 'user.email=runbook@example.invalid', '-c', 'commit.gpgsign=false'];

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', [...IDENTITY, ...args], { cwd, env: { ...process.env, LC_ALL: 'C' } });
  return stdout.trim();
}

const MAIN_GO = `package main

import (
	"flag"
	"log"
	"net/http"
)

// routes lets later commits add handlers without touching this file.
var routes []func(*http.ServeMux)

func main() {
	addr := flag.String("addr", "127.0.0.1:7655", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(\`{"status":"healthy"}\`))
	})
	for _, add := range routes {
		add(mux)
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
`;

const TRUENAS_CLIENT_GO = `// Package truenas is the REST client scaffold (TN-01).
package truenas

// Client talks to one TrueNAS host.
type Client struct{ Host string }

// New returns a client for host.
func New(host string) *Client { return &Client{Host: host} }
`;

const TRUENAS_ROUTES_GO = `package main

import (
	"encoding/json"
	"net/http"

	"example.com/pulse/internal/truenas"
)

func init() {
	routes = append(routes, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /api/truenas/connections", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode([]*truenas.Client{})
		})
		mux.HandleFunc("POST /api/truenas/connections", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
		})
		mux.HandleFunc("DELETE /api/truenas/connections/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "id": r.PathValue("id")})
		})
	})
}
`;

/**
 * The restart command: stop the process named in the pid file (waiting until it has exited or is a zombie, so
 * the port is free), then start the built binary in the background with its output in a log file (so the
 * command itself returns at once) and record its pid.
 */
const RESTART_SH = `#!/bin/sh
set -eu
BIN="$1"; PORT="$2"; PIDFILE="$3"; LOG="$4"
if [ -f "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  if kill "$pid" 2>/dev/null; then
    i=0
    while [ "$i" -lt 200 ] && kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
      sleep 0.05; i=$((i + 1))
    done
  fi
  rm -f "$PIDFILE"
fi
nohup "$BIN" -addr "127.0.0.1:$PORT" >>"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
`;

export interface GoPulseCommits {
  init: string;
  tn00: string;
  tn01: string;
  tn03: string;
  trr00: string;
  after: string;
}

export interface GoPulseRepo {
  root: string;
  repo: string;
  commits: GoPulseCommits;
  port: number;
  url: string;
  binPath: string;
  pidFile: string;
  logFile: string;
  /** The restart command for RestartSchema kind 'command'. */
  restartArgv: string[];
  /** Builds the current tree and (re)starts the server with the restart command, as an operator would by hand. */
  buildAndStart(): Promise<void>;
  /** The pid of the running server, from the pid file (undefined when none). */
  pid(): Promise<number | undefined>;
  /** HTTP status of GET <url><path>, or undefined when nothing answers. */
  status(path: string): Promise<number | undefined>;
  /** Stops the server and removes every file of the fixture. */
  destroy(): Promise<void>;
}

async function writeFiles(repo: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await fs.mkdir(dirname(join(repo, path)), { recursive: true });
    await fs.writeFile(join(repo, path), content);
  }
}

async function commit(repo: string, message: string, files: Record<string, string>): Promise<string> {
  await writeFiles(repo, files);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

async function buildHistory(repo: string): Promise<GoPulseCommits> {
  await fs.mkdir(repo, { recursive: true });
  await git(repo, 'init', '-q', '-b', 'main');
  for (const [k, v] of [
    ['user.name', 'Runbook Test'],
    ['user.email', 'runbook@example.invalid'],
    ['commit.gpgsign', 'false'],
  ]) {
    await git(repo, 'config', k, v);
  }
  const init = await commit(repo, 'init: Pulse serves /api/health', {
    'go.mod': 'module example.com/pulse\n\ngo 1.22\n',
    'cmd/pulse/main.go': MAIN_GO,
    '.gitignore': 'bin/\n',
  });
  const tn00 = await commit(repo, 'TN-00: TrueNAS GA plan', { 'docs/architecture/truenas-ga-plan-2026-02.md': '# TrueNAS GA plan\n' });
  const tn01 = await commit(repo, 'TN-01: TrueNAS REST client scaffold', { 'internal/truenas/client.go': TRUENAS_CLIENT_GO });
  const tn03 = await commit(repo, 'TN-03: TrueNAS connection handlers', { 'cmd/pulse/truenas_routes.go': TRUENAS_ROUTES_GO });
  const trr00 = await commit(repo, 'TRR-00: rollout readiness plan', {
    'docs/architecture/truenas-rollout-readiness-plan-2026-02.md': '# TrueNAS rollout readiness\n',
  });
  const after = await commit(repo, 'unrelated work after the range', { 'README.md': '# Pulse\n' });
  return { init, tn00, tn01, tn03, trr00, after };
}

/** The history is built once per test file and copied for every repository: a test may change its copy freely. */
let template: Promise<{ dir: string; commits: GoPulseCommits }> | undefined;

async function templateRepo(): Promise<{ dir: string; commits: GoPulseCommits }> {
  template ??= (async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'go-pulse-template-'));
    const commits = await buildHistory(join(dir, 'pulse'));
    return { dir, commits };
  })();
  return template;
}

/** Removes the template built by this test file. */
export async function removeGoPulseTemplate(): Promise<void> {
  if (!template) return;
  const { dir } = await template;
  template = undefined;
  await fs.rm(dir, { recursive: true, force: true });
}

export async function createGoPulseRepo(): Promise<GoPulseRepo> {
  const t = await templateRepo();
  const root = await fs.mkdtemp(join(tmpdir(), 'go-pulse-'));
  const repo = join(root, 'pulse');
  await fs.cp(join(t.dir, 'pulse'), repo, { recursive: true, verbatimSymlinks: true });
  const port = await stablePort();
  const url = `http://127.0.0.1:${port}`;
  const binPath = join(repo, 'bin', 'pulse');
  const pidFile = join(root, 'pulse.pid');
  const logFile = join(root, 'pulse.log');
  const script = join(root, 'restart.sh');
  await fs.writeFile(script, RESTART_SH, { mode: 0o755 });
  const restartArgv = ['/bin/sh', script, binPath, String(port), pidFile, logFile];

  const pid = async (): Promise<number | undefined> => {
    try {
      return Number((await fs.readFile(pidFile, 'utf8')).trim());
    } catch {
      return undefined;
    }
  };
  const status = async (path: string): Promise<number | undefined> => {
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  };

  return {
    root,
    repo,
    commits: t.commits,
    port,
    url,
    binPath,
    pidFile,
    logFile,
    restartArgv,
    pid,
    status,
    async buildAndStart() {
      await run(GO_BUILD[0], GO_BUILD.slice(1), { cwd: repo, env: { ...process.env, ...GO_ENV } });
      await run(restartArgv[0], restartArgv.slice(1));
      const deadline = Date.now() + 20_000;
      while ((await status('/api/health')) !== 200) {
        if (Date.now() > deadline)
          throw new Error(`the test Pulse did not answer on ${url}; log:\n${await fs.readFile(logFile, 'utf8').catch(() => '')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async destroy() {
      const p = await pid();
      if (p) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** The commits of `range` (e.g. "after..HEAD") whose message says they revert another commit. */
export async function revertCommitsIn(repo: string, range: string): Promise<string[]> {
  const out = await git(repo, 'log', '--format=%H %s', range);
  return out
    .split('\n')
    .filter((l) => / Revert "/.test(l))
    .map((l) => l.split(' ')[0]);
}
