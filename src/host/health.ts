/**
 * Waits until Pulse answers 200 on its health URL (`GET /api/health` is public in every Pulse version).
 * Used after a restart: a process that started is not yet a process that serves.
 */
import { Agent, request } from 'undici';
import { ApplicationFailure } from '@temporalio/common';
import { excerpt } from '../runbook/redact.js';

export interface HealthResult {
  url: string;
  status: number;
  attempts: number;
  elapsedMs: number;
  /** The first part of the 200 body, e.g. Pulse's {"status":"healthy",…}. */
  bodyExcerpt: string;
}

export interface HealthAttempt {
  attempt: number;
  status?: number;
  error?: string;
}

export interface WaitOptions {
  /** Stops waiting (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Called after every attempt, e.g. to heartbeat. */
  onAttempt?: (a: HealthAttempt) => void;
  /** Upper bound for one request; the remaining time is used when that is shorter. */
  requestTimeoutMs?: number;
}

/** The URL without user:password, for messages and evidence. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Polls url every intervalMs until it answers 200, for at most timeoutMs. Connection errors and other
 * statuses (Pulse answers 503 while starting behind some proxies) just mean "not yet".
 * After the timeout: a non-retryable ApplicationFailure 'PulseNotHealthy' with the last status or error.
 * Non-retryable because the wait already lasted the configured time; whether to restart again or escalate
 * is the workflow's decision, not a blind retry's.
 */
export async function waitForHealthy(url: string, timeoutMs: number, intervalMs = 1_000, options: WaitOptions = {}): Promise<HealthResult> {
  const shown = safeUrl(url);
  const started = Date.now();
  const deadline = started + timeoutMs;
  // A private agent without keep-alive reuse across restarts: a pooled socket to the old process would
  // only produce a confusing reset, and closing the agent leaves no open handles behind.
  const agent = new Agent({ keepAliveTimeout: 1_000, connections: 1 });
  let attempts = 0;
  // Kept apart: a refused connection after a 503 should not hide that Pulse did answer.
  let lastStatus: number | undefined;
  let lastError: string | undefined;
  try {
    for (;;) {
      if (options.signal?.aborted) {
        throw ApplicationFailure.create({ type: 'HealthWaitCanceled', message: `Waiting for ${shown} was canceled`, nonRetryable: true });
      }
      attempts += 1;
      // Even the last attempt gets a fair chance to answer; overrunning the deadline by that much is fine.
      const perRequest = Math.min(Math.max(deadline - Date.now(), 500), options.requestTimeoutMs ?? 5_000);
      try {
        const res = await request(url, {
          method: 'GET',
          dispatcher: agent,
          headersTimeout: perRequest,
          bodyTimeout: perRequest,
          signal: options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(perRequest)]) : AbortSignal.timeout(perRequest),
        });
        const body = await res.body.text().catch(() => '');
        lastStatus = res.statusCode;
        options.onAttempt?.({ attempt: attempts, status: res.statusCode });
        if (res.statusCode === 200) {
          return { url: shown, status: 200, attempts, elapsedMs: Date.now() - started, bodyExcerpt: excerpt(body, 200) };
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
        lastError = e.code ?? e.cause?.code ?? e.name ?? 'error';
        options.onAttempt?.({ attempt: attempts, error: lastError });
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(intervalMs, left), options.signal);
    }
  } finally {
    await agent.close().catch(() => undefined);
  }
  const lastSeen = [
    lastStatus !== undefined ? `last answer HTTP ${lastStatus}` : 'no HTTP answer',
    lastError !== undefined ? `last error ${lastError}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  throw ApplicationFailure.create({
    type: 'PulseNotHealthy',
    message: `Pulse did not answer 200 on ${shown} within ${timeoutMs} ms (${attempts} attempts, ${lastSeen}); check the service's logs, or raise healthTimeoutMs if it starts slowly`,
    nonRetryable: true,
    details: [{ url: shown, timeoutMs, attempts, lastStatus: lastStatus ?? null, lastError: lastError ?? null }],
  });
}
