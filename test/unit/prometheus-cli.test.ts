/**
 * The `alerts` command's flag handling and status rendering, without Temporal: flags become the monitor's
 * input (secrets only as env var names), bad values name the flag, and the status reads like the runbook.
 */
import { alertInputFromFlags, renderStatus } from '../../src/cli/alerts.js';
import { ConfigError } from '../../src/config/load.js';
import type { AlertMonitorStatus } from '../../workflows/alert-monitor.js';

describe('alertInputFromFlags', () => {
  it('maps flags and env to the input, with webhook secrets as references', () => {
    const input = alertInputFromFlags(
      {
        prometheusTokenEnv: 'PROM_TOKEN',
        checks: 'auth-errors, timeouts',
        window: ['auth-errors=600', 'timeouts=1200'],
        intervalSeconds: 30,
        repeatSeconds: 0,
        notifyResolved: false,
        webhook: ['https://hooks.example/a'],
        webhookBearerEnv: 'HOOK_TOKEN',
        slackWebhookEnv: ['SLACK_URL'],
        pagerdutyRoutingKeyEnv: 'PD_KEY',
      },
      { PROMETHEUS_URL: 'http://prom:9090' },
    );
    expect(input).toMatchObject({
      prometheus: { url: 'http://prom:9090', token: { env: 'PROM_TOKEN' } },
      checks: ['auth-errors', 'timeouts'],
      windows: { 'auth-errors': 600, timeouts: 1200 },
      intervalSeconds: 30,
      repeatIntervalSeconds: 0,
      notifyResolved: false,
      plan: false,
    });
    expect(input.webhooks).toEqual([
      expect.objectContaining({ name: 'webhook-1', format: 'json', url: 'https://hooks.example/a', bearer: { env: 'HOOK_TOKEN' } }),
      expect.objectContaining({ name: 'slack-1', format: 'slack', urlFrom: { env: 'SLACK_URL' } }),
      expect.objectContaining({
        name: 'pagerduty',
        format: 'pagerduty',
        url: 'https://events.pagerduty.com/v2/enqueue',
        routingKey: { env: 'PD_KEY' },
      }),
    ]);
  });

  it('names the flag that is wrong', () => {
    expect(() => alertInputFromFlags({}, {})).toThrow(
      new ConfigError(
        '--prometheus-url / PROMETHEUS_URL: required; give the Prometheus base URL, e.g. --prometheus-url http://prometheus:9090',
      ),
    );
    expect(() => alertInputFromFlags({ prometheusUrl: 'http://p:9090', window: ['auth-errors:5'] })).toThrow(
      /--window auth-errors:5: must be <check>=<seconds>/,
    );
    expect(() => alertInputFromFlags({ prometheusUrl: 'http://p:9090', checks: 'auth-errors,bogus' })).toThrow(
      /alerts start --checks \(at 1\): Invalid option/,
    );
    expect(() => alertInputFromFlags({ prometheusUrl: 'p:9090' })).toThrow(/alerts start --prometheus-url \/ PROMETHEUS_URL: must/);
    expect(() => alertInputFromFlags({ prometheusUrl: 'http://p:9090', intervalSeconds: 0 })).toThrow(/alerts start --interval-seconds: /);
  });
});

describe('renderStatus', () => {
  it('shows the last evaluation, the open alerts with the runbook action, resolutions and deliveries', () => {
    const status: AlertMonitorStatus = {
      monitor: 'truenas-prod',
      phase: 'running',
      monitorStartedAt: '2026-03-01T10:00:00.000Z',
      runStartedAt: '2026-03-01T12:00:00.000Z',
      cycles: 130,
      runCycles: 10,
      intervalSeconds: 60,
      nextEvaluationAt: '2026-03-01T12:11:00.000Z',
      prometheusUrl: 'http://prom:9090',
      checks: ['auth-errors'],
      open: [
        {
          key: 'k',
          check: 'auth-errors',
          severity: 'critical',
          labels: { instance: 'conn-1', instance_type: 'truenas', error_type: 'auth', job: 'pulse' },
          metric: 'm',
          condition: 'Any increment',
          action: 'API key revoked or expired, immediate attention',
          reference: 'Alert Thresholds, row 4',
          query: 'q',
          value: '3',
          comparison: '>',
          threshold: 0,
          since: '2026-03-01T12:05:00.000Z',
          lastSeenAt: '2026-03-01T12:10:00.000Z',
        },
      ],
      resolved: [],
      outbox: [{ id: 'x', webhook: 'pager', status: 'firing', tries: 1, lastError: 'WebhookUnavailable: 503' }],
      delivered: 4,
      dropped: 0,
      deliveries: [],
      lastEvaluation: {
        at: '2026-03-01T12:10:00.000Z',
        reachable: true,
        checks: [{ check: 'auth-errors', verdict: 'fail', reason: '1 of 1 series > 0', values: [] }],
      },
    };
    expect(renderStatus(status).split('\n')).toEqual([
      'Alert monitor truenas-prod: running, 130 evaluation(s) since 2026-03-01T10:00:00.000Z, every 60 s; Prometheus http://prom:9090',
      'Next evaluation at 2026-03-01T12:11:00.000Z',
      'Last evaluation 2026-03-01T12:10:00.000Z:',
      '  ✘ auth-errors: 1 of 1 series > 0',
      'Open alerts (1):',
      '  CRITICAL auth-errors {instance=conn-1}: value 3 > 0 since 2026-03-01T12:05:00.000Z. Action: API key revoked or expired, immediate attention',
      'Notifications: 4 delivered, 0 dropped, 1 pending',
      '  pending firing → pager (1 failed cycle(s): WebhookUnavailable: 503)',
    ]);
  });
});
