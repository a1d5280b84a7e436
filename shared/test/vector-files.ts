/**
 * Finds and loads the shared vectors (test helper). A vector id is `<contract>/<valid|invalid>/<name>`,
 * the same key python_vectors.py prints.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldError } from '../src/validate.ts';

export interface Vector {
  id: string;
  contract: string;
  valid: boolean;
  file: string;
  document: unknown;
  /** Sorted expected errors; [] for a valid vector. */
  expected: FieldError[];
}

export function loadVectors(root: string): Vector[] {
  const vectors: Vector[] = [];
  for (const contract of readdirSync(root).sort()) {
    for (const kind of ['valid', 'invalid']) {
      const dir = join(root, contract, kind);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).sort()) {
        if (!name.endsWith('.json') || name.endsWith('.expected.json')) continue;
        const file = join(dir, name);
        const base = name.slice(0, -'.json'.length);
        const expectedFile = join(dir, `${base}.expected.json`);
        vectors.push({
          id: `${contract}/${kind}/${base}`,
          contract,
          valid: kind === 'valid',
          file,
          document: readJson(file),
          expected: kind === 'valid' ? [] : (readJson(expectedFile) as FieldError[]),
        });
      }
    }
  }
  return vectors;
}

/** Invalid vectors without an expected file, and expected files without a vector. */
export function unpairedFiles(root: string): string[] {
  const problems: string[] = [];
  for (const contract of readdirSync(root)) {
    for (const kind of ['valid', 'invalid']) {
      const dir = join(root, contract, kind);
      if (!existsSync(dir)) continue;
      const names = new Set(readdirSync(dir));
      for (const name of names) {
        if (name.endsWith('.expected.json')) {
          const vector = name.replace(/\.expected\.json$/, '.json');
          if (kind === 'valid' || !names.has(vector)) problems.push(join(dir, name));
        } else if (kind === 'invalid' && !names.has(name.replace(/\.json$/, '.expected.json'))) {
          problems.push(join(dir, name));
        }
      }
    }
  }
  return problems.sort();
}

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/** Errors in a canonical order (path, then message), as the expected files store them. */
export const sortErrors = (errors: FieldError[]): FieldError[] =>
  [...errors].sort((a, b) => compare(a.path, b.path) || compare(a.message, b.message));

// Code-unit order, like Python's sort of str for the BMP; vectors need only a stable order.
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
