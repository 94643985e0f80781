import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfigFile, resolvePulseTarget, resolveTemporalSettings } from '../../src/config/load.js';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';

describe('settings from flags, environment and config file', () => {
  it('flags win over the environment, which wins over the file', () => {
    const file = { pulse: { url: 'http://file:7655', timeoutMs: 10_000 }, temporal: { address: 'file:7233', taskQueue: 'from-file' } };
    const env = { PULSE_URL: 'http://env:7655', TEMPORAL_ADDRESS: 'env:7233' };
    expect(resolvePulseTarget({ pulseUrl: 'http://flag:7655/' }, env, file)?.url).toBe('http://flag:7655');
    expect(resolvePulseTarget({}, env, file)?.url).toBe('http://env:7655');
    expect(resolvePulseTarget({}, {}, file)?.url).toBe('http://file:7655');
    const t = resolveTemporalSettings({}, env, file);
    expect(t).toEqual({ address: 'env:7233', namespace: 'default', taskQueue: 'from-file' });
  });

  it('takes the token only by reference, defaulting to PULSE_TOKEN when it is set', () => {
    expect(resolvePulseTarget({ pulseUrl: 'http://p:7655' }, { PULSE_TOKEN: 'secret' })?.token).toEqual({ env: 'PULSE_TOKEN' });
    expect(resolvePulseTarget({ pulseUrl: 'http://p:7655', tokenFile: '/run/secrets/pulse' }, {})?.token).toEqual({
      file: '/run/secrets/pulse',
    });
    expect(resolvePulseTarget({ pulseUrl: 'http://p:7655' }, {})?.token).toBeUndefined();
    const target = resolvePulseTarget({ pulseUrl: 'http://p:7655' }, { PULSE_TOKEN: 'secret' });
    expect(JSON.stringify(target)).not.toContain('secret');
  });

  it('names the flag and the fix for a bad value', () => {
    expect(() => resolvePulseTarget({ pulseUrl: 'pulse:7655' }, {})).toThrow(
      /--pulse-url \/ PULSE_URL: must start with http:\/\/ or https:\/\/, e.g. http:\/\/pulse\.example:7655/,
    );
    expect(() => resolvePulseTarget({ pulseUrl: 'not a url' }, {})).toThrow(/--pulse-url \/ PULSE_URL: must be a URL such as/);
    expect(() => resolvePulseTarget({ pulseUrl: 'http://p', tokenEnv: 'not a name' }, {})).toThrow(
      /--token-env \/ PULSE_TOKEN_ENV: must be an environment variable name/,
    );
    expect(() => resolvePulseTarget({ pulseUrl: 'http://p', tokenEnv: 'A', tokenFile: '/f' }, {})).toThrow(ConfigError);
    expect(() => resolveTemporalSettings({ temporalAddress: 'http://x:7233' }, {})).toThrow(
      /--temporal-address \/ TEMPORAL_ADDRESS: must be host:port/,
    );
  });

  it('reads a JSON config file and names the file and field on error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ pulse: { url: 'http://nas:7655', token: { file: '/t' } } }));
    expect(loadConfigFile(good, {})?.pulse?.token).toEqual({ file: '/t' });
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ pulse: { url: 'http://nas:7655', apiToken: 'x' } }));
    expect(() => loadConfigFile(bad, {})).toThrow(new RegExp(`config file ${bad}:.*pulse`));
    writeFileSync(bad, '{not json');
    expect(() => loadConfigFile(undefined, { PULSE_RUNBOOKS_CONFIG: bad })).toThrow(/is not valid JSON/);
    expect(() => loadConfigFile(path.join(dir, 'missing.json'), {})).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('kill-switch input keeps the runbook defaults and refuses nonsense', () => {
    const input = KillSwitchInputSchema.parse({ pulse: { url: 'http://p:7655' } });
    expect(input).toMatchObject({ plan: false, tickSeconds: 60, staleThresholdSeconds: 120, verifyEverySeconds: 10 });
    expect(KillSwitchInputSchema.safeParse({ pulse: { url: 'http://p:7655' }, tickSeconds: -1 }).success).toBe(false);
    expect(KillSwitchInputSchema.safeParse({ pulse: { url: 'http://p:7655', token: 'literal-token' } }).success).toBe(false);
  });
});
