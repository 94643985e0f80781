/**
 * The Prometheus client against a real Prometheus 2.42 (answers, NaN and Inf, refused queries) and against
 * local stand-ins for what goes wrong in front of it (nothing listening, a hung server, a proxy's 503 page, a
 * 401, a 200 that is not the API). Also: the target schema, and evaluateChecks when Prometheus is down
 * (every check inconclusive, never a pass).
 */
import { createServer, type Server } from 'node:http';
import { PrometheusTargetSchema } from '../../src/config/prometheus-target.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { PrometheusError } from '../../src/prometheus/errors.js';
import { evaluateChecks } from '../../src/prometheus/evaluate.js';
import { evaluateMetricChecks } from '../../activities/prometheus.js';
import { ALERT_CHECK_IDS } from '../../src/prometheus/checks.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';

let prometheus: PrometheusProcess;
beforeAll(async () => {
  prometheus = await startPrometheus();
});
afterAll(async () => {
  await prometheus?.stop();
});

/** A local HTTP server answering every request with `handler`; records the requests. */
async function standIn(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const seen: Array<{ url: string; authorization?: string; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      handler(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function failure(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrometheusError);
    return err as PrometheusError;
  }
  throw new Error('expected a PrometheusError');
}

describe('PrometheusClient against a real Prometheus', () => {
  it('is ready and answers vectors, scalars, NaN and +Inf as Prometheus writes them', async () => {
    const client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 5000 });
    expect(await client.ready()).toBe(true);
    expect(await client.query('vector(3) + 0.5', 1735689600)).toEqual({
      resultType: 'vector',
      samples: [{ labels: {}, time: 1735689600, value: '3.5' }],
    });
    expect(await client.query('0/0')).toMatchObject({ resultType: 'scalar', sample: { value: 'NaN' } });
    expect(await client.query('1/0')).toMatchObject({ resultType: 'scalar', sample: { value: '+Inf' } });
    expect(await client.query('up{job="nothing"}')).toEqual({ resultType: 'vector', samples: [] });
    const range = await client.queryRange('vector(1)', 1735689600, 1735689660, 30);
    expect(range).toEqual([
      {
        labels: {},
        values: [
          [1735689600, '1'],
          [1735689630, '1'],
          [1735689660, '1'],
        ],
      },
    ]);
  });

  it("reports a refused expression as a query error with Prometheus's errorType and the query", async () => {
    const client = new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 5000 });
    const err = await failure(client.query('sum(rate(x[5m])'));
    expect(err).toMatchObject({ kind: 'query', errorType: 'bad_data', status: 400, retryable: false });
    expect(err.message).toContain('sum(rate(x[5m])');
  });
});

