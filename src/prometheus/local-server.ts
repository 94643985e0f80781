/**
 * A real Prometheus for tests: Debian's 2.42 (or PROMETHEUS_PATH), on 127.0.0.1 with a random free port and a
 * temp TSDB dir, scraping the given targets with `honor_labels: true`; stopped by its PID. Also backfills
 * OpenMetrics text into a TSDB with `promtool tsdb create-blocks-from openmetrics`, so long windows are tested
 * without waiting (query them with `time=` in the past).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ScrapeTarget {
  /** Metrics URL, e.g. http://127.0.0.1:9091/metrics. */
  url: string;
  /** Job name; default "pulse". */
  job?: string;
  /** Target labels the scrape adds to every series (e.g. a fleet's `pulse_instance`). */
  labels?: Record<string, string>;
}

export interface StartPrometheusOptions {
  targets?: ScrapeTarget[];
  /** Scrape interval in seconds (default 1). */
  scrapeInterval?: number;
  /** Rule evaluation interval in seconds (default 1). */
  evaluationInterval?: number;
  /** An existing TSDB dir (e.g. from backfill()); it is not removed by stop(). Default: a fresh temp dir. */
  storagePath?: string;
  /** How long to wait for /-/ready (default 20 s). */
  startTimeoutMs?: number;
}

export interface PrometheusProcess {
  url: string;
  pid: number;
  /** What Prometheus wrote to stderr. */
  logs(): string;
  stop(): Promise<void>;
}

export function prometheusBinary(): string {
  return process.env.PROMETHEUS_PATH ?? 'prometheus';
}

export function promtoolBinary(): string {
  return process.env.PROMTOOL_PATH ?? (process.env.PROMETHEUS_PATH ? join(dirname(process.env.PROMETHEUS_PATH), 'promtool') : 'promtool');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function configYaml(opts: StartPrometheusOptions): string {
  const lines = [
    'global:',
    `  scrape_interval: ${opts.scrapeInterval ?? 1}s`,
    `  scrape_timeout: ${Math.max(1, Math.min(10, opts.scrapeInterval ?? 1))}s`,
    `  evaluation_interval: ${opts.evaluationInterval ?? 1}s`,
    'scrape_configs:',
  ];
  const byJob = new Map<string, ScrapeTarget[]>();
  for (const t of opts.targets ?? []) {
    const job = t.job ?? 'pulse';
    byJob.set(job, [...(byJob.get(job) ?? []), t]);
  }
  if (byJob.size === 0) lines[lines.length - 1] = 'scrape_configs: []';
  for (const [job, targets] of byJob) {
    const urls = targets.map((t) => new URL(t.url));
    // Pulse's `instance` label is the TrueNAS connection id; without honor_labels it would become exported_instance.
    lines.push(
      `  - job_name: ${JSON.stringify(job)}`,
      '    honor_labels: true',
      `    metrics_path: ${JSON.stringify(urls[0].pathname || '/metrics')}`,
      '    static_configs:',
    );
    const plain = urls.filter((_, i) => !targets[i].labels);
    if (plain.length) lines.push(`      - targets: [${plain.map((u) => JSON.stringify(u.host)).join(', ')}]`);
    // A target with labels gets an entry of its own (a fleet: one per Pulse instance).
    targets.forEach((t, i) => {
      if (t.labels) lines.push(`      - targets: [${JSON.stringify(urls[i].host)}]`, `        labels: ${JSON.stringify(t.labels)}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, logs: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${logs().slice(-3000)}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`prometheus not ready within ${timeoutMs} ms:\n${logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    process.kill(child.pid as number, 'SIGTERM');
  });
}

export async function startPrometheus(opts: StartPrometheusOptions = {}): Promise<PrometheusProcess> {
  const workDir = mkdtempSync(join(tmpdir(), 'prometheus-test-'));
  const configFile = join(workDir, 'prometheus.yml');
  writeFileSync(configFile, configYaml(opts));
  const storage = opts.storagePath ?? join(workDir, 'data');
  let lastError: unknown;
  // A port found free can be taken before Prometheus binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let stderr = '';
    const child = spawn(
      prometheusBinary(),
      [
        `--config.file=${configFile}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--storage.tsdb.path=${storage}`,
        '--storage.tsdb.retention.time=100y',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    try {
      await waitReady(url, child, opts.startTimeoutMs ?? 20_000, () => stderr);
    } catch (err) {
      lastError = err;
      await terminate(child);
      continue;
    }
    return {
      url,
      pid: child.pid as number,
      logs: () => stderr,
      async stop() {
        await terminate(child);
        rmSync(workDir, { recursive: true, force: true });
      },
    };
  }
  rmSync(workDir, { recursive: true, force: true });
  throw lastError;
}

/** Writes OpenMetrics text (ending in "# EOF") into a fresh TSDB dir; returns the dir and a remover. */
export async function backfill(openMetrics: string): Promise<{ dir: string; remove(): void }> {
  const root = mkdtempSync(join(tmpdir(), 'prometheus-backfill-'));
  const file = join(root, 'data.om');
  const dir = join(root, 'tsdb');
  writeFileSync(file, openMetrics.endsWith('# EOF\n') ? openMetrics : `${openMetrics}# EOF\n`);
  await run(promtoolBinary(), ['tsdb', 'create-blocks-from', 'openmetrics', file, dir]);
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Builds OpenMetrics lines for one series: values[i] at start + i*step seconds; null leaves a gap. */
export function seriesLines(
  name: string,
  labels: Record<string, string>,
  start: number,
  step: number,
  values: Array<number | null>,
): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return values
    .map((v, i) => (v === null ? '' : `${name}{${l}} ${Number.isFinite(v) ? v : v > 0 ? '+Inf' : 'NaN'} ${start + i * step}\n`))
    .join('');
}
