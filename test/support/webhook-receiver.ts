/**
 * A real HTTP receiver for webhook notifications, on 127.0.0.1 and a random port. It records every request
 * (method, path, headers, raw body, parsed JSON) and answers with a status chosen per request, so tests can
 * make the first deliveries fail and watch the retries.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The status the receiver answered. */
  answered: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Answers the next `count` requests with `status` (then 200 again). */
  failNext(count: number, status?: number): void;
  /** Resolves when at least `count` requests matched `match`, or rejects after timeoutMs. */
  waitFor(count: number, match?: (r: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let failures: Array<number> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const answered = failures.shift() ?? 200;
      received.push({ method: req.method ?? '', path: req.url ?? '/', headers: req.headers, body, json, answered, at: Date.now() });
      res.writeHead(answered, { 'content-type': 'application/json' });
      res.end(answered < 300 ? '{"ok":true}' : '{"error":"injected failure"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    failNext(count, status = 503) {
      failures = [...failures, ...Array<number>(count).fill(status)];
    },
    async waitFor(count, match = () => true, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hits = received.filter(match);
        if (hits.length >= count) return hits;
        if (Date.now() > until)
          throw new Error(`expected ${count} matching webhook(s) within ${timeoutMs} ms, got ${hits.length} (of ${received.length})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
