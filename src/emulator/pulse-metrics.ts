/**
 * Pulse's metrics as the emulator exposes them on the separate metrics listener
 * (`<BIND_ADDRESS>:<PULSE_METRICS_PORT>/metrics`, Bearer `PULSE_METRICS_TOKEN` when set):
 * the poll families of internal/monitoring/metrics.go (RecordResult semantics), the HTTP families of
 * internal/api/http_metrics.go, and real `process_*` values of the emulator process itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { goFloat, HTTP_BUCKETS, MetricsRegistry, POLL_BUCKETS } from './metrics.js';
import type { ErrorClass } from './truenas-client.js';

export interface PollOutcome {
  instanceType: string;
  instance: string;
  success: boolean;
  errorType?: ErrorClass;
  start: Date;
  end: Date;
}

export class PulseMetrics {
  readonly registry = new MetricsRegistry();
  private readonly lastSuccess = new Map<string, Date>();

  constructor() {
    const r = this.registry;
    r.define('pulse_monitor_poll_duration_seconds', 'histogram', 'Duration of polling operations per instance.', POLL_BUCKETS);
    r.define('pulse_monitor_poll_total', 'counter', 'Total polling attempts partitioned by result.');
    r.define('pulse_monitor_poll_errors_total', 'counter', 'Polling failures grouped by error type.');
    r.define('pulse_monitor_poll_last_success_timestamp', 'gauge', 'Unix timestamp of the last successful poll.');
    r.define('pulse_monitor_poll_staleness_seconds', 'gauge', 'Seconds since the last successful poll. -1 indicates no successes yet.');
    r.define('pulse_monitor_poll_queue_depth', 'gauge', 'Approximate number of poll tasks waiting to complete in the current cycle.');
    r.define('pulse_http_request_duration_seconds', 'histogram', 'HTTP request duration observed at the API layer.', HTTP_BUCKETS);
    r.define('pulse_http_requests_total', 'counter', 'Total number of HTTP requests handled by the API.');
    r.define('pulse_http_request_errors_total', 'counter', 'Total number of HTTP errors surfaced to clients.');
    r.set('pulse_monitor_poll_queue_depth', {}, 0); // a plain Gauge: always exported
  }

  /** PollMetrics.RecordResult. */
  recordPoll(o: PollOutcome): void {
    const labels = { instance_type: o.instanceType, instance: o.instance };
    const key = `${o.instanceType}\u0000${o.instance}`;
    this.registry.observe('pulse_monitor_poll_duration_seconds', labels, Math.max(0, (o.end.getTime() - o.start.getTime()) / 1000));
    this.registry.inc('pulse_monitor_poll_total', { ...labels, result: o.success ? 'success' : 'error' });
    if (o.success) {
      this.registry.set('pulse_monitor_poll_last_success_timestamp', labels, Math.floor(o.end.getTime() / 1000));
      this.lastSuccess.set(key, o.end);
      this.registry.set('pulse_monitor_poll_staleness_seconds', labels, 0);
      return;
    }
    this.registry.inc('pulse_monitor_poll_errors_total', { ...labels, error_type: o.errorType ?? 'api' });
    const last = this.lastSuccess.get(key);
    const staleness = last ? Math.max(0, (o.end.getTime() - last.getTime()) / 1000) : -1;
    this.registry.set('pulse_monitor_poll_staleness_seconds', labels, staleness);
  }

  /** recordAPIRequest with normalizeRoute. */
  recordHttp(method: string, path: string, status: number, seconds: number): void {
    const labels = { method, route: normalizeRoute(path), status: String(status) };
    this.registry.observe('pulse_http_request_duration_seconds', labels, seconds);
    this.registry.inc('pulse_http_requests_total', labels);
    if (status >= 400) {
      this.registry.inc('pulse_http_request_errors_total', {
        method,
        route: labels.route,
        status_class: status >= 500 ? 'server_error' : 'client_error',
      });
    }
  }

  expose(): string {
    return processMetrics() + this.registry.expose(); // Go sorts families: process_* before pulse_*
  }
}

/** normalizeRoute: at most 5 segments; numbers → :id, UUIDs → :uuid, long segments → :token. */
export function normalizeRoute(path: string): string {
  const clean = path.split('?')[0];
  const segs = clean
    .split('/')
    .filter((s) => s !== '')
    .slice(0, 5);
  if (segs.length === 0) return '/';
  return `/${segs
    .map((s) =>
      /^\d+$/.test(s)
        ? ':id'
        : /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)
          ? ':uuid'
          : s.length > 32
            ? ':token'
            : s,
    )
    .join('/')}`;
}

/** Real values for this process, in the names and types of the Go process collector (a metric it cannot read is left out). */
function processMetrics(): string {
  const cpu = process.cpuUsage();
  const startTime = Date.now() / 1000 - process.uptime();
  const rows: Array<[name: string, type: 'counter' | 'gauge', help: string, value: number | undefined]> = [
    ['process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6],
    ['process_open_fds', 'gauge', 'Number of open file descriptors.', countOpenFds()],
    ['process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', process.memoryUsage().rss],
    ['process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', Math.round(startTime * 100) / 100],
    ['process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.', virtualMemoryBytes()],
  ];
  const out = rows.flatMap(([name, type, help, value]) =>
    value === undefined ? [] : [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${goFloat(value)}`],
  );
  return `${out.join('\n')}\n`;
}

function countOpenFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

function virtualMemoryBytes(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[20]); // field 23 (vsize), counted after the command name
  } catch {
    return undefined;
  }
}

/** The separate metrics listener: only GET /metrics, Bearer token when configured. */
export function createMetricsServer(metrics: PulseMetrics, token: string | undefined): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    if (token) {
      const auth = req.headers.authorization ?? '';
      const given = auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : '';
      const digest = (s: string) => createHash('sha256').update(s).digest();
      if (!timingSafeEqual(digest(given), digest(token))) {
        res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end('Unauthorized\n');
        return;
      }
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(metrics.expose());
  });
}
