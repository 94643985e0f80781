/**
 * Polls a check on a durable timer until a condition holds or a deadline passes. The run ends as soon as the
 * state is observed instead of sleeping the whole window, and never waits past the deadline.
 */
import { sleep, type TimerOptions } from '@temporalio/workflow';

export interface UntilObservedOptions<T> {
  check: () => Promise<T>;
  done: (value: T) => boolean;
  everySeconds: number;
  withinSeconds: number;
  /** The timer between checks, as the Web UI shows it (EvidenceLog.timer(): named after the runbook step). */
  timer?: TimerOptions;
}

export async function untilObserved<T>(opts: UntilObservedOptions<T>): Promise<{ observed: boolean; last: T; checks: number }> {
  const deadline = Date.now() + opts.withinSeconds * 1000;
  let checks = 0;
  for (;;) {
    const last = await opts.check();
    checks++;
    if (opts.done(last)) return { observed: true, last, checks };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { observed: false, last, checks };
    await sleep(Math.min(opts.everySeconds * 1000, remaining), opts.timer);
  }
}
