/**
 * Why Pulse could not reach or poll a NAS, and the likely fix, read from Pulse's own words: the connection
 * test's `details.error`, or a connection's `poll.lastError` ({message, category}). The rules are ordered so that
 * the most specific reading wins and a cause is never guessed against the message: a websocket handshake that
 * failed is a transport mismatch even when its status is 401 (no key has been sent at that point), not a refused
 * key. Pure: used by the Enable activities and unit-tested on messages real Pulse builds produced.
 */

export type TrueNASFailureCause = 'transport' | 'auth' | 'permission' | 'tls' | 'timeout' | 'connection' | 'nas-api' | 'unknown';

export interface TrueNASFailureExplanation {
  cause: TrueNASFailureCause;
  /** One sentence: what Pulse's words mean. */
  meaning: string;
  /** What to do about it. */
  fix: string;
}

const RULES: Array<{ test: (m: string, category: string) => boolean; explain: (m: string) => TrueNASFailureExplanation }> = [
  {
    // Pulse 6.1+ (JSON-RPC over a websocket at /api/current): the upgrade itself was refused.
    test: (m) => /websocket: bad handshake|dial truenas rpc websocket/i.test(m),
    explain: (m) => ({
      cause: 'transport',
      meaning: `the NAS did not accept Pulse's JSON-RPC websocket at /api/current${statusIn(m) ? ` (the upgrade answered ${statusIn(m)})` : ''}: a transport mismatch, not a refused API key (no key is sent before the websocket is open)`,
      fix: 'point host and port at the TrueNAS middleware itself (no proxy that strips websocket upgrades); a NAS without the JSON-RPC API must answer 404 on /api/current and report a CORE/legacy version for Pulse to fall back to REST',
    }),
  },
  {
    test: (m) => /credentials require TLS/i.test(m),
    explain: () => ({
      cause: 'tls',
      meaning: 'Pulse sends JSON-RPC credentials only over TLS, and this connection is plain HTTP',
      fix: 'use an https:// host (pin the certificate with fingerprint, or set insecureSkipVerify for a self-signed one)',
    }),
  },
  {
    test: (m) => /status=403/.test(m) || /\bEPERM\b|not authorized|permission denied/i.test(m),
    explain: () => ({
      cause: 'permission',
      meaning: 'the NAS accepted the API key but refused the call (403): the key lacks a role',
      fix: 'use a key of a Full Admin user; on TrueNAS 25.10 a "Readonly Admin" key gets 403 (Pulse issue #1589)',
    }),
  },
  {
    test: (m, category) => category === 'auth' || /status=401|authentication failed|invalid api key|unauthorized/i.test(m),
    explain: () => ({
      cause: 'auth',
      meaning: 'the NAS refused the API key',
      fix: 'check the key (revoked, expired or mistyped) and create a new one for a Full Admin user if needed; on TrueNAS 25.10 a "Readonly Admin" key is refused too (Pulse issue #1589)',
    }),
  },
  {
    test: (m) => /x509|certificate|tls:|handshake failure|first record does not look like a TLS handshake/i.test(m),
    explain: () => ({
      cause: 'tls',
      meaning: 'the TLS handshake with the NAS failed',
      fix: 'Pulse dials HTTPS whenever the port field is 0: give the port for a plain-HTTP NAS, or set fingerprint/insecureSkipVerify for a self-signed certificate',
    }),
  },
  {
    test: (m, category) => category === 'timeout' || /timeout|deadline exceeded|timed out/i.test(m),
    explain: () => ({
      cause: 'timeout',
      meaning: 'the NAS did not answer in time',
      fix: 'check the NAS load and the network path from the Pulse host; Pulse waits about 10 s for a connection test',
    }),
  },
  {
    test: (m, category) =>
      category === 'connection' || /connection refused|no such host|network is unreachable|connection reset|EOF/i.test(m),
    explain: () => ({
      cause: 'connection',
      meaning: 'Pulse could not open a connection to the NAS',
      fix: 'check host and port, DNS and firewalls from the Pulse host (not from this worker)',
    }),
  },
  {
    test: (m, category) => category === 'api' || /status=5\d\d/.test(m),
    explain: (m) => ({
      cause: 'nas-api',
      meaning: `the NAS answered with an error${statusIn(m) ? ` (${statusIn(m)})` : ''}`,
      fix: "check the NAS's own health and middleware logs; Pulse retries on every poll",
    }),
  },
];

function statusIn(message: string): string | undefined {
  return /status=(\d{3})/.exec(message)?.[0];
}

export function explainTrueNASFailure(message: string, category = ''): TrueNASFailureExplanation {
  for (const rule of RULES) if (rule.test(message, category)) return rule.explain(message);
  return {
    cause: 'unknown',
    meaning: 'Pulse could not use the NAS',
    fix: "read Pulse's message above and its log lines (component truenas_poller / [TrueNASPoller])",
  };
}
