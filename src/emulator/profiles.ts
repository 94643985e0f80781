/**
 * The two Pulse lines the emulator can impersonate, as data. Everything that differs between the
 * February 2026 development line ("feb", the TRR era the runbook was written against) and the v6.0.0
 * release ("v6") is decided here, so the handlers read a profile instead of branching on a name.
 * Sources: /work/shared/pulse-api.md §§1-5 and the Pulse Go code it cites.
 */
export type ProfileName = 'feb' | 'v6';

export interface Profile {
  name: ProfileName;
  /** Message of the 404 `truenas_disabled` envelope. */
  disabledMessage: string;
  /** Feb omits an empty `details`; from v6-rel the envelope always carries an object. */
  detailsAlwaysObject: boolean;
  /** How `PULSE_ENABLE_TRUENAS` is read (once, at start). */
  parseFlag(raw: string | undefined): boolean;
  /** POST decodes onto defaults (enabled/useHttps true, poll 60) from a4a223a7c (2026-04-09). */
  postDefaults: boolean;
  /** `POST …/{id}/test` and `PUT …/{id}` are routed (2026-03-29/30+). */
  savedConnectionRoutes: boolean;
  /** GET list items carry `poll` / `observed` (2026-03-30+). */
  listPollSummaries: boolean;
  /** Feb serves `/api/v2/resources`; v6 has none and `/api/resources` is the unified API. */
  v2ResourcesRoute: boolean;
  /** Resource type of the TrueNAS system: Feb "host", v6 renamed it "agent". */
  systemResourceType: 'host' | 'agent';
  /** v6 marks sources stale when its store is built; Feb ingests TrueNAS as supplemental records that never go stale. */
  marksStale: boolean;
  /**
   * v6 rebuilds its unified resource store only when the frontend state is built (GET /api/state, websocket
   * clients); Feb builds the resource list on every read (pulse-api.md §10, measured on v6.0.0 and 6.3.0).
   */
  resourcesRefreshOnStateBuild: boolean;
  /** Feb logs with Go's stdlib `log.Printf`; v6 logs zerolog JSON. */
  logFormat: 'stdlib' | 'zerolog';
}

/** Feb `parseBool` (internal/truenas/provider.go): only these words mean true, anything else is false. */
export function parseGoBool(raw: string | undefined): boolean {
  const v = (raw ?? '').trim().toLowerCase();
  return v === '1' || v === 'true' || v === 'yes' || v === 'on';
}

export const PROFILES: Record<ProfileName, Profile> = {
  feb: {
    name: 'feb',
    disabledMessage: 'TrueNAS integration is not enabled',
    detailsAlwaysObject: false,
    parseFlag: (raw) => parseGoBool(raw),
    postDefaults: false,
    savedConnectionRoutes: false,
    listPollSummaries: false,
    v2ResourcesRoute: true,
    systemResourceType: 'host',
    marksStale: false,
    resourcesRefreshOnStateBuild: false,
    logFormat: 'stdlib',
  },
  v6: {
    name: 'v6',
    disabledMessage: 'TrueNAS integration has been explicitly disabled',
    detailsAlwaysObject: true,
    // d3d242cc5: empty or unset means on; otherwise the same parseBool, so a typo disables it.
    parseFlag: (raw) => ((raw ?? '').trim() === '' ? true : parseGoBool(raw)),
    postDefaults: true,
    savedConnectionRoutes: true,
    listPollSummaries: true,
    v2ResourcesRoute: false,
    systemResourceType: 'agent',
    marksStale: true,
    resourcesRefreshOnStateBuild: true,
    logFormat: 'zerolog',
  },
};
