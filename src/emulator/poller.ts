/**
 * The TrueNAS poller (internal/monitoring/truenas_poller.go, TRR-06/07 Feb version):
 * - start(): nothing at all when the flag was off at start; otherwise sync+poll at once, then every tick.
 * - syncConnections(): reload truenas.enc; add a provider per new *enabled* id; drop providers and their
 *   cached records for removed or disabled ids. A bad host never becomes a provider: it only logs,
 *   every tick, and produces no metrics.
 * - pollAll(): sequentially refresh each provider; record metrics; a failure logs and keeps the previous
 *   snapshot (and so the previous records, with their old lastSeen).
 * v6 additionally tracks per-connection poll summaries for GET list. On both lines the resources come from the
 * per-connection cache: a failed poll keeps the last snapshot (it ages, and v6 marks it stale), a removed
 * connection's records are dropped on the next tick (real v6.0.0 lists them no more after its store is rebuilt).
 */
import { goTime } from './go-json.js';
import type { TrueNASInstance } from './instance.js';
import type { PulseLogger } from './logger.js';
import type { Profile } from './profiles.js';
import type { PulseMetrics } from './pulse-metrics.js';
import { recordsFromSnapshot, resourceId, type IngestRecord } from './resources.js';
import type { TrueNASStore } from './store.js';
import { TrueNASClient, TrueNASError, type Snapshot } from './truenas-client.js';

export interface ConnectionRuntime {
  lastAttemptAt?: Date;
  lastSuccessAt?: Date;
  consecutiveFailures: number;
  lastError?: { at: Date; message: string; category: string };
  snapshot?: Snapshot;
}

interface Provider {
  instance: TrueNASInstance;
  client: TrueNASClient;
}

export interface PollerOptions {
  profile: Profile;
  enabled: boolean;
  tickSeconds: number;
  timeoutMs: number;
  store: TrueNASStore;
  metrics: PulseMetrics;
  logger: PulseLogger;
}

export class TrueNASPoller {
  private readonly providers = new Map<string, Provider>();
  private readonly cachedRecords = new Map<string, IngestRecord[]>();
  private readonly runtime = new Map<string, ConnectionRuntime>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  ticks = 0;

  constructor(private readonly opts: PollerOptions) {}

  get running(): boolean {
    return this.opts.enabled && !this.stopped;
  }

  /** Starts the loop; resolves after the first sync+poll so callers see its effect. */
  async start(): Promise<void> {
    if (!this.opts.enabled) return; // the gate is the first statement of Start()
    await this.tick();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain.catch(() => undefined);
  }

  /** One sync+poll cycle, serialised with any cycle already running. No-op when the flag is off. */
  tick(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.chain = this.chain.then(async () => {
      this.ticks += 1;
      this.syncConnections();
      await this.pollAll();
    });
    return this.chain;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.opts.tickSeconds * 1000);
    this.timer.unref?.();
  }

  syncConnections(): void {
    let instances: TrueNASInstance[];
    try {
      instances = this.opts.store.load();
    } catch (err) {
      this.opts.logger.configLoadFailed((err as Error).message);
      return;
    }
    const active = new Set<string>();
    for (const instance of instances) {
      const id = instance.id.trim();
      if (id === '' || !instance.enabled) continue;
      active.add(id);
      if (this.providers.has(id)) continue;
      try {
        this.providers.set(id, { instance, client: new TrueNASClient(instance, this.opts.timeoutMs) });
      } catch (err) {
        this.opts.logger.clientInitFailed(id, (err as Error).message);
      }
    }
    for (const id of [...this.providers.keys()]) {
      if (!active.has(id)) {
        this.providers.delete(id);
        this.cachedRecords.delete(id);
      }
    }
  }

  private async pollAll(): Promise<void> {
    for (const [id, provider] of [...this.providers.entries()]) {
      const start = new Date();
      const rt = this.runtime.get(id) ?? { consecutiveFailures: 0 };
      this.runtime.set(id, rt);
      // Pulse records an attempt when it ends, with the same instant as its success or failure
      // (recordConnectionSuccessLocked / recordConnectionFailureLocked): an attempt in flight is not listed, so a
      // reader never sees an attempt with neither a success nor a failure.
      try {
        const snapshot = await provider.client.fetchSnapshot();
        const end = new Date();
        rt.lastAttemptAt = end;
        this.opts.metrics.recordPoll({ instanceType: 'truenas', instance: id, success: true, start, end });
        rt.lastSuccessAt = end;
        rt.consecutiveFailures = 0;
        rt.snapshot = snapshot;
        if (!this.providers.has(id)) continue; // dropped while in flight
        const records = recordsFromSnapshot(snapshot);
        this.cachedRecords.set(id, records);
      } catch (err) {
        const end = new Date();
        rt.lastAttemptAt = end;
        const e = err instanceof TrueNASError ? err : new TrueNASError((err as Error).message, 'api');
        this.opts.metrics.recordPoll({ instanceType: 'truenas', instance: id, success: false, errorType: e.errorType, start, end });
        rt.consecutiveFailures += 1;
        rt.lastError = { at: end, message: e.message, category: e.errorType };
        this.opts.logger.refreshFailed(id, e.message);
      }
    }
  }

  /** The records the resource store is built from: the poller cache, per connection. */
  currentRecords(): IngestRecord[] {
    return [...this.cachedRecords.keys()].sort().flatMap((id) => this.cachedRecords.get(id) ?? []);
  }

  providerIds(): string[] {
    return [...this.providers.keys()];
  }

  runtimeFor(id: string): ConnectionRuntime | undefined {
    return this.runtime.get(id);
  }

  /** v6 GET list `poll` / `observed` for one stored connection. */
  summary(instance: TrueNASInstance): { poll: Record<string, unknown>; observed?: Record<string, unknown> } {
    const rt = this.runtime.get(instance.id.trim());
    const poll: Record<string, unknown> = { intervalSeconds: instance.pollIntervalSeconds > 0 ? instance.pollIntervalSeconds : 60 };
    if (rt?.lastAttemptAt) poll.lastAttemptAt = goTime(rt.lastAttemptAt);
    if (rt?.lastSuccessAt) poll.lastSuccessAt = goTime(rt.lastSuccessAt);
    if (rt && rt.consecutiveFailures > 0) poll.consecutiveFailures = rt.consecutiveFailures;
    if (rt?.lastError && rt.consecutiveFailures > 0) {
      poll.lastError = { at: goTime(rt.lastError.at), message: rt.lastError.message, category: rt.lastError.category };
    }
    if (!rt?.snapshot || !rt.lastSuccessAt) return { poll };
    const snap = rt.snapshot;
    return {
      poll,
      observed: {
        host: snap.system.hostname,
        resourceId: resourceId(this.opts.profile.systemResourceType, `system:${snap.system.hostname}`),
        collectedAt: goTime(snap.collectedAt),
        systems: 1,
        storagePools: snap.pools.length,
        datasets: snap.datasets.length,
        apps: 0,
        disks: snap.disks.length,
      },
    };
  }
}
