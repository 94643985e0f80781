/**
 * A rollout's worth of recorded metrics for `canary simulate` tests and benchmarks: Pulse-shaped series
 * (bench/support/pulse-shaped.ts: counters born at 1, no last success before the first, frozen gauges) of one or more
 * Pulse instances, one connection each, polled every 60 s and scraped every 60 s, with faults at given hours, plus
 * Pulse's process metrics (memory that can grow at an hour), as OpenMetrics text ready for promtool's backfill.
 * The histogram lines are left out (no canary gate reads them), which keeps weeks of data small.
 */
import { pollsEvery, pulseScrapes } from './pulse-shaped.js';

export interface RangePulse {
  /** Its `pulse_instance` label (a fleet); none for a single Pulse. */
  name?: string;
  /** Failed polls from an hour on: A auth, E api, T timeout, C connection; `stop` ends its polls after them. */
  faults?: Array<{ hour: number; kind: 'A' | 'E' | 'T' | 'C'; polls: number; stop?: boolean }>;
  /** Resident memory (bytes) steps up by this factor from the hour on. */
  memoryGrowth?: { hour: number; factor: number };
}

export interface RangeScenario {
  /** The rollout's start (unix seconds); the series begin 2 h before it (the 1 h windows need history). */
  start: number;
  hours: number;
  pulses: RangePulse[];
}

export function rolloutSeries(s: RangeScenario): string {
  const from = Math.floor(s.start) - 2 * 3600;
  const to = Math.floor(s.start) + Math.ceil(s.hours * 3600);
  const firstPoll = from + 20.4;
  const count = Math.floor((to - firstPoll) / 60) + 1;
  const pollAt = (hour: number) => Math.round((s.start + hour * 3600 - firstPoll) / 60);
  const lines: string[] = [];
  s.pulses.forEach((pulse, i) => {
    const outcomes = Array.from({ length: count }, () => 'S');
    let end = count;
    for (const f of pulse.faults ?? []) {
      const k = pollAt(f.hour);
      for (let j = k; j < Math.min(count, k + f.polls); j++) outcomes[j] = f.kind;
      if (f.stop) end = Math.min(end, k + f.polls);
    }
    const labels = pulse.name ? { pulse_instance: pulse.name } : undefined;
    const text = pulseScrapes({
      from,
      to,
      scrapeSeconds: 60,
      labels,
      polls: { [`nas-${pulse.name ?? i + 1}`]: pollsEvery(firstPoll, outcomes.slice(0, end).join('')) },
    });
    for (const l of text.split('\n')) if (l && !/_bucket|_sum|_count/.test(l)) lines.push(l);
    const extra = pulse.name ? `,pulse_instance="${pulse.name}"` : '';
    for (let t = from; t <= to; t += 60) {
      const grown = pulse.memoryGrowth && t >= s.start + pulse.memoryGrowth.hour * 3600;
      lines.push(`process_resident_memory_bytes{job="pulse"${extra}} ${grown ? 100e6 * pulse.memoryGrowth!.factor : 100e6} ${t}`);
      lines.push(`process_cpu_seconds_total{job="pulse"${extra}} ${((t - from) * 0.05).toFixed(2)} ${t}`);
    }
  });
  // OpenMetrics wants each family's samples together, each series' in time order.
  const key = (l: string) => {
    const space = l.lastIndexOf(' ');
    return { series: l.slice(0, l.lastIndexOf(' ', space - 1)), time: Number(l.slice(space + 1)), family: l.slice(0, l.search(/[{ ]/)) };
  };
  const keyed = lines.map((l) => ({ l, ...key(l) }));
  keyed.sort((a, b) =>
    a.family !== b.family ? (a.family < b.family ? -1 : 1) : a.series !== b.series ? (a.series < b.series ? -1 : 1) : a.time - b.time,
  );
  return `${keyed.map((k) => k.l).join('\n')}\n`;
}
