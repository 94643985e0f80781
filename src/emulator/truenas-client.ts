/**
 * The Feb-era TrueNAS REST client (internal/truenas/client.go), for real over HTTP(S):
 * `GET {base}/api/v2.0/{system/info,pool,pool/dataset,disk,alert/list}` with `Authorization: Bearer <apiKey>`
 * (or basic auth), Go-style error texts, and the TRR-06 error classes the poller feeds to metrics.
 * Note resolveEndpoint's real quirk: "http://host:port" with no separate `port` field is dialled over HTTPS.
 * Like Pulse's FetchSnapshot, every one of the five calls must succeed for a snapshot to count.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { TrueNASInstance } from './instance.js';

export type ErrorClass = 'auth' | 'timeout' | 'connection' | 'api';

/** An error whose message reads like Pulse's and which knows its metrics `error_type`. */
export class TrueNASError extends Error {
  constructor(
    message: string,
    readonly errorType: ErrorClass,
    readonly statusCode?: number,
  ) {
    super(message);
  }
  wrap(prefix: string): TrueNASError {
    return new TrueNASError(`${prefix}: ${this.message}`, this.errorType, this.statusCode);
  }
}

export interface Endpoint {
  https: boolean;
  hostPort: string;
  baseUrl: string;
}

/** resolveEndpoint: a scheme in host wins; no scheme, useHttps=false and port=0 still means HTTPS. */
export function resolveEndpoint(host: string, useHttps: boolean, port: number): Endpoint {
  let raw = host.trim();
  if (raw === '') throw new Error('truenas host is required');
  let https = useHttps;
  if (raw.includes('://')) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch (err) {
      throw new Error(`parse truenas host "${host}": ${(err as Error).message}`, { cause: err });
    }
    if (parsed.host === '') throw new Error(`parse truenas host "${host}": missing host`);
    if (parsed.username || parsed.password) throw new Error(`parse truenas host "${host}": credentials are not supported`);
    if (parsed.pathname !== '' && parsed.pathname !== '/') throw new Error(`parse truenas host "${host}": path is not supported`);
    if (parsed.search !== '' || raw.includes('?')) throw new Error(`parse truenas host "${host}": query is not supported`);
    if (parsed.hash !== '') throw new Error(`parse truenas host "${host}": fragment is not supported`);
    const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
    if (scheme === 'https') https = true;
    else if (scheme === 'http') https = false;
    else throw new Error(`unsupported truenas scheme "${scheme}"`);
    raw = raw.slice(raw.indexOf('://') + 3).replace(/\/$/, '');
  }
  // Pulse's own rule, kept as-is: without an explicit `port`, even "http://nas:8080" is dialled over HTTPS
  // (the scheme sets useHTTPS=false, then `!useHTTPS && port == 0` turns it back on). Plain HTTP needs
  // `port` set in the connection, e.g. {"host":"http://127.0.0.1","port":8080}.
  if (!https && port === 0) https = true;
  let hostName = raw;
  let portText = '';
  if (raw.startsWith('[')) {
    const end = raw.indexOf(']');
    hostName = raw.slice(1, end < 0 ? undefined : end);
    if (end >= 0 && raw.charAt(end + 1) === ':') portText = raw.slice(end + 2);
  } else if (raw.split(':').length === 2) {
    [hostName, portText] = raw.split(':');
  }
  if (hostName.trim() === '') throw new Error(`invalid truenas host "${host}"`);
  let resolved = port;
  if (resolved === 0 && portText !== '') {
    if (!/^\d+$/.test(portText)) throw new Error(`invalid truenas port "${portText}": strconv.Atoi: parsing "${portText}": invalid syntax`);
    resolved = Number(portText);
  }
  if (resolved === 0) resolved = https ? 443 : 80;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > 65535) throw new Error(`invalid truenas port ${resolved}`);
  const hostPort = hostName.includes(':') ? `[${hostName}]:${resolved}` : `${hostName}:${resolved}`;
  return { https, hostPort, baseUrl: `${https ? 'https' : 'http'}://${hostPort}/api/v2.0` };
}

