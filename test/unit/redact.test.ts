import { redact, scrub, MASK } from '../../src/runbook/redact.js';

describe('redact', () => {
  it('masks secret-looking fields at any depth and keeps the rest', () => {
    const out = redact({ name: 'nas-1', apiKey: 'abc123', nested: [{ api_key: 'k', password: 'p', host: 'h' }] });
    expect(out).toEqual({ name: 'nas-1', apiKey: MASK, nested: [{ api_key: MASK, password: MASK, host: 'h' }] });
  });
  it('scrubs secret strings out of free text', () => {
    expect(scrub('401 for token s3cr3t-token', ['s3cr3t-token'])).toBe(`401 for token ${MASK}`);
  });
});
