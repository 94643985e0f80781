/**
 * Pulse's log lines, so log-grep steps of the runbook see what they would see on a real host.
 * Feb: Go stdlib `log.Printf` ("2026/02/09 10:00:00 [TrueNASPoller] Refresh failed for <id>: <err>").
 * v6: zerolog JSON ({"level":"warn","component":"truenas_poller",…,"message":"TrueNAS poller refresh failed"}).
 * Successful polls log nothing in either line, and there is no "poller started" line (pulse-api.md §5).
 */
import type { Profile } from './profiles.js';

export type LogSink = (line: string) => void;

const pad = (n: number) => String(n).padStart(2, '0');

function stdlibStamp(d: Date): string {
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export class PulseLogger {
  constructor(
    private readonly profile: Profile,
    private readonly sink: LogSink = (line) => process.stderr.write(`${line}\n`),
  ) {}

  refreshFailed(connectionId: string, error: string): void {
    if (this.profile.logFormat === 'stdlib') {
      this.stdlib(`[TrueNASPoller] Refresh failed for ${connectionId}: ${error}`);
    } else {
      this.zerolog(
        'warn',
        { component: 'truenas_poller', action: 'refresh_connection', connection_id: connectionId, error },
        'TrueNAS poller refresh failed',
      );
    }
  }

  clientInitFailed(connectionId: string, error: string): void {
    if (this.profile.logFormat === 'stdlib') {
      this.stdlib(`[TrueNASPoller] Failed to initialize client for connection ${JSON.stringify(connectionId)}: ${error}`);
    } else {
      this.zerolog(
        'warn',
        { component: 'truenas_poller', action: 'init_client', connection_id: connectionId, error },
        'Failed to initialize TrueNAS client',
      );
    }
  }

  configLoadFailed(error: string): void {
    if (this.profile.logFormat === 'stdlib') this.stdlib(`[TrueNASPoller] Failed to load TrueNAS config: ${error}`);
    else this.zerolog('warn', { component: 'truenas_poller', action: 'load_config', error }, 'Failed to load TrueNAS config');
  }

  /** Emulator-specific lines (startup, shutdown) in the same format, clearly marked. */
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (this.profile.logFormat === 'stdlib') {
      const extra = Object.entries(fields)
        .map(([k, v]) => ` ${k}=${String(v)}`)
        .join('');
      this.stdlib(`${message}${extra}`);
    } else {
      this.zerolog('info', fields, message);
    }
  }

  private stdlib(text: string): void {
    this.sink(`${stdlibStamp(new Date())} ${text}`);
  }

  private zerolog(level: string, fields: Record<string, unknown>, message: string): void {
    const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.sink(JSON.stringify({ level, ...fields, time, message }));
  }
}
