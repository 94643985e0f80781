import { goDecode, goMarshal, goTime } from '../../src/emulator/go-json.js';
import { decodeInstance, instanceToWire, redactInstance, validateInstance, zeroInstance } from '../../src/emulator/instance.js';
import { goFloat, MetricsRegistry } from '../../src/emulator/metrics.js';
import { normalizeRoute, PulseMetrics } from '../../src/emulator/pulse-metrics.js';
import { PROFILES } from '../../src/emulator/profiles.js';
import { resolveEndpoint } from '../../src/emulator/truenas-client.js';

describe('emulator codec: Go encoding/json behaviour', () => {
  it('matches keys like Go: exact or case-insensitive, api_key ignored, unknown keys ignored', () => {
    const r = decodeInstance({ HOST: 'nas', APIKEY: 'k1', api_key: 'ignored', Enabled: true, extra: 1 });
    expect(r).toEqual({ ok: true, instance: { ...zeroInstance(), host: 'nas', apiKey: 'k1', enabled: true } });
    const runbookPayload = decodeInstance({ name: 'nas-1', host: 'https://truenas.local', api_key: 'x' });
    expect(runbookPayload.ok && validateInstance(runbookPayload.instance)).toBe(
      'truenas credentials are required: provide api key or username/password',
    );
  });

  it('reports type mismatches with Go messages', () => {
    expect(decodeInstance({ port: '443' })).toEqual({
      ok: false,
      error: 'json: cannot unmarshal string into Go struct field TrueNASInstance.port of type int',
    });
    expect(decodeInstance({ port: 1.5 })).toEqual({
      ok: false,
      error: 'json: cannot unmarshal number 1.5 into Go struct field TrueNASInstance.port of type int',
    });
    expect(decodeInstance({ enabled: 'yes' })).toEqual({
      ok: false,
      error: 'json: cannot unmarshal string into Go struct field TrueNASInstance.enabled of type bool',
    });
    expect(decodeInstance([1])).toEqual({ ok: false, error: 'json: cannot unmarshal array into Go value of type config.TrueNASInstance' });
    expect(decodeInstance(null)).toEqual({ ok: true, instance: zeroInstance() });
  });

  it('decodes one JSON value like json.Decoder', () => {
    expect(goDecode('')).toEqual({ ok: false, error: 'EOF' });
    expect(goDecode('{"a":')).toEqual({ ok: false, error: 'unexpected EOF' });
    expect(goDecode('{"a":1} trailing')).toEqual({ ok: true, value: { a: 1 } });
    expect(goDecode('nope')).toEqual({ ok: false, error: "invalid character 'o' looking for beginning of value" });
  });

  it('encodes like Go: HTML escaping, omitempty in struct order, RFC 3339 times', () => {
    expect(goMarshal({ n: 'a<b>&c' })).toBe('{"n":"a\\u003cb\\u003e\\u0026c"}');
    const wire = instanceToWire(redactInstance({ ...zeroInstance(), id: 'x', host: 'h', apiKey: 'secret', password: '' }));
    expect(JSON.stringify(wire)).toBe('{"id":"x","name":"","host":"h","apiKey":"********","useHttps":false,"enabled":false}');
    expect(goTime(Date.UTC(2026, 1, 9, 10, 0, 0))).toBe('2026-02-09T10:00:00Z');
    expect(goTime(Date.UTC(2026, 1, 9, 10, 0, 0, 500))).toBe('2026-02-09T10:00:00.5Z');
  });

  it('reads the feature flag with each profile rule', () => {
    expect(['1', 'true', ' YES ', 'on'].map((v) => PROFILES.feb.parseFlag(v))).toEqual([true, true, true, true]);
    expect([undefined, '', 'false', 'ture'].map((v) => PROFILES.feb.parseFlag(v))).toEqual([false, false, false, false]);
    expect([undefined, '', ' ', 'on'].map((v) => PROFILES.v6.parseFlag(v))).toEqual([true, true, true, true]);
    expect(['false', '0', 'off', 'ture'].map((v) => PROFILES.v6.parseFlag(v))).toEqual([false, false, false, false]);
  });
});

describe('emulator codec: TrueNAS endpoint resolution (resolveEndpoint)', () => {
  it('keeps Pulse quirk: without a port field even http:// is dialled over HTTPS', () => {
    expect(resolveEndpoint('http://127.0.0.1:8080', false, 0).baseUrl).toBe('https://127.0.0.1:8080/api/v2.0');
    expect(resolveEndpoint('http://127.0.0.1', false, 8080).baseUrl).toBe('http://127.0.0.1:8080/api/v2.0');
    expect(resolveEndpoint('127.0.0.1', false, 8080).baseUrl).toBe('http://127.0.0.1:8080/api/v2.0');
    expect(resolveEndpoint('nas.local', false, 0).baseUrl).toBe('https://nas.local:443/api/v2.0');
    expect(resolveEndpoint('https://nas', false, 0).baseUrl).toBe('https://nas:443/api/v2.0');
  });

  it('rejects paths, queries, credentials and odd schemes with Pulse messages', () => {
    expect(() => resolveEndpoint('https://nas/api', false, 0)).toThrow('parse truenas host "https://nas/api": path is not supported');
    expect(() => resolveEndpoint('https://nas?x=1', false, 0)).toThrow('query is not supported');
    expect(() => resolveEndpoint('https://u:p@nas', false, 0)).toThrow('credentials are not supported');
    expect(() => resolveEndpoint('ftp://nas', false, 0)).toThrow('unsupported truenas scheme "ftp"');
  });
});

