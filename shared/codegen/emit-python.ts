/**
 * Python emitter: renders the contracts as one pure-stdlib module (Python 3.10+) whose validators
 * mirror `src/validate.ts` exactly: same JSON-pointer paths, same messages.
 *
 * Layout of the output: banner, fixed runtime (python-runtime.ts), constants (string/number/enum specs
 * with messages rendered here, by JS, so number formatting cannot differ), one `_check_*` function per
 * object, array and discriminated-union node, then the public `validate_<contract>` functions.
 *
 * One emitter function per schema kind behind the `emitCheck` dispatcher; any other kind, an unknown
 * keyword or an unsupported regex throws instead of silently accepting everything.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import type { Contract } from '../src/contracts/index.ts';
import { unionShape } from '../src/validate.ts';
import { hashBanner } from './banner.ts';
import { checkRuleTargets, ruleCall } from './emit-python-rules.ts';
import { indent, pyIdent, pyNum, pyStr, pyValue } from './python-literal.ts';
import { toPythonPattern } from './python-regex.ts';
import { PYTHON_RUNTIME } from './python-runtime.ts';

export class UnsupportedSchemaError extends Error {
  constructor(message: string) {
    super(`codegen: ${message}`);
    this.name = 'UnsupportedSchemaError';
  }
}

/** State of one rendering, passed along (never module-level, so renderings cannot leak into each other). */
interface EmitContext {
  contract: string;
  /** Node functions in first-use order; a slot is reserved before its body is built (pre-order). */
  functions: string[][];
  nodeNames: Map<TSchema, string>;
  usedNames: Set<string>;
  /** Constant source -> its name, so identical specs are written once. */
  constants: Map<string, string>;
  constantLines: string[];
}

/** Where a check runs: Python expressions for the value and its path, and a location for names. */
interface Site {
  value: string;
  path: string;
  where: string;
}

type KindEmitter = (schema: TSchema, site: Site, ctx: EmitContext) => string[];

const EMITTERS: Record<string, KindEmitter> = {
  Object: emitObject,
  Array: emitArray,
  String: emitString,
  Number: emitNumber,
  Integer: emitNumber,
  Boolean: (_s, site) => [`_boolean(${site.value}, ${site.path}, errors)`],
  Null: (_s, site) => [`_null(${site.value}, ${site.path}, errors)`],
  Literal: emitLiteral,
  Union: emitUnion,
};

/** Annotations both validators ignore; any other keyword must be in KEYWORDS for its kind. */
const ANNOTATIONS = ['type', 'description', 'title', '$comment', 'examples', 'default'];
const KEYWORDS: Record<string, string[]> = {
  Object: ['properties', 'required', 'additionalProperties'],
  Array: ['items', 'minItems', 'maxItems'],
  String: ['minLength', 'maxLength', 'pattern'],
  Number: ['minimum', 'maximum'],
  Integer: ['minimum', 'maximum'],
  Boolean: [],
  Null: [],
  Literal: ['const'],
  Union: ['anyOf', 'discriminator'],
};

/** The dispatcher: Python statements checking `site.value` against `schema`. */
export function emitCheck(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  const kind = String(schema[Kind]);
  const emitter = Object.hasOwn(EMITTERS, kind) ? EMITTERS[kind] : undefined;
  const at = `${ctx.contract}${site.where || ' (root)'}`;
  if (!emitter) throw new UnsupportedSchemaError(`unsupported schema kind ${kind} at ${at}`);
  const allowed = new Set([...ANNOTATIONS, ...(KEYWORDS[kind] ?? [])]);
  for (const key of Object.keys(schema)) {
    if (!allowed.has(key))
      throw new UnsupportedSchemaError(`unsupported keyword '${key}' on ${kind} at ${at}`);
  }
  return emitter(schema, site, ctx);
}

/** Renders the whole module for the given contracts. */
export function emitPython(contracts: Record<string, Contract>, digest: string): string {
  const ctx: EmitContext = {
    contract: '',
    functions: [],
    nodeNames: new Map(),
    usedNames: new Set(),
    constants: new Map(),
    constantLines: [],
  };
  const publicFunctions: string[][] = [];
  const names = Object.keys(contracts);
  for (const name of names) {
    if (!/^[a-z][a-z0-9_]*$/.test(name))
      throw new UnsupportedSchemaError(`contract name '${name}' is not a snake_case identifier`);
    const contract = contracts[name] as Contract;
    checkRuleTargets(name, contract);
    ctx.contract = name;
    const root = emitCheck(contract.schema, { value: 'value', path: '""', where: '' }, ctx);
    publicFunctions.push(publicFunction(name, contract, root));
  }
  return [
    hashBanner(digest).trimEnd(),
    MODULE_DOC,
    'import math',
    'import re',
    'from typing import Callable, NamedTuple',
    '',
    '__all__ = [',
    ...['CONTRACTS', 'validate', ...names.map((n) => `validate_${n}`)].map(
      (n) => `    ${pyStr(n)},`,
    ),
    ']',
    PYTHON_RUNTIME.trimEnd(),
    section('Constants: one spec per distinct string/number/enum schema, messages rendered by JS'),
    ...ctx.constantLines.flatMap((c) => ['', c]),
    section('Checks: one function per object, array and discriminated-union node'),
    ...ctx.functions.flatMap((f) => ['', '', ...f]),
    section('Public API'),
    ...publicFunctions.flatMap((f) => ['', '', ...f]),
    '',
    '',
    'CONTRACTS: dict[str, Callable[[object], list[dict[str, str]]]] = {',
    ...names.map((n) => `    ${pyStr(n)}: validate_${n},`),
    '}',
    '',
    '',
    'def validate(name: str, value: object) -> list[dict[str, str]]:',
    '    """Validates value against the named contract; raises KeyError for an unknown name."""',
    '    return CONTRACTS[name](value)',
    '',
  ].join('\n');
}