export interface Snapshot {
  collectedAt: Date;
  system: { hostname: string; version: string; uptimeSeconds: number; machineId: string; healthy: boolean };
  pools: Array<{ id: string; name: string; status: string; totalBytes: number; usedBytes: number; freeBytes: number }>;
  datasets: Array<{ id: string; name: string; pool: string; usedBytes: number; availBytes: number; mounted: boolean; readOnly: boolean }>;
  disks: Array<{ name: string; pool: string; status: string; serial: string }>;
  alerts: Array<{ id: string; level: string; message: string }>;
}

type Json = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0)) || 0;
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v));
/** TrueNAS wraps dataset sizes as {rawvalue, parsed}. */
const parsedValue = (v: unknown): unknown => (v && typeof v === 'object' && 'parsed' in (v as Json) ? (v as Json).parsed : v);

export class TrueNASClient {
  readonly endpoint: Endpoint;

  constructor(
    private readonly instance: TrueNASInstance,
    private readonly timeoutMs: number,
  ) {
    this.endpoint = resolveEndpoint(instance.host, instance.useHttps, instance.port);
    const pin = instance.fingerprint
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '')
      .replace(/[: ]/g, '');
    if (this.endpoint.https && pin !== '' && !/^[0-9a-f]{64}$/.test(pin)) {
      throw new Error(`invalid truenas fingerprint "${instance.fingerprint}": expected 64 hex characters`);
    }
  }

  async testConnection(): Promise<void> {
    try {
      await this.getJSON('/system/info');
    } catch (err) {
      throw (err as TrueNASError).wrap('truenas connection test failed');
    }
  }

  async fetchSnapshot(): Promise<Snapshot> {
    const step = async <T>(label: string, path: string): Promise<T> => {
      try {
        return (await this.getJSON(path)) as T;
      } catch (err) {
        throw (err as TrueNASError).wrap(`fetch truenas ${label}`);
      }
    };
    const info = await step<Json>('system info', '/system/info');
    const pools = await step<Json[]>('pools', '/pool');
    const datasets = await step<Json[]>('datasets', '/pool/dataset');
    const disks = await step<Json[]>('disks', '/disk');
    const alerts = await step<Json[]>('alerts', '/alert/list');
    const hostname = str(info.hostname);
    return {
      collectedAt: new Date(),
      system: {
        hostname,
        version: str(info.version),
        uptimeSeconds: num(info.uptime_seconds),
        machineId: str(info.system_serial) || hostname,
        healthy: true,
      },
      pools: (pools ?? []).map((p) => ({
        id: num(p.id) !== 0 ? String(num(p.id)) : str(p.name),
        name: str(p.name),
        status: str(p.status),
        totalBytes: num(p.size),
        usedBytes: num(p.allocated),
        freeBytes: num(p.free),
      })),
      datasets: (datasets ?? []).map((d) => {
        const name = str(d.name) || str(d.id);
        return {
          id: str(d.id),
          name,
          pool: str(d.pool) || name.split('/')[0],
          usedBytes: num(parsedValue(d.used)),
          availBytes: num(parsedValue(d.available)),
          mounted: d.mounted === true,
          readOnly: parsedValue(d.readonly) === true || parsedValue(d.readonly) === 'on',
        };
      }),
      disks: (disks ?? []).map((d) => ({ name: str(d.name), pool: str(d.pool), status: str(d.status), serial: str(d.serial) })),
      alerts: (alerts ?? []).map((a) => ({ id: str(a.id), level: str(a.level), message: str(a.formatted) })),
    };
  }

  /**
   * getJSON: non-2xx → APIError text `truenas request GET /x failed: status=N body="…"`. Like Go's http.Transport
   * (roundTrip's loop while shouldRetryRequest holds), a GET sent on a reused keep-alive connection that the NAS
   * closed meanwhile (reset before any answer) is sent again, on the next idle connection or a new one, until it is
   * answered or fails on a connection of its own: Pulse does not count that race as a failed poll, so neither may the
   * emulator. After the process stalls (a busy machine, 500 instances in one process), every idle connection can be
   * dead at once: sent again only once, every poll of that moment failed (the fleet test's "one failed poll each").
   * Each retry uses up one idle connection, so the retries end; `staleRetries` bounds them all the same.
   */
  private getJSON(path: string, staleRetries = 256): Promise<unknown> {
    const url = `${this.endpoint.baseUrl}${path}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.instance.apiKey.trim() !== '') headers.Authorization = `Bearer ${this.instance.apiKey.trim()}`;
    else if (this.instance.username || this.instance.password) {
      headers.Authorization = `Basic ${Buffer.from(`${this.instance.username}:${this.instance.password}`).toString('base64')}`;
    }
    const transportErr = (detail: string, type: ErrorClass) =>
      new TrueNASError(`truenas request GET ${path} failed: Get "${url}": ${detail}`, type);

    return new Promise((resolve, reject) => {
      const send = this.endpoint.https ? httpsRequest : httpRequest;
      const req = send(url, {
        method: 'GET',
        headers,
        rejectUnauthorized: !this.instance.insecureSkipVerify && !this.instance.fingerprint,
      });
      const timer = setTimeout(() => {
        req.destroy(transportErr('context deadline exceeded (Client.Timeout exceeded while awaiting headers)', 'timeout'));
      }, this.timeoutMs);
      const done = () => clearTimeout(timer);
      req.on('socket', (socket) => {
        if (!this.endpoint.https || !this.instance.fingerprint) return;
        socket.once('secureConnect', () => {
          const cert = (socket as TLSSocket).getPeerCertificate();
          const actual = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
          const wanted = this.instance.fingerprint
            .toLowerCase()
            .replace(/^sha256:/, '')
            .replace(/[: ]/g, '');
          if (actual !== wanted) req.destroy(transportErr('truenas tls pinning failed: fingerprint mismatch', 'api'));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        done();
        if (staleRetries > 0 && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          resolve(this.getJSON(path, staleRetries - 1));
          return;
        }
        reject(err instanceof TrueNASError ? err : transportErr(...describeNetError(err, this.endpoint.hostPort)));
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          done();
          reject(transportErr(err.message, 'api'));
        });
        res.on('end', () => {
          done();
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const body = text.slice(0, 4096).trim() || (res.statusMessage ?? '');
            const type: ErrorClass = status === 401 || status === 403 ? 'auth' : status === 408 || status === 504 ? 'timeout' : 'api';
            reject(new TrueNASError(`truenas request GET ${path} failed: status=${status} body=${JSON.stringify(body)}`, type, status));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new TrueNASError(`decode truenas response for GET ${path}: ${(err as Error).message}`, 'api'));
          }
        });
      });
      req.end();
    });
  }
}

/** Maps Node socket errors onto Go's net.OpError texts (→ "connection") or plain errors (→ "api"). */
function describeNetError(err: NodeJS.ErrnoException, hostPort: string): [string, ErrorClass] {
  const host = hostPort.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  switch (err.code) {
    case 'ECONNREFUSED':
      return [`dial tcp ${hostPort}: connect: connection refused`, 'connection'];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return [`dial tcp: lookup ${host}: no such host`, 'connection'];
    case 'EHOSTUNREACH':
      return [`dial tcp ${hostPort}: connect: no route to host`, 'connection'];
    case 'ENETUNREACH':
      return [`dial tcp ${hostPort}: connect: network is unreachable`, 'connection'];
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return ['http: server gave HTTP response to HTTPS client', 'api'];
    case 'ETIMEDOUT':
      return [`dial tcp ${hostPort}: i/o timeout`, 'timeout'];
    case 'ECONNRESET':
      // Node reports a clean close before any response as "socket hang up"; Go reports that as EOF.
      return err.message === 'socket hang up' ? ['EOF', 'api'] : [`read tcp ${hostPort}: read: connection reset by peer`, 'connection'];
    default:
      if (/wrong version number/i.test(err.message)) return ['http: server gave HTTP response to HTTPS client', 'api'];
      // TLS and certificate errors are not *net.OpError in Go, so they classify as "api".
      return [err.message, 'api'];
  }
}