describe('emulator codec: Prometheus exposition', () => {
  it('formats numbers like Go strconv g/-1', () => {
    expect([0, 1, -1, 0.1, 2.5, 123456, 1234567, 1.76e9, 0.00001].map(goFloat)).toEqual([
      '0',
      '1',
      '-1',
      '0.1',
      '2.5',
      '123456',
      '1.234567e+06',
      '1.76e+09',
      '1e-05',
    ]);
  });

  it('creates series lazily: no family before the first poll, a counter born at 1', () => {
    const m = new PulseMetrics();
    expect(m.expose()).not.toContain('pulse_monitor_poll_total');
    expect(m.expose()).toContain('pulse_monitor_poll_queue_depth 0');
    const start = new Date();
    m.recordPoll({ instanceType: 'truenas', instance: 'c1', success: false, errorType: 'auth', start, end: start });
    const text = m.expose();
    expect(text).toContain('# TYPE pulse_monitor_poll_total counter');
    expect(text).toContain('pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="error"} 1');
    expect(text).toContain('pulse_monitor_poll_errors_total{error_type="auth",instance="c1",instance_type="truenas"} 1');
    expect(text).toContain('pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} -1');
    expect(text).not.toContain('pulse_monitor_poll_last_success_timestamp');
    expect(text).toContain('pulse_monitor_poll_duration_seconds_bucket{instance="c1",instance_type="truenas",le="30"} 1');
  });

  it("follows Pulse's RecordResult over a connection's life: no success series or last success until one, -1 until then, gauges frozen between polls", () => {
    const m = new PulseMetrics();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;
    const poll = (instance: string, at: number, ok: boolean, errorType?: 'auth' | 'api') =>
      m.recordPoll({
        instanceType: 'truenas',
        instance,
        success: ok,
        errorType,
        start: new Date((at - 0.05) * 1000),
        end: new Date(at * 1000),
      });
    const lines = (id: string) =>
      m.registry
        .expose()
        .split('\n')
        .filter((l) => l.startsWith('pulse_monitor_poll_') && l.includes(`instance="${id}"`) && !l.includes('_duration_'));

    poll('c1', t0, false, 'auth');
    poll('c1', t0 + 60, false, 'auth');
    expect(lines('c1')).toEqual([
      'pulse_monitor_poll_errors_total{error_type="auth",instance="c1",instance_type="truenas"} 2',
      'pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} -1',
      'pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="error"} 2',
    ]);
    // Another connection's polls, and time passing, change nothing of c1: its gauges move only when it is polled.
    const frozen = lines('c1');
    poll('c2', t0 + 90, true);
    expect(lines('c1')).toEqual(frozen);

    poll('c1', t0 + 120.7, true);
    expect(lines('c1')).toEqual([
      'pulse_monitor_poll_errors_total{error_type="auth",instance="c1",instance_type="truenas"} 2',
      `pulse_monitor_poll_last_success_timestamp{instance="c1",instance_type="truenas"} ${goFloat(Math.floor(t0 + 120.7))}`,
      'pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} 0',
      'pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="error"} 2',
      'pulse_monitor_poll_total{instance="c1",instance_type="truenas",result="success"} 1',
    ]);
    // A failure after a success: seconds since that success's end, not -1; the last success stays as it was.
    poll('c1', t0 + 181.2, false, 'api');
    const after = lines('c1');
    expect(after).toContain('pulse_monitor_poll_staleness_seconds{instance="c1",instance_type="truenas"} 60.5');
    expect(after).toContain('pulse_monitor_poll_errors_total{error_type="api",instance="c1",instance_type="truenas"} 1');
    expect(after).toContain(
      `pulse_monitor_poll_last_success_timestamp{instance="c1",instance_type="truenas"} ${goFloat(Math.floor(t0 + 120.7))}`,
    );
  });

  it('sorts families and label names bytewise and renders histogram buckets cumulatively', () => {
    const r = new MetricsRegistry();
    r.define('b_hist', 'histogram', 'h', [1, 2]);
    r.define('a_count', 'counter', 'c');
    r.inc('a_count', { z: '1', a: '2' });
    r.observe('b_hist', {}, 1.5);
    expect(r.expose()).toBe(
      '# HELP a_count c\n# TYPE a_count counter\na_count{a="2",z="1"} 1\n' +
        '# HELP b_hist h\n# TYPE b_hist histogram\nb_hist_bucket{le="1"} 0\nb_hist_bucket{le="2"} 1\nb_hist_bucket{le="+Inf"} 1\nb_hist_sum 1.5\nb_hist_count 1\n',
    );
  });

  it('normalises HTTP routes like Pulse', () => {
    expect(normalizeRoute('/api/truenas/connections/4f0c1a2b-1111-2222-3333-444455556666')).toBe('/api/truenas/connections/:uuid');
    expect(normalizeRoute('/api/v2/resources/123?x=1')).toBe('/api/v2/resources/:id');
    expect(normalizeRoute('/')).toBe('/');
  });
});