const MODULE_DOC = `"""Validators for every Workshop IoT wire contract, generated from the TypeBox schemas in shared/.

Each validate_<contract>(value) takes a decoded JSON value and returns a list of
{"path": <JSON pointer>, "message": <text>} dicts, empty when the value is valid. Paths and messages
are identical to the TypeScript validator's (shared/src/validate.ts); the shared vectors prove it.
Pure standard library, Python 3.10+.
"""
`;

const section = (title: string) => `\n\n# ${'-'.repeat(99)}\n# ${title}\n# ${'-'.repeat(99)}`;

function publicFunction(name: string, contract: Contract, root: string[]): string[] {
  const rules = contract.rules.map(ruleCall);
  return [
    `def validate_${name}(value: object) -> list[dict[str, str]]:`,
    `    """${docText(contract.description)}."""`,
    '    errors: list[dict[str, str]] = []',
    ...indent(root),
    ...(rules.length
      ? [
          '    if not errors:  # rules read fields the structure guarantees',
          ...indent(rules, '        '),
        ]
      : []),
    '    return errors',
  ];
}

// ---------------------------------------------------------------------------------------------------
// Node functions and constants
// ---------------------------------------------------------------------------------------------------

/** Calls the function for `schema`, emitting it on first use (shared nodes are emitted once). */
function callNode(
  schema: TSchema,
  site: Site,
  ctx: EmitContext,
  body: (name: string) => string[],
): string[] {
  let name = ctx.nodeNames.get(schema);
  if (!name) {
    const segments = site.where.split('/').filter(Boolean).map(pyIdent);
    const base = `_check_${[pyIdent(ctx.contract), ...segments].join('__')}`;
    name = base;
    for (let n = 2; ctx.usedNames.has(name); n++) name = `${base}_${n}`;
    ctx.usedNames.add(name);
    ctx.nodeNames.set(schema, name);
    const slot = ctx.functions.push([]) - 1;
    ctx.functions[slot] = [
      `def ${name}(value: object, path: str, errors: list[dict[str, str]]) -> None:`,
      `    """${String(schema[Kind])} at ${docText(ctx.contract + (site.where || ' (root)'))}."""`,
      ...indent(body(name)),
    ];
  }
  return [`${name}(${site.value}, ${site.path}, errors)`];
}

/** A module constant for `lines` (a Python expression), shared by every identical use. */
function constant(ctx: EmitContext, prefix: string, lines: string[]): string {
  const source = lines.join('\n');
  let name = ctx.constants.get(source);
  if (!name) {
    const count = [...ctx.constants.values()].filter((n) => n.startsWith(`_${prefix}_`)).length;
    name = `_${prefix}_${count + 1}`;
    ctx.constants.set(source, name);
    ctx.constantLines.push(`${name} = ${source}`);
  }
  return name;
}

/** Text safe inside a one-line docstring. */
const docText = (s: string) => s.replace(/[^ -~]|\\|"/g, '?');

/** JSON-pointer segment for a fixed key, escaped at generation time. */
const segment = (key: string) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** validate.ts's quote(): strings in single quotes, anything else as JS prints it. */
const jsQuote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v));

const fail = (path: string, message: string) => `_fail(errors, ${path}, ${pyStr(message)})`;

// ---------------------------------------------------------------------------------------------------
// One emitter per kind
// ---------------------------------------------------------------------------------------------------

function emitObject(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  const extra = schema.additionalProperties;
  if (extra !== undefined && typeof extra !== 'boolean')
    throw new UnsupportedSchemaError(`additionalProperties must be a boolean at ${ctx.contract}`);
  return callNode(schema, site, ctx, () => {
    const properties: Record<string, TSchema> = schema.properties ?? {};
    const required = new Set<string>(schema.required ?? []);
    const lines = [
      'if not isinstance(value, dict):',
      `    ${fail('path', 'must be an object')}`,
      '    return',
    ];
    for (const [key, property] of Object.entries(properties)) {
      const child: Site = {
        value: `value[${pyStr(key)}]`,
        path: `path + ${pyStr(segment(key))}`,
        where: `${site.where}/${key}`,
      };
      lines.push(`if ${pyStr(key)} in value:`, ...indent(emitCheck(property, child, ctx)));
      if (required.has(key)) lines.push('else:', `    ${fail(child.path, 'is required')}`);
    }
    if (extra === false) {
      const keys = Object.keys(properties).map(pyStr).join(', ');
      const allowed = constant(ctx, 'FIELDS', [keys ? `frozenset({${keys}})` : 'frozenset()']);
      lines.push(`_extra_fields(value, path, errors, ${allowed})`);
    }
    return lines;
  });
}

