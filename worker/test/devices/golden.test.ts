/**
 * Golden traces: every worker/test/golden/*.json is a scenario (session config, timed inputs) with
 * the exact event list the worker must produce on a simulated clock. Each expected event lists the
 * fields that matter for it; `type` and `t` (occurred_at offset, ms) are always compared, and the
 * count and order of events must match exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validate } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';
import { flatten, project, runScenario, type Scenario } from './harness.ts';

const GOLDEN_DIR = path.join(import.meta.dirname, '..', 'golden');

interface Golden extends Scenario {
  expected: Record<string, unknown>[];
  expected_polls?: number[];
}

const files = fs
  .readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('golden traces', () => {
  it('has golden files', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as Golden;
    it(`${file.replace(/\.json$/, '')}: ${golden.description ?? ''}`, () => {
      const run = runScenario(golden);
      const flat = flatten(run.events);
      expect(project(flat, golden.expected)).toEqual(golden.expected);
      if (golden.expected_polls) expect(run.polls).toEqual(golden.expected_polls);
      run.events.forEach((event, i) => {
        expect(validate('event', event)).toEqual([]);
        expect(event.seq).toBe(i + 1);
      });
    });
  }
});
