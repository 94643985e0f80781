/** The Code Rollback input schema: defaults from the runbook, and messages that name the field and the fix. */
import { RollbackInputSchema, RUNBOOK_ROLLBACK_RANGE, DEFAULT_BUILD_COMMAND } from '../../src/config/rollback.js';

function messages(value: unknown): string[] {
  const r = RollbackInputSchema.safeParse(value);
  if (r.success) throw new Error('expected the schema to refuse the value');
  return r.error.issues.map((i) => i.message);
}

describe('RollbackInputSchema', () => {
  it("defaults to the runbook's range and build check", () => {
    const input = RollbackInputSchema.parse({ repoPath: '/srv/pulse' });
    expect(input).toEqual({
      plan: false,
      repoPath: '/srv/pulse',
      from: RUNBOOK_ROLLBACK_RANGE.from,
      to: RUNBOOK_ROLLBACK_RANGE.to,
      buildCommand: [...DEFAULT_BUILD_COMMAND],
      buildEnv: {},
      buildTimeoutMs: 15 * 60_000,
    });
    expect(input.from).toBe('f9680ef8');
    expect(input.to).toBe('687ecd79');
    expect(input.buildCommand).toEqual(['go', 'build', './...']);
  });

  it('accepts full and abbreviated ids, trimmed and lower-cased, and normalises the path', () => {
    const full = 'F9680EF88F62294C7F1C68C49A49FEEE0D138917';
    const input = RollbackInputSchema.parse({ repoPath: '/srv//pulse/', from: ` ${full} `, to: 'abcd' });
    expect(input.from).toBe(full.toLowerCase());
    expect(input.to).toBe('abcd');
    expect(input.repoPath).toBe('/srv/pulse');
  });

  it('refuses a non-hex or too short commit id, naming the field', () => {
    expect(messages({ repoPath: '/srv/pulse', from: 'xyz123' })).toEqual([
      'from must be a hex commit id such as f9680ef8 (4 to 40 hex digits)',
    ]);
    expect(messages({ repoPath: '/srv/pulse', to: 'abc' })[0]).toMatch(/^to must be a hex commit id/);
    expect(messages({ repoPath: '/srv/pulse', to: 'a'.repeat(41) })[0]).toMatch(/^to must be a hex commit id/);
    expect(messages({ repoPath: '/srv/pulse', from: 'HEAD~1' })[0]).toMatch(/^from must be a hex commit id/);
  });

  it('requires an absolute repoPath without . or .. segments', () => {
    expect(messages({})[0]).toMatch(/^repoPath must be an absolute path/);
    expect(messages({ repoPath: 'pulse' })[0]).toMatch(/^repoPath must be an absolute path such as \/srv\/pulse/);
    expect(messages({ repoPath: '/srv/pulse/../etc' })[0]).toMatch(/^repoPath must not contain \. or \.\. segments/);
  });

  it('checks the build command, environment and timeout', () => {
    expect(messages({ repoPath: '/r', buildCommand: [] })[0]).toMatch(/^buildCommand must name a program/);
    expect(messages({ repoPath: '/r', buildCommand: 'go build ./...' })[0]).toMatch(/^buildCommand must be an argv array/);
    expect(messages({ repoPath: '/r', buildEnv: { 'not a name': 'x' } })[0]).toMatch(/^buildEnv keys must be environment variable names/);
    expect(messages({ repoPath: '/r', buildTimeoutMs: 0 })[0]).toMatch(/^buildTimeoutMs must be positive/);
    expect(messages({ repoPath: '/r', extra: 1 }).join()).toMatch(/extra/);
  });
});
