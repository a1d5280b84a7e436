/**
 * The shared vectors against both validators: the TS validator must report exactly the expected
 * errors, the generated Python module must agree with it on every vector (paths and messages), and for
 * structural vectors TypeBox's own Value.Check must agree on accept/reject.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_NAMES, CONTRACTS, type ContractName } from '../src/contracts/index.ts';
import { type FieldError, validate, validateSchema } from '../src/validate.ts';
import { loadVectors, sortErrors, unpairedFiles, type Vector } from './vector-files.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const VECTORS = join(REPO, 'shared/vectors');

// The 1 MB vectors are generated, not committed (see shared/vectors/generate_large.py).
const largeDir = mkdtempSync(join(tmpdir(), 'workshop-iot-vectors-'));
afterAll(() => rmSync(largeDir, { recursive: true, force: true }));
execFileSync('python3', [join(REPO, 'shared/vectors/generate_large.py'), largeDir], { cwd: REPO });

const committed = loadVectors(VECTORS);
const large = loadVectors(largeDir);
const vectors = [...committed, ...large];

// One Python process for all vectors: its output is {vector id: sorted errors}.
const python = JSON.parse(
  execFileSync('python3', [join(REPO, 'shared/test/python_vectors.py'), VECTORS, largeDir], {
    cwd: REPO,
    maxBuffer: 256 * 1024 * 1024,
  }).toString('utf8'),
) as Record<string, FieldError[]>;

const tsErrors = (v: Vector) => sortErrors(validate(v.contract as ContractName, v.document));

/**
 * Vectors on which TypeBox's Value.Check is expected to disagree, with the reason. TypeBox measures
 * maxLength in UTF-16 units; JSON Schema (and both our validators) count code points. It also accepts
 * unpaired surrogates, which both our validators reject (they cannot be encoded as UTF-8).
 */
const TYPEBOX_DIVERGES = new Map([
  ['worker_config/valid/name-128-astral-chars', '128 code points are 256 UTF-16 units'],
  [
    'worker_config/invalid/name-lone-surrogates',
    'TypeBox accepts unpaired surrogates; we reject them (not UTF-8 encodable)',
  ],
  [
    'device_topic/invalid/lone-surrogate',
    'TypeBox accepts unpaired surrogates; we reject them (not UTF-8 encodable)',
  ],
]);

describe('shared vectors', () => {
  it('gives every contract valid and invalid vectors', () => {
    for (const name of CONTRACT_NAMES) {
      expect(committed.filter((v) => v.contract === name && v.valid).length, name).toBeGreaterThan(
        0,
      );
      expect(committed.filter((v) => v.contract === name && !v.valid).length, name).toBeGreaterThan(
        0,
      );
    }
    expect(new Set(vectors.map((v) => v.contract))).toEqual(new Set(CONTRACT_NAMES));
  });

  it('pairs every invalid vector with an expected file and nothing else', () => {
    expect(unpairedFiles(VECTORS)).toEqual([]);
    expect(unpairedFiles(largeDir)).toEqual([]);
  });

  it('generates the 1 MB vectors', () => {
    expect(large.length).toBeGreaterThanOrEqual(5);
    const longest = Math.max(...large.map((v) => JSON.stringify(v.document).length));
    expect(longest).toBeGreaterThan(1024 * 1024);
  });

  it('runs Python over exactly the same vectors', () => {
    expect(Object.keys(python).sort()).toEqual(vectors.map((v) => v.id).sort());
  });

  it.each(vectors)('TS reports the expected errors for $id', (v) => {
    const errors = tsErrors(v);
    expect(errors.map((e) => e.path)).toEqual(sortErrors(v.expected).map((e) => e.path));
    expect(errors).toEqual(sortErrors(v.expected));
    expect(errors.length === 0).toBe(v.valid);
  });

  it.each(vectors)('Python agrees with TS on $id', (v) => {
    expect(
      sortErrors(python[v.id] ?? [{ path: '?', message: 'missing from Python output' }]),
    ).toEqual(tsErrors(v));
  });

  it.each(vectors)('TypeBox Value.Check agrees on the structure of $id', (v) => {
    const contract = CONTRACTS[v.contract as ContractName];
    const structural: FieldError[] = [];
    validateSchema(contract.schema, v.document, '', structural);
    // Rule-only vectors are structurally valid: TypeBox (no rules) must accept them.
    const expected = TYPEBOX_DIVERGES.has(v.id) ? structural.length > 0 : structural.length === 0;
    expect(Value.Check(contract.schema, v.document)).toBe(expected);
  });

  it('lists only TypeBox divergences that exist', () => {
    for (const id of TYPEBOX_DIVERGES.keys()) expect(vectors.map((v) => v.id)).toContain(id);
  });
});
