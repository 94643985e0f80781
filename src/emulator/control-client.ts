/**
 * A tiny client for the emulator's `/__emulator/` control API (see control.ts), for tests and
 * workflows that drive the emulator: read the request log, inject faults, force a poll tick.
 */
import type { RequestLogEntry } from './control.js';
import type { FaultRule } from './faults.js';

export interface EmulatorState {
  profile: 'feb' | 'v6';
  flag: { raw: string | null; enabled: boolean };
  poller: { running: boolean; tick: number; tickSeconds: number; staleSeconds: number };
  /** How many frontend-state builds refreshed the resource store (v6 only refreshes then). */
  resourceStore: { builds: number; refreshOnStateBuild: boolean };
  providers: Array<{
    id: string;
    lastAttemptAt: string | null;
    lastSuccessAt: string | null;
    consecutiveFailures: number;
    lastError: { at: string; message: string; category: string } | null;
  }>;
  auth: { hasPasswordAuth: boolean; tokens: number; bootstrapPending: boolean };
  startedAt: string;
}

export class EmulatorControl {
  constructor(readonly baseUrl: string) {}

  async requests(since = 0): Promise<RequestLogEntry[]> {
    const body = (await this.call('GET', `requests?since=${since}`)) as { requests: RequestLogEntry[] };
    return body.requests;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', 'requests');
  }

  /** Adds fault rules; returns the active rules. */
  async addFaults(rules: FaultRule | FaultRule[]): Promise<Array<FaultRule & { remaining: number | null }>> {
    const body = (await this.call('POST', 'faults', Array.isArray(rules) ? rules : [rules])) as {
      faults: Array<FaultRule & { remaining: number | null }>;
    };
    return body.faults;
  }

  async faults(): Promise<Array<FaultRule & { remaining: number | null }>> {
    return ((await this.call('GET', 'faults')) as { faults: Array<FaultRule & { remaining: number | null }> }).faults;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', 'faults');
  }

  /** Runs one sync+poll cycle now and returns the state after it. */
  async tick(): Promise<EmulatorState> {
    return (await this.call('POST', 'tick')) as EmulatorState;
  }

  async state(): Promise<EmulatorState> {
    return (await this.call('GET', 'state')) as EmulatorState;
  }

  private async call(method: string, name: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}/__emulator/${name}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator control ${method} /__emulator/${name} failed: ${res.status} ${text.trim()}`);
    return JSON.parse(text);
  }
}
