import {
  judgeForLine,
  summariseTrueNASResources,
  truenasSourceAgeSeconds,
  truenasSourceState,
  TRUENAS_STALE_THRESHOLD_SECONDS,
} from '../../src/pulse/staleness.js';
import type { UnifiedResource } from '../../src/pulse/types.js';

const NOW = new Date('2026-02-09T10:05:00Z');

function res(id: string, truenas?: { status: string; lastSeen?: string }): UnifiedResource {
  return {
    id,
    type: 'storage',
    name: id,
    status: 'online',
    sources: truenas ? ['truenas'] : ['agent'],
    ...(truenas ? { sourceStatus: { truenas } } : {}),
  };
}

/** An ISO time `seconds` before NOW. */
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

describe('truenasSourceState (client-side staleness, §3.1)', () => {
  it('uses a 120 s default threshold like Pulse', () => {
    expect(TRUENAS_STALE_THRESHOLD_SECONDS).toBe(120);
  });

  it('is online up to and including the threshold, stale strictly beyond it (Pulse uses >)', () => {
    expect(truenasSourceState(res('a', { status: 'online', lastSeen: ago(30) }), NOW)).toBe('online');
    expect(truenasSourceState(res('a', { status: 'online', lastSeen: ago(120) }), NOW)).toBe('online');
    expect(truenasSourceState(res('a', { status: 'online', lastSeen: ago(121) }), NOW)).toBe('stale');
  });

  it('treats Feb "online with an ageing lastSeen" as stale', () => {
    expect(truenasSourceState(res('a', { status: 'online', lastSeen: '2026-02-09T10:00:00Z' }), NOW)).toBe('stale');
  });

  it('believes a v6 "stale" even with a fresh lastSeen', () => {
    expect(truenasSourceState(res('a', { status: 'stale', lastSeen: ago(5) }), NOW)).toBe('stale');
  });

  it('honours a custom threshold', () => {
    const r = res('a', { status: 'online', lastSeen: ago(90) });
    expect(truenasSourceState(r, NOW, 60)).toBe('stale');
    expect(truenasSourceState(r, NOW, 300)).toBe('online');
  });

  it('is missing without a truenas source status, offline when Pulse says so recently', () => {
    expect(truenasSourceState(res('a'), NOW)).toBe('missing');
    expect(truenasSourceState(res('a', { status: 'offline', lastSeen: ago(10) }), NOW)).toBe('offline');
    expect(truenasSourceState(res('a', { status: 'offline', lastSeen: ago(500) }), NOW)).toBe('stale');
  });

  it('cannot age an unparseable or absent lastSeen', () => {
    expect(truenasSourceAgeSeconds(res('a', { status: 'online', lastSeen: 'yesterday' }), NOW)).toBeUndefined();
    expect(truenasSourceState(res('a', { status: 'online' }), NOW)).toBe('online');
    expect(truenasSourceAgeSeconds(res('a', { status: 'online', lastSeen: ago(42.5) }), NOW)).toBeCloseTo(42.5);
  });
});

describe('summariseTrueNASResources', () => {
  it('counts and lists ids per state, with the largest age', () => {
    const s = summariseTrueNASResources(
      [
        res('host-1', { status: 'online', lastSeen: ago(10) }),
        res('pool-1', { status: 'online', lastSeen: ago(300) }),
        res('ds-1', { status: 'stale', lastSeen: ago(20) }),
        res('agent-1'),
      ],
      NOW,
    );
    expect(s).toEqual({
      total: 4,
      online: 1,
      stale: 2,
      offline: 0,
      missing: 1,
      onlineIds: ['host-1'],
      staleIds: ['pool-1', 'ds-1'],
      offlineIds: [],
      missingIds: ['agent-1'],
      maxAgeSeconds: 300,
      noTrueNASResources: false,
      noFreshTrueNASData: false,
      thresholdSeconds: 120,
      judge: 'last-seen',
    });
  });

  it("judged by Pulse's own status (the v6 line): an old lastSeen that Pulse still lists online is online, not stale", () => {
    const resources = [
      res('host-1', { status: 'online', lastSeen: ago(300) }),
      res('pool-1', { status: 'stale', lastSeen: ago(300) }),
      res('ds-1', { status: 'offline', lastSeen: ago(5) }),
    ];
    const byPulse = summariseTrueNASResources(resources, NOW, 120, 'pulse');
    expect(byPulse).toMatchObject({ online: 1, stale: 1, offline: 1, onlineIds: ['host-1'], judge: 'pulse' });
    // The same answer judged by lastSeen arithmetic (the Feb fallback) calls the first one stale.
    expect(summariseTrueNASResources(resources, NOW, 120, 'last-seen')).toMatchObject({ online: 0, stale: 2 });
    expect(judgeForLine('v6')).toBe('pulse');
    expect(judgeForLine('unknown')).toBe('pulse');
    expect(judgeForLine('feb')).toBe('last-seen');
  });

  it('reports "no TrueNAS resources" (the expected end of a disable or kill-switch) as no fresh data', () => {
    const s = summariseTrueNASResources([], NOW, 120);
    expect(s).toMatchObject({ total: 0, online: 0, stale: 0, noTrueNASResources: true, noFreshTrueNASData: true });
    expect(s.maxAgeSeconds).toBeUndefined();
  });
});
