/**
 * What the resource routes serve, and when it is rebuilt from the poller's cache:
 * - Feb: on every read (`/api/v2/resources` builds its registry per request, ingesting TrueNAS as supplemental
 *   records that are never marked stale).
 * - v6: only when something builds the frontend state (`GET /api/state`; in real Pulse also a websocket client,
 *   which the emulator does not have). Between builds `/api/resources` answers the last build, and before the
 *   first one nothing: on a headless Pulse the list stays empty although the poller succeeds (pulse-api.md §10).
 *   Stale marking happens at the build, against the time of the build.
 * Either way the records come from the poller's per-connection cache, so a removed connection's resources are
 * gone at the first build after the poller's next tick (real v6.0.0, measured).
 */
import type { TrueNASPoller } from './poller.js';
import type { Profile } from './profiles.js';
import { buildResources, type Resource } from './resources.js';

export class ResourceStore {
  private built: Resource[] = [];
  /** How many times the store was rebuilt by a state build (v6), for the control API and tests. */
  builds = 0;

  constructor(
    private readonly profile: Profile,
    private readonly poller: TrueNASPoller,
    private readonly staleSeconds: number,
  ) {}

  /** The resources a read sees now. */
  current(): Resource[] {
    if (!this.profile.resourcesRefreshOnStateBuild) return this.build();
    return this.built;
  }

  /** BuildFrontendState: on v6 this is what refreshes the store; on Feb it changes nothing. */
  buildFrontendState(): Resource[] {
    if (!this.profile.resourcesRefreshOnStateBuild) return this.build();
    this.built = this.build();
    this.builds += 1;
    return this.built;
  }

  private build(): Resource[] {
    return buildResources(this.poller.currentRecords(), this.profile, this.staleSeconds, new Date());
  }
}