function emitArray(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  return callNode(schema, site, ctx, () => {
    const lines = [
      'if not isinstance(value, list):',
      `    ${fail('path', 'must be an array')}`,
      '    return',
    ];
    if (schema.maxItems !== undefined) {
      lines.push(
        `if len(value) > ${pyNum(schema.maxItems)}:  # the size is the error: do not walk the items`,
        `    ${fail('path', `must have at most ${schema.maxItems} items`)}`,
        '    return',
      );
    }
    if (schema.minItems !== undefined) {
      lines.push(
        `if len(value) < ${pyNum(schema.minItems)}:`,
        `    ${fail('path', `must have at least ${schema.minItems} items`)}`,
      );
    }
    const item: Site = {
      value: 'item',
      path: 'path + "/" + str(index)',
      where: `${site.where}/item`,
    };
    lines.push(
      'for index, item in enumerate(value):',
      ...indent(emitCheck(schema.items, item, ctx)),
    );
    return lines;
  });
}

function emitString(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  const { maxLength, minLength, pattern, description } = schema;
  const regex =
    pattern === undefined
      ? 'regex=None,'
      : `regex=re.compile(${pyStr(toPythonPattern(pattern))}),  # JS: ${docText(pattern)}`;
  const spec = constant(ctx, 'STRING', [
    '_StringSpec(',
    `    max_length=${maxLength === undefined ? 'None' : pyNum(maxLength)},`,
    `    min_length=${minLength === undefined ? 'None' : pyNum(minLength)},`,
    `    ${regex}`,
    `    too_long=${maxLength === undefined ? 'None' : pyStr(`must be at most ${maxLength} characters`)},`,
    `    too_short=${minLength === undefined ? 'None' : pyStr(tooShort(minLength))},`,
    `    bad_format=${pattern === undefined ? 'None' : pyStr(badFormat(description))},`,
    ')',
  ]);
  return [`_string(${site.value}, ${site.path}, errors, ${spec})`];
}

const tooShort = (min: number) =>
  min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
const badFormat = (description: string | undefined) =>
  description ? `must be a valid value: ${description}` : 'has an invalid format';

function emitNumber(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  const { minimum, maximum } = schema;
  const spec = constant(ctx, 'NUMBER', [
    '_NumberSpec(',
    `    integer=${schema[Kind] === 'Integer' ? 'True' : 'False'},`,
    `    minimum=${minimum === undefined ? 'None' : pyNum(minimum)},`,
    `    maximum=${maximum === undefined ? 'None' : pyNum(maximum)},`,
    `    too_small=${minimum === undefined ? 'None' : pyStr(`must be >= ${minimum}`)},`,
    `    too_large=${maximum === undefined ? 'None' : pyStr(`must be <= ${maximum}`)},`,
    ')',
  ]);
  return [`_number(${site.value}, ${site.path}, errors, ${spec})`];
}

function emitLiteral(schema: TSchema, site: Site): string[] {
  const message = pyStr(`must be ${jsQuote(schema.const)}`);
  return [`_literal(${site.value}, ${site.path}, errors, ${pyValue(schema.const)}, ${message})`];
}

function emitUnion(schema: TSchema, site: Site, ctx: EmitContext): string[] {
  let shape: ReturnType<typeof unionShape>;
  try {
    shape = unionShape(schema);
  } catch (err) {
    throw new UnsupportedSchemaError(`${(err as Error).message} at ${ctx.contract}${site.where}`);
  }
  if (shape.shape === 'nullable')
    return [`if ${site.value} is not None:`, ...indent(emitCheck(shape.inner, site, ctx))];
  if (shape.shape === 'enum') {
    const spec = constant(ctx, 'ENUM', [
      '_EnumSpec(',
      `    values=(${shape.values.map(pyValue).join(', ')},),`,
      `    message=${pyStr(`must be one of: ${shape.values.map(jsQuote).join(', ')}`)},`,
      ')',
    ]);
    return [`_enum(${site.value}, ${site.path}, errors, ${spec})`];
  }
  const { field, members } = shape;
  return callNode(schema, site, ctx, () => {
    const lines = [
      'if not isinstance(value, dict):',
      `    ${fail('path', 'must be an object')}`,
      '    return',
    ];
    lines.push(`tag = value.get(${pyStr(field)})`);
    let keyword = 'if';
    for (const [tag, member] of members) {
      const memberSite: Site = { value: 'value', path: 'path', where: `${site.where}/${tag}` };
      lines.push(`${keyword} tag == ${pyStr(tag)}:`, ...indent(emitCheck(member, memberSite, ctx)));
      keyword = 'elif';
    }
    const message = `must be one of: ${[...members.keys()].map(jsQuote).join(', ')}`;
    lines.push('else:', `    ${fail(`path + ${pyStr(segment(field))}`, message)}`);
    return lines;
  });
}