describe('PrometheusClient when the answer is not usable', () => {
  it('nothing listening: unavailable (retryable), says connection refused', async () => {
    const gone = await standIn(() => undefined);
    await gone.close();
    const err = await failure(new PrometheusClient({ baseUrl: gone.url, timeoutMs: 2000 }).query('up'));
    expect(err).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(err.message).toMatch(/connection refused/);
    expect(await new PrometheusClient({ baseUrl: gone.url, timeoutMs: 2000 }).ready()).toBe(false);
  });

  it('a hung server: unavailable after the timeout, not later', async () => {
    const hung = await standIn(() => undefined); // never answers
    try {
      const started = Date.now();
      const err = await failure(new PrometheusClient({ baseUrl: hung.url, timeoutMs: 300 }).query('up'));
      expect(err.kind).toBe('unavailable');
      expect(err.message).toMatch(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await hung.close();
    }
  });

  it('a proxy 503 page is unavailable; a Prometheus 503 JSON error too; a 200 that is not the API is a protocol error', async () => {
    let reply: [number, string] = [503, '<html>upstream down</html>'];
    const proxy = await standIn((_req, res) => {
      res.writeHead(reply[0], { 'content-type': 'text/html' });
      res.end(reply[1]);
    });
    try {
      const client = new PrometheusClient({ baseUrl: proxy.url, timeoutMs: 2000 });
      expect(await failure(client.query('up'))).toMatchObject({ kind: 'unavailable', status: 503 });
      reply = [503, JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' })];
      expect(await failure(client.query('up'))).toMatchObject({ kind: 'unavailable', errorType: 'timeout' });
      reply = [200, JSON.stringify({ hello: 'world' })];
      expect(await failure(client.query('up'))).toMatchObject({ kind: 'protocol' });
      reply = [200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: ['x', 1] }] } })];
      expect(await failure(client.query('up'))).toMatchObject({ kind: 'protocol' });
    } finally {
      await proxy.close();
    }
  });

  it('sends the bearer token read by reference, POSTs the query as a form, and keeps the token out of errors', async () => {
    const token = 'prom-secret-token-4711';
    const proxy = await standIn((req, res) => {
      // A careless proxy echoes the credentials it refused.
      res.writeHead(req.headers.authorization === `Bearer ${token}` ? 500 : 401, { 'content-type': 'text/plain' });
      res.end(`refused ${req.headers.authorization}`);
    });
    try {
      const target = PrometheusTargetSchema.parse({ url: `${proxy.url}/`, token: { env: 'PROM_TEST_TOKEN' } });
      expect(target.url).toBe(proxy.url);
      const client = await PrometheusClient.create(target, { PROM_TEST_TOKEN: token });
      const err = await failure(client.query('up{job="pulse"}', 1735689600));
      expect(err.kind).toBe('unavailable');
      expect(err.message).not.toContain(token);
      expect(err.message).toContain('********');
      expect(proxy.seen[0]).toMatchObject({ url: '/api/v1/query', authorization: `Bearer ${token}` });
      expect(new URLSearchParams(proxy.seen[0].body).get('query')).toBe('up{job="pulse"}');
      expect(new URLSearchParams(proxy.seen[0].body).get('time')).toBe('1735689600');
      const anonymous = new PrometheusClient({ baseUrl: proxy.url, timeoutMs: 2000 });
      expect(await failure(anonymous.query('up'))).toMatchObject({ kind: 'auth', status: 401 });
      await expect(
        PrometheusClient.create(PrometheusTargetSchema.parse({ url: proxy.url, token: { env: 'PROM_TEST_MISSING' } }), {}),
      ).rejects.toThrow(/PROM_TEST_MISSING is not set/);
    } finally {
      await proxy.close();
    }
  });

  it('evaluateChecks with Prometheus down: every check inconclusive with the reason, reachable false', async () => {
    const gone = await standIn(() => undefined);
    await gone.close();
    const evaluation = await evaluateChecks(new PrometheusClient({ baseUrl: gone.url, timeoutMs: 1000 }), ALERT_CHECK_IDS);
    expect(evaluation.reachable).toBe(false);
    expect(evaluation.results.map((r) => r.verdict)).toEqual(ALERT_CHECK_IDS.map(() => 'inconclusive'));
    expect(evaluation.results[0].error).toMatchObject({ kind: 'unavailable' });
    // The activity does the same when the token cannot be read: the monitor keeps running and says why.
    const noToken = await evaluateMetricChecks({
      prometheus: PrometheusTargetSchema.parse({ url: prometheus.url, token: { file: '/nonexistent/prom-token' } }),
      checks: ['auth-errors'],
    });
    expect(noToken.reachable).toBe(false);
    expect(noToken.results[0]).toMatchObject({ verdict: 'inconclusive', error: { kind: 'auth' } });
    expect(noToken.results[0].error!.message).toContain('/nonexistent/prom-token');
  });

  it('evaluateChecks against a live Prometheus: the job guard fails (nothing scraped), the TrueNAS rows pass on no data', async () => {
    const evaluation = await evaluateMetricChecks({
      prometheus: PrometheusTargetSchema.parse({ url: prometheus.url }),
      checks: [...ALERT_CHECK_IDS],
    });
    expect(evaluation.reachable).toBe(true);
    const verdicts = Object.fromEntries(evaluation.results.map((r) => [r.check, r.verdict]));
    expect(verdicts).toEqual({ ...Object.fromEntries(ALERT_CHECK_IDS.map((c) => [c, 'pass'])), 'pulse-scrape': 'fail' });
  });
});

describe('PrometheusTargetSchema', () => {
  it('names the field and the fix', () => {
    const bad = PrometheusTargetSchema.safeParse({ url: 'prometheus:9090', timeoutMs: -1 });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages.join('\n')).toMatch(/url: must be a URL such as http:\/\/prometheus:9090|url: must start with http/);
    expect(messages.join('\n')).toMatch(/timeoutMs/);
    expect(PrometheusTargetSchema.parse({ url: 'http://p:9090' }).timeoutMs).toBe(10_000);
  });
});
