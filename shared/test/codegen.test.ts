/**
 * Code generation: the committed tree is up to date, a schema changed without regenerating is reported
 * stale by file name, and the emitters refuse what they cannot translate faithfully.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TSchema, Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { BANNER_LINE, sourceDigest } from '../codegen/banner.ts';
import {
  checkFiles,
  describeReport,
  JSON_DIR,
  PY_INIT,
  PY_MODULE,
  REPO_ROOT,
  renderAll,
  runCli,
  writeAll,
} from '../codegen/cli.ts';
import { emitPython, UnsupportedSchemaError } from '../codegen/emit-python.ts';
import { InvalidRuleError } from '../codegen/emit-python-rules.ts';
import { toPythonPattern, UnsupportedPatternError } from '../codegen/python-regex.ts';
import { CONTRACT_NAMES, CONTRACTS, type Contract } from '../src/contracts/index.ts';
import { Health } from '../src/contracts/rpc-worker.ts';
import type { Rule } from '../src/rules.ts';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempTree = () => {
  const dir = mkdtempSync(join(tmpdir(), 'workshop-iot-codegen-'));
  temps.push(dir);
  writeAll(dir, renderAll());
  return dir;
};

const one = (schema: TSchema, rules: Rule[] = []): Record<string, Contract> => ({
  probe: { schema, rules, description: 'probe' },
});

describe('codegen --check', () => {
  it('passes on the committed tree', () => {
    const report = checkFiles(REPO_ROOT, renderAll());
    expect(report).toEqual({ stale: [], missing: [], orphaned: [] });
    expect(runCli(['--check']).code).toBe(0);
  });

  it('reports a schema changed in memory as stale, naming each file', () => {
    const changed = Type.Object(
      { ...Health.properties, software_version: Type.String({ minLength: 1, maxLength: 65 }) },
      { additionalProperties: false },
    );
    const contracts = { ...CONTRACTS, health: { ...CONTRACTS.health, schema: changed } };
    const report = checkFiles(REPO_ROOT, renderAll(contracts));
    expect(report.stale.sort()).toEqual([PY_MODULE, `${JSON_DIR}/health.schema.json`].sort());
    const message = describeReport(report).join('\n');
    expect(message).toContain(`stale:    ${JSON_DIR}/health.schema.json`);
    expect(message).toContain(`stale:    ${PY_MODULE}`);
    expect(message).toContain('npm run codegen');
  });

  it('reports a removed contract as orphaned and a deleted file as missing', () => {
    const { health: _removed, ...rest } = CONTRACTS;
    const report = checkFiles(REPO_ROOT, renderAll(rest));
    expect(report.orphaned).toEqual([`${JSON_DIR}/health.schema.json`]);
    expect(report.stale.sort()).toEqual([PY_INIT, PY_MODULE].sort());

    const tree = tempTree();
    rmSync(join(tree, JSON_DIR, 'event.schema.json'));
    expect(checkFiles(tree, renderAll()).missing).toEqual([`${JSON_DIR}/event.schema.json`]);
  });

  it('exits 1 and lists the stale file when a generated file was edited by hand', () => {
    const tree = tempTree();
    expect(runCli(['--check'], tree)).toEqual({ code: 0, output: expect.any(String) });
    writeFileSync(join(tree, PY_MODULE), `${readFileSync(join(tree, PY_MODULE), 'utf8')}# edit\n`);
    const result = runCli(['--check'], tree);
    expect(result.code).toBe(1);
    expect(result.output).toContain(PY_MODULE);
    expect(result.output).toContain('Run `npm run codegen`');
    expect(runCli([], tree).output).toContain(PY_MODULE);
    expect(runCli(['--check'], tree).code).toBe(0);
  });
});

describe('generated files', () => {
  const files = renderAll();
  const digest = sourceDigest(REPO_ROOT);

  it('renders one JSON Schema per contract plus the Python module and its package init', () => {
    expect(files.size).toBe(CONTRACT_NAMES.length + 2);
    for (const name of CONTRACT_NAMES)
      expect(files.has(`${JSON_DIR}/${name}.schema.json`)).toBe(true);
  });

  it('starts Python files with the DO NOT EDIT banner and the source digest', () => {
    for (const path of [PY_MODULE, PY_INIT]) {
      const [first, second] = (files.get(path) ?? '').split('\n');
      expect(first).toBe(BANNER_LINE);
      expect(second).toBe(`# source digest: sha256:${digest}`);
      expect(second).toMatch(/^# source digest: sha256:[0-9a-f]{64}$/);
    }
  });

  it('gives JSON Schema files the banner in $comment, a title and a trailing newline', () => {
    for (const name of CONTRACT_NAMES) {
      const text = files.get(`${JSON_DIR}/${name}.schema.json`) ?? '';
      expect(text.endsWith('}\n')).toBe(true);
      const schema = JSON.parse(text);
      expect(Object.keys(schema).slice(0, 3)).toEqual(['$schema', '$comment', 'title']);
      expect(schema.$comment).toBe(`${BANNER_LINE.slice(2)} source digest: sha256:${digest}`);
      expect(schema.title).toBe(name);
    }
  });

  it('renders identical bytes twice (stable order)', () => {
    expect([...renderAll()]).toEqual([...files]);
  });

  it('writes a pure-ASCII Python module importing only the standard library', () => {
    const source = files.get(PY_MODULE) ?? '';
    expect(/^[\n -~]*$/.test(source)).toBe(true);
    const imports = source.split('\n').filter((l) => /^(import|from) /.test(l));
    expect(imports).toEqual([
      'import math',
      'import re',
      'from typing import Callable, NamedTuple',
    ]);
  });
});

describe('Python emitter', () => {
  it.each([
    ['Date', Type.Date()],
    ['Any', Type.Any()],
    ['Record', Type.Record(Type.String(), Type.Number())],
    ['Tuple', Type.Tuple([Type.String()])],
    ['Intersect', Type.Intersect([Type.Object({}), Type.Object({})])],
    ['nested Unknown', Type.Object({ x: Type.Unknown() })],
  ])('throws on an unsupported kind (%s)', (_label, schema) => {
    expect(() => emitPython(one(schema), 'x')).toThrow(UnsupportedSchemaError);
    expect(() => emitPython(one(schema), 'x')).toThrow(/unsupported schema kind/);
  });

  it.each([
    ['format', Type.String({ format: 'email' })],
    ['exclusiveMinimum', Type.Number({ exclusiveMinimum: 0 })],
    ['multipleOf', Type.Integer({ multipleOf: 5 })],
    ['uniqueItems', Type.Array(Type.String(), { uniqueItems: true })],
  ])('throws on a keyword neither validator implements (%s)', (keyword, schema) => {
    expect(() => emitPython(one(schema), 'x')).toThrow(
      new RegExp(`unsupported keyword '${keyword}'`),
    );
  });

  it('throws on a schema-valued additionalProperties and on an undiscriminated union', () => {
    const map = Type.Object({}, { additionalProperties: Type.String() });
    expect(() => emitPython(one(map), 'x')).toThrow(UnsupportedSchemaError);
    const union = Type.Union([
      Type.Object({ a: Type.String() }),
      Type.Object({ b: Type.String() }),
    ]);
    expect(() => emitPython(one(union), 'x')).toThrow(/unsupported union/);
  });

  it('throws on a rule whose target does not exist or is not a plain number', () => {
    const schema = Type.Object({ a: Type.Number(), b: Type.Union([Type.Number(), Type.Null()]) });
    const missing: Rule = { kind: 'greater_than', at: '', field: 'a', than: 'zz' };
    const nullable: Rule = { kind: 'greater_or_equal', at: '', field: 'a', than: 'b' };
    const notArray: Rule = { kind: 'unique', array: '/a', key: 'id' };
    for (const rule of [missing, nullable, notArray])
      expect(() => emitPython(one(schema, [rule]), 'x')).toThrow(InvalidRuleError);
  });

  it('throws on a compound unique key naming a missing field or an optional one without default', () => {
    const item = Type.Object({ t: Type.String(), n: Type.Optional(Type.Integer()) });
    const schema = Type.Object({ items: Type.Array(item) });
    const missing: Rule = { kind: 'unique', array: '/items', key: 't', also: ['zz'] };
    const noDefault: Rule = { kind: 'unique', array: '/items', key: 't', also: ['n'] };
    for (const rule of [missing, noDefault])
      expect(() => emitPython(one(schema, [rule]), 'x')).toThrow(InvalidRuleError);
    const ok: Rule = { kind: 'unique', array: '/items', key: 't', also: ['n'], defaults: { n: 0 } };
    expect(emitPython(one(schema, [ok]), 'x')).toContain('("n",), {"n": 0})');
  });
});

describe('pattern translation', () => {
  it('strips the anchors so Python can fullmatch the body', () => {
    expect(toPythonPattern('^[0-9]{4}-[0-9]{2}$')).toBe('[0-9]{4}-[0-9]{2}');
    expect(toPythonPattern('^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$')).toBe(
      '[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*',
    );
  });

  it.each([
    ['\\d', '^\\d+$'],
    ['\\w', '^\\w+$'],
    ['\\s', '^a\\sb$'],
    ['\\b', '^\\ba$'],
    ['\\D', '^\\D$'],
    ['\\p', '^\\p{L}$'],
    ['unanchored', '[a-z]+'],
    ['start only', '^[a-z]+'],
    ['escaped end', '^a\\$'],
    ['top-level |', '^a|b$'],
    ['dot', '^a.b$'],
    ['lookahead', '^(?=a)a$'],
    ['inner anchor', '^a$|^b$'],
    ['empty class', '^[]$'],
  ])('throws on %s', (_label, pattern) => {
    expect(() => toPythonPattern(pattern)).toThrow(UnsupportedPatternError);
  });
});
