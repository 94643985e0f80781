/**
 * One HTTP exchange with Pulse over undici: JSON in and out, the bearer token, a per-request deadline that
 * covers headers and body, and transport failures turned into typed errors. HTTP statuses are returned,
 * not thrown, so callers can treat a 404 as an answer (delete → already gone, probes → feature absent).
 */
import { request, type Dispatcher } from 'undici';
import { errorFromResponse, errorFromTransport, type PulseError, type TokenSourceHint } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PulseAnswer {
  method: HttpMethod;
  /** Path (with query) relative to the Pulse base URL, as used in messages and evidence. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON; undefined when empty or not JSON (router 405s, SPA HTML). */
  json?: unknown;
}

export interface TransportOptions {
  baseUrl: string;
  token?: string;
  tokenSource?: TokenSourceHint;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

export class PulseTransport {
  constructor(private readonly opts: TransportOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  get hasToken(): boolean {
    return this.opts.token !== undefined;
  }

  /** Strings to scrub from anything this exchange produces: the token plus request secrets. */
  secrets(extra: Array<string | undefined> = []): Array<string | undefined> {
    return [this.opts.token, ...extra];
  }

  /** Sends one request. Throws only PulseUnavailableError (no HTTP answer); every status is returned. */
  async send(method: HttpMethod, path: string, body?: unknown, bodySecrets: string[] = []): Promise<PulseAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const { timeoutMs } = this.opts;
    try {
      const res = await request(`${this.opts.baseUrl}${path}`, {
        method,
        headers,
        body: payload,
        // The signal bounds the whole exchange, body included; the undici timeouts are a second net.
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        dispatcher: this.opts.dispatcher,
      });
      const text = await res.body.text();
      return { method, path, status: res.statusCode, headers: res.headers, text, json: parseJson(text) };
    } catch (error) {
      throw errorFromTransport({ method, path, error, timeoutMs, secrets: this.secrets(bodySecrets) });
    }
  }

  /** The typed error for a non-2xx answer. */
  errorFor(answer: PulseAnswer, bodySecrets: string[] = []): PulseError {
    return errorFromResponse({
      method: answer.method,
      path: answer.path,
      status: answer.status,
      bodyText: answer.text,
      json: answer.json,
      secrets: this.secrets(bodySecrets),
      tokenSent: this.hasToken,
      tokenSource: this.opts.tokenSource,
    });
  }

  /** Sends and throws the typed error unless the status is 2xx. */
  async sendOk(method: HttpMethod, path: string, body?: unknown, bodySecrets: string[] = []): Promise<PulseAnswer> {
    const answer = await this.send(method, path, body, bodySecrets);
    if (answer.status < 200 || answer.status > 299) throw this.errorFor(answer, bodySecrets);
    return answer;
  }
}

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
