import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, WorkerError } from '../../src/errors.ts';

const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Error codes'));

describe('error catalogue', () => {
  it('has 32 entries, each code equal to its name', () => {
    expect(Object.keys(ERRORS)).toHaveLength(32);
    for (const [name, entry] of Object.entries(ERRORS)) expect(entry.code).toBe(name);
  });

  it('documents every code in the README section "Error codes" with its JSON-RPC code', () => {
    expect(section.length).toBeGreaterThan(100);
    for (const entry of Object.values(ERRORS)) {
      // Table cells, trimmed: the Markdown formatter pads the columns.
      const cells = section
        .split('\n')
        .map((l) => l.split('|').map((c) => c.trim()))
        .find((c) => c[1] === `\`${entry.code}\``);
      expect(cells, entry.code).toBeDefined();
      expect(cells?.slice(2, 4)).toEqual([String(entry.rpcCode), String(entry.httpStatus)]);
    }
  });

  it('fills message templates and keeps the stable code in the wire error', () => {
    const err = new WorkerError('CONFIG_VERSION_OLDER', { version: 3, applied: 5 });
    expect(err.toRpcError()).toEqual({
      code: -32010,
      message: 'Config version 3 is older than the applied version 5',
      data: { code: 'CONFIG_VERSION_OLDER' },
    });
    expect(JSON.stringify(err.toRpcError())).not.toContain('stack');
  });
});
