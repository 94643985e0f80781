/**
 * Series shaped as real Pulse makes them, for backfilling a real Prometheus (src/prometheus/local-server.ts backfill):
 * a poll timeline per connection is fed, poll by poll, into the emulator's own PulseMetrics (the RecordResult
 * semantics of Pulse's internal/monitoring/metrics.go), and its registry is "scraped" every few seconds, off the
 * poll times. So every counter series is born at 1 on its first increment, a connection has no last-success
 * series until it succeeds, the staleness gauge reads -1 until then and stays frozen between polls, and nothing
 * is ever deleted. A restart starts from an empty registry, as a restarted Pulse does.
 */
import { PulseMetrics } from '../../src/emulator/pulse-metrics.js';
import type { ErrorClass } from '../../src/emulator/truenas-client.js';

export interface ShapedPoll {
  /** Unix seconds when the poll ended (Pulse records a poll at its end). */
  at: number;
  ok: boolean;
  /** For a failed poll: Pulse's error_type (default api). */
  errorType?: ErrorClass;
  /** How long the poll took (default 0.05 s). */
  seconds?: number;
}

export interface PulseTimeline {
  /** Polls per connection id. */
  polls: Record<string, ShapedPoll[]>;
  /** First and last scrape (unix seconds). */
  from: number;
  to: number;
  /** Scrape interval (default 5 s, as in the measurements on real Pulse). */
  scrapeSeconds?: number;
  /** Pulse restarts (unix seconds): the registry starts empty; no scrape answers for `downSeconds` after each. */
  restarts?: number[];
  downSeconds?: number;
  /** Labels every sample carries besides Pulse's own, as a scrape config adds them (e.g. a fleet's `pulse_instance`). */
  labels?: Record<string, string>;
}

/**
 * A connection polled every `interval` seconds from `start` (end of the first poll), one poll per character of
 * `outcomes`: "S" success, "A" auth error, "T" timeout, "C" connection error, "E" any other error (api).
 */
export function pollsEvery(start: number, outcomes: string, interval = 60): ShapedPoll[] {
  const types: Record<string, ErrorClass> = { A: 'auth', T: 'timeout', C: 'connection', E: 'api' };
  return [...outcomes.replace(/\s+/g, '')].map((c, i) => {
    if (c !== 'S' && !types[c]) throw new Error(`unknown poll outcome "${c}" in ${outcomes}`);
    return c === 'S' ? { at: start + i * interval, ok: true } : { at: start + i * interval, ok: false, errorType: types[c] };
  });
}

/** OpenMetrics sample lines (no "# EOF") of the pulse_monitor_poll_* families at every scrape of the timeline. */
export function pulseScrapes(t: PulseTimeline): string {
  const step = t.scrapeSeconds ?? 5;
  const polls = Object.entries(t.polls)
    .flatMap(([instance, list]) => list.map((p) => ({ instance, ...p })))
    .sort((a, b) => a.at - b.at);
  const restarts = [...(t.restarts ?? [])].sort((a, b) => a - b);
  const down = t.downSeconds ?? 10;
  let metrics = new PulseMetrics();
  let next = 0;
  let restartIndex = 0;
  const out: string[] = [];
  const extra = Object.entries(t.labels ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)},`)
    .join('');
  for (let scrape = t.from; scrape <= t.to; scrape += step) {
    while (restartIndex < restarts.length && restarts[restartIndex] <= scrape) {
      // Polls before the restart land in the old process; the new one starts empty.
      while (next < polls.length && polls[next].at < restarts[restartIndex]) record(metrics, polls[next++]);
      metrics = new PulseMetrics();
      restartIndex += 1;
    }
    while (next < polls.length && polls[next].at <= scrape) record(metrics, polls[next++]);
    const lastRestart = restarts[restartIndex - 1];
    if (lastRestart !== undefined && scrape < lastRestart + down) continue; // not answering yet
    for (const line of metrics.registry.expose().split('\n')) {
      if (line.startsWith('pulse_monitor_poll_') && !line.startsWith('pulse_monitor_poll_queue_depth'))
        out.push(`${extra ? line.replace('{', `{${extra}`) : line} ${scrape}\n`);
    }
  }
  return out.join('');
}

function record(metrics: PulseMetrics, p: ShapedPoll & { instance: string }): void {
  const end = new Date(p.at * 1000);
  const start = new Date((p.at - (p.seconds ?? 0.05)) * 1000);
  metrics.recordPoll({ instanceType: 'truenas', instance: p.instance, success: p.ok, errorType: p.errorType, start, end });
}
