/**
 * A small client for Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/-/ready`) over undici.
 * Queries are POSTed as a form body (long PromQL stays out of URLs and access logs), values are kept as the
 * strings Prometheus sends ("NaN", "+Inf" survive JSON and Temporal payloads), and every failure is a typed
 * PrometheusError. The optional bearer token is read by reference (PrometheusEndpoint.token) and scrubbed from
 * every message.
 */
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { scrub } from '../runbook/redact.js';
import { PrometheusError } from './errors.js';
import { readSecretRef, type SecretRef } from './secret-ref.js';

/** Where Prometheus is, as src/config/prometheus-target.ts checks it at the edge (this folder reads no config). */
export interface PrometheusEndpoint {
  url: string;
  token?: SecretRef;
  timeoutMs: number;
}

/** Labels of one series, without `__name__`. */
export type Labels = Record<string, string>;

/** One value at one time; `value` is Prometheus's string ("0.5", "NaN", "+Inf"). */
export interface Sample {
  labels: Labels;
  /** Unix seconds. */
  time: number;
  value: string;
}

export type InstantResult =
  | { resultType: 'vector'; samples: Sample[] }
  | { resultType: 'scalar'; sample: Sample }
  | { resultType: 'matrix'; series: Array<{ labels: Labels; values: Array<[number, string]> }> }
  | { resultType: 'string'; value: string };

export interface PrometheusClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

const ApiAnswer = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

const SampleJson = z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) });
const SeriesJson = z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) });
const DataJson = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(SampleJson) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(SeriesJson) }),
  z.object({ resultType: z.literal('scalar'), result: z.tuple([z.number(), z.string()]) }),
  z.object({ resultType: z.literal('string'), result: z.tuple([z.number(), z.string()]) }),
]);

function withoutName(metric: Record<string, string>): Labels {
  const { __name__: _ignored, ...rest } = metric;
  return rest;
}

export class PrometheusClient {
  constructor(private readonly opts: PrometheusClientOptions) {}

  /** Builds a client for a target, reading its token reference (on the worker's host). */
  static async create(target: PrometheusEndpoint, env: NodeJS.ProcessEnv = process.env): Promise<PrometheusClient> {
    const token =
      target.token && (target.token.env || target.token.file) ? await readSecretRef(target.token, 'the Prometheus token', env) : undefined;
    return new PrometheusClient({ baseUrl: target.url, token, timeoutMs: target.timeoutMs });
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** Instant query at `time` (unix seconds; Prometheus's "now" when omitted). */
  async query(expr: string, time?: number): Promise<InstantResult> {
    const form: Record<string, string> = { query: expr };
    if (time !== undefined) form.time = String(time);
    const data = DataJson.safeParse(await this.post('/api/v1/query', form));
    if (!data.success) throw this.protocol('/api/v1/query', `unexpected data shape (${data.error.issues[0]?.message})`);
    const d = data.data;
    switch (d.resultType) {
      case 'vector':
        return {
          resultType: 'vector',
          samples: d.result.map((s) => ({ labels: withoutName(s.metric), time: s.value[0], value: s.value[1] })),
        };
      case 'scalar':
        return { resultType: 'scalar', sample: { labels: {}, time: d.result[0], value: d.result[1] } };
      case 'matrix':
        return { resultType: 'matrix', series: d.result.map((s) => ({ labels: withoutName(s.metric), values: s.values })) };
      case 'string':
        return { resultType: 'string', value: d.result[1] };
    }
  }

  /** Range query: one series per label set, values every `stepSeconds` from `start` to `end` (unix seconds). */
  async queryRange(
    expr: string,
    start: number,
    end: number,
    stepSeconds: number,
  ): Promise<Array<{ labels: Labels; values: Array<[number, string]> }>> {
    const raw = await this.post('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(stepSeconds) });
    const data = DataJson.safeParse(raw);
    if (!data.success || data.data.resultType !== 'matrix') throw this.protocol('/api/v1/query_range', 'expected a matrix');
    return data.data.result.map((s) => ({ labels: withoutName(s.metric), values: s.values }));
  }

  /** True when `/-/ready` answers 200. Never throws. */
  async ready(): Promise<boolean> {
    try {
      const res = await request(`${this.opts.baseUrl}/-/ready`, {
        headers: this.headers(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        dispatcher: this.opts.dispatcher,
      });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  private async post(path: string, form: Record<string, string>): Promise<unknown> {
    const { timeoutMs } = this.opts;
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.opts.baseUrl}${path}`, {
        method: 'POST',
        headers: { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        dispatcher: this.opts.dispatcher,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw this.transportError(path, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const answer = ApiAnswer.safeParse(json);
    if (status === 401 || status === 403) {
      throw new PrometheusError(
        this.clean(
          `POST ${this.opts.baseUrl}${path} → ${status}: Prometheus (or a proxy in front of it) refused the credentials; check the Prometheus token reference`,
        ),
        'auth',
        undefined,
        status,
      );
    }
    if (!answer.success) {
      const kind = status >= 200 && status < 300 ? 'protocol' : 'unavailable';
      throw new PrometheusError(
        this.clean(
          `POST ${this.opts.baseUrl}${path} → ${status}: the answer is not Prometheus API JSON (${text.slice(0, 120).replace(/\s+/g, ' ')})`,
        ),
        kind,
        undefined,
        status,
      );
    }
    if (answer.data.status === 'error') {
      const errorType = answer.data.errorType ?? 'unknown';
      // bad_data and execution errors are about the expression; timeout, canceled, internal and unavailable are
      // about Prometheus's state at this moment.
      const kind = errorType === 'bad_data' || errorType === 'execution' || status === 400 || status === 422 ? 'query' : 'unavailable';
      throw new PrometheusError(
        this.clean(`Prometheus ${errorType} error (${status}): ${answer.data.error ?? 'no message'}; query: ${form.query}`),
        kind,
        errorType,
        status,
      );
    }
    if (status < 200 || status >= 300) {
      throw new PrometheusError(
        this.clean(`POST ${this.opts.baseUrl}${path} → ${status} with a success body`),
        'protocol',
        undefined,
        status,
      );
    }
    return answer.data.data;
  }

  private transportError(path: string, err: unknown): PrometheusError {
    const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
    const code = e?.code ?? e?.cause?.code;
    const timedOut =
      e?.name === 'TimeoutError' || e?.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    const what = timedOut
      ? `no answer within ${this.opts.timeoutMs} ms (timeout)`
      : code === 'ECONNREFUSED'
        ? 'connection refused: is Prometheus running and listening on this address?'
        : `network error${code ? ` ${code}` : ''}: ${e?.message ?? String(err)}`;
    return new PrometheusError(this.clean(`POST ${this.opts.baseUrl}${path} → ${what}`), 'unavailable');
  }

  private protocol(path: string, problem: string): PrometheusError {
    return new PrometheusError(this.clean(`POST ${this.opts.baseUrl}${path}: ${problem}`), 'protocol');
  }

  private clean(message: string): string {
    return scrub(message, [this.opts.token]);
  }
}

export { parseValue } from './checks.js';
