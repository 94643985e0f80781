/**
 * explainTrueNASFailure reads Pulse's own words. The messages below are what real Pulse builds produced
 * (v6.0.0 and 6.3.0 at c313a80d, against a fake NAS on loopback); the rule order must never turn a transport
 * failure into "the key was refused".
 */
import { explainTrueNASFailure } from '../../src/pulse/truenas-failure.js';

describe('explainTrueNASFailure', () => {
  it('v6.0.0, a NAS refusing the key (REST): auth', () => {
    const poll =
      'refresh truenas snapshot: fetch truenas system info: truenas request GET /system/info failed: status=401 body="{\\"message\\":\\"Unauthorized\\"}"';
    expect(explainTrueNASFailure(poll, 'auth')).toMatchObject({ cause: 'auth', meaning: 'the NAS refused the API key' });
    const test =
      'truenas connection test failed: truenas request GET /system/info failed: status=401 body="{\\"message\\":\\"Unauthorized\\"}"';
    expect(explainTrueNASFailure(test).cause).toBe('auth');
  });

  it('main, a REST-only NAS: the websocket handshake failed with 401 — a transport mismatch, not the key', () => {
    const m = 'dial truenas rpc websocket failed: status=401: websocket: bad handshake';
    const why = explainTrueNASFailure(m, 'auth');
    expect(why.cause).toBe('transport');
    expect(why.meaning).toContain('not a refused API key');
    expect(why.meaning).toContain('status=401');
    expect(why.fix).not.toMatch(/check the key/i);
  });

  it('a Readonly Admin key (403): permission, with the role fix', () => {
    const why = explainTrueNASFailure('truenas request GET /system/info failed: status=403 body="{}"', 'auth');
    expect(why.cause).toBe('permission');
    expect(why.fix).toContain('Full Admin');
  });

  it('TLS, timeouts, refused connections and NAS errors each get their own reading', () => {
    expect(
      explainTrueNASFailure('Get "https://127.0.0.1:1/api/v2.0/system/info": http: server gave HTTP response to HTTPS client').cause,
    ).not.toBe('auth');
    expect(explainTrueNASFailure('tls: failed to verify certificate: x509: certificate signed by unknown authority').cause).toBe('tls');
    expect(explainTrueNASFailure('truenas JSON-RPC credentials require TLS; configure an https endpoint').cause).toBe('tls');
    expect(explainTrueNASFailure('context deadline exceeded (Client.Timeout exceeded while awaiting headers)').cause).toBe('timeout');
    expect(explainTrueNASFailure('dial tcp 127.0.0.1:9: connect: connection refused', 'connection').cause).toBe('connection');
    expect(explainTrueNASFailure('truenas request GET /pool failed: status=500 body="boom"', 'api')).toMatchObject({
      cause: 'nas-api',
      meaning: expect.stringContaining('status=500'),
    });
    expect(explainTrueNASFailure('something new').cause).toBe('unknown');
  });
});
