/**
 * The only TS validation API: `validate(name, value)` returns field-level errors `{path, message}`
 * with JSON-pointer paths ("" is the document itself). The generated Python module implements the
 * very same walk (see codegen/emit-python.ts), so both sides report the same paths for any document;
 * the shared vectors prove it.
 *
 * Why a walker of our own instead of TypeBox's `Value.Errors`: its paths and messages for unions and
 * nested failures are library internals we could not mirror exactly in Python. The schema subset is
 * small and each kind has one function here and one emitter function in Python.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { CONTRACTS, type ContractName } from './contracts/index.ts';
import type { Rule } from './rules.ts';

export interface FieldError {
  path: string;
  message: string;
}

/** Validates `value` against the named contract: structure first, then cross-field rules. */
export function validate(name: ContractName, value: unknown): FieldError[] {
  const contract = CONTRACTS[name];
  const errors: FieldError[] = [];
  validateSchema(contract.schema, value, '', errors);
  if (errors.length === 0) for (const rule of contract.rules) checkRule(rule, value, errors);
  return errors;
}

/** Validates against a schema directly (used for the items of events.ingest). */
export function validateSchema(
  schema: TSchema,
  value: unknown,
  path: string,
  errors: FieldError[],
): void {
  switch (schema[Kind]) {
    case 'Object':
      checkObject(schema, value, path, errors);
      return;
    case 'Array':
      checkArray(schema, value, path, errors);
      return;
    case 'String':
      checkString(schema, value, path, errors);
      return;
    case 'Number':
    case 'Integer':
      checkNumber(schema, value, path, errors);
      return;
    case 'Boolean':
      if (typeof value !== 'boolean') errors.push({ path, message: 'must be a boolean' });
      return;
    case 'Null':
      if (value !== null) errors.push({ path, message: 'must be null' });
      return;
    case 'Literal':
      if (value !== schema.const) errors.push({ path, message: `must be ${quote(schema.const)}` });
      return;
    case 'Union':
      checkUnion(schema, value, path, errors);
      return;
    default:
      throw new Error(`validate: unsupported schema kind ${String(schema[Kind])} at ${path}`);
  }
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON pointer segment escaping (RFC 6901). */
export const pointer = (path: string, key: string | number) =>
  typeof key === 'number' || (!key.includes('~') && !key.includes('/'))
    ? `${path}/${key}`
    : `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

const quote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v));
/** "a", "a and b", "a, b and c". */
const listed = (xs: readonly string[]) =>
  xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

/** An object schema's properties as a list and its required keys as a set, built once per schema. */
interface ObjectShape {
  properties: Record<string, TSchema>;
  entries: [string, TSchema][];
  required: Set<string>;
}
const objectShapeCache = new WeakMap<TSchema, ObjectShape>();

function objectShape(schema: TSchema): ObjectShape {
  let shape = objectShapeCache.get(schema);
  if (!shape) {
    const properties: Record<string, TSchema> = schema.properties ?? {};
    shape = {
      properties,
      entries: Object.entries(properties),
      required: new Set<string>(schema.required ?? []),
    };
    objectShapeCache.set(schema, shape);
  }
  return shape;
}

function checkObject(schema: TSchema, value: unknown, path: string, errors: FieldError[]) {
  if (!isPlainObject(value)) {
    errors.push({ path, message: 'must be an object' });
    return;
  }
  const { properties, entries, required } = objectShape(schema);
  for (const [key, propSchema] of entries) {
    if (Object.hasOwn(value, key))
      validateSchema(propSchema, value[key], pointer(path, key), errors);
    else if (required.has(key)) errors.push({ path: pointer(path, key), message: 'is required' });
  }
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(properties, key))
        errors.push({ path: pointer(path, key), message: 'is not an allowed field' });
    }
  }
}

function checkArray(schema: TSchema, value: unknown, path: string, errors: FieldError[]) {
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'must be an array' });
    return;
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    // Do not walk the items of an oversized array: the size is the error, and walking is unbounded work.
    errors.push({ path, message: `must have at most ${schema.maxItems} items` });
    return;
  }
  if (schema.minItems !== undefined && value.length < schema.minItems)
    errors.push({ path, message: `must have at least ${schema.minItems} items` });
  for (let i = 0; i < value.length; i++)
    validateSchema(schema.items, value[i], pointer(path, i), errors);
}

/** Length in Unicode code points, like JSON Schema and Python's len(); UTF-16 units would differ. */
function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; a lone surrogate counts alone.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    // 'u': match code points, as Python does.
    re = new RegExp(pattern, 'u');
    regexCache.set(pattern, re);
  }
  return re;
}

/** In 'u' mode a well-formed pair is one astral code point, so only unpaired surrogates match. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkString(schema: TSchema, value: unknown, path: string, errors: FieldError[]) {
  if (typeof value !== 'string') {
    errors.push({ path, message: 'must be a string' });
    return;
  }
  // Code points are between half the UTF-16 length and the length: count them only when a bound
  // can be crossed (most strings are far inside both).
  const max: number | undefined = schema.maxLength;
  const min: number | undefined = schema.minLength;
  const length =
    (max !== undefined && value.length > max) || (min !== undefined && value.length < 2 * min)
      ? countCodePoints(value)
      : value.length;
  if (max !== undefined && length > max) {
    errors.push({ path, message: `must be at most ${schema.maxLength} characters` });
    return;
  }
  if (min !== undefined && length < min) {
    errors.push({
      path,
      message:
        schema.minLength === 1
          ? 'must not be empty'
          : `must be at least ${schema.minLength} characters`,
    });
    return;
  }
  // An unpaired UTF-16 surrogate cannot be encoded as UTF-8: PostgreSQL (and Python's encoder) would
  // fail on it far from here, so it is a validation error at the edge.
  if (LONE_SURROGATE.test(value)) {
    errors.push({ path, message: 'must not contain unpaired surrogate characters' });
    return;
  }
  if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) {
    errors.push({
      path,
      message: schema.description
        ? `must be a valid value: ${schema.description}`
        : 'has an invalid format',
    });
  }
}

function checkNumber(schema: TSchema, value: unknown, path: string, errors: FieldError[]) {
  const integer = schema[Kind] === 'Integer';
  if (typeof value !== 'number') {
    errors.push({ path, message: integer ? 'must be an integer' : 'must be a number' });
    return;
  }
  if (!Number.isFinite(value)) {
    errors.push({ path, message: 'must be a finite number' });
    return;
  }
  if (integer && !Number.isInteger(value)) {
    errors.push({ path, message: 'must be an integer' });
    return;
  }
  if (schema.minimum !== undefined && value < schema.minimum)
    errors.push({ path, message: `must be >= ${schema.minimum}` });
  else if (schema.maximum !== undefined && value > schema.maximum)
    errors.push({ path, message: `must be <= ${schema.maximum}` });
}

/** The three union shapes we allow: nullable, enum of literals, discriminated by a field. */
export type UnionShape =
  | { shape: 'nullable'; inner: TSchema }
  | { shape: 'enum'; values: (string | number | boolean)[] }
  | { shape: 'discriminated'; field: string; members: Map<string, TSchema> };

export function unionShape(schema: TSchema): UnionShape {
  const members: TSchema[] = schema.anyOf;
  if (typeof schema.discriminator === 'string') {
    const field: string = schema.discriminator;
    const map = new Map<string, TSchema>();
    for (const m of members) {
      const tag = m.properties?.[field]?.const;
      if (m[Kind] !== 'Object' || typeof tag !== 'string')
        throw new Error(`validate: discriminated union member without a literal '${field}'`);
      map.set(tag, m);
    }
    return { shape: 'discriminated', field, members: map };
  }
  if (members.every((m) => m[Kind] === 'Literal'))
    return { shape: 'enum', values: members.map((m) => m.const) };
  const nonNull = members.filter((m) => m[Kind] !== 'Null');
  if (members.length === 2 && nonNull.length === 1 && nonNull[0])
    return { shape: 'nullable', inner: nonNull[0] };
  throw new Error(
    'validate: unsupported union (use Nullable, an enum of literals or a discriminator)',
  );
}

const shapeCache = new WeakMap<TSchema, UnionShape>();

function checkUnion(schema: TSchema, value: unknown, path: string, errors: FieldError[]) {
  let shape = shapeCache.get(schema);
  if (!shape) {
    shape = unionShape(schema);
    shapeCache.set(schema, shape);
  }
  if (shape.shape === 'nullable') {
    if (value !== null) validateSchema(shape.inner, value, path, errors);
    return;
  }
  if (shape.shape === 'enum') {
    if (!shape.values.includes(value as string))
      errors.push({ path, message: `must be one of: ${shape.values.map(quote).join(', ')}` });
    return;
  }
  if (!isPlainObject(value)) {
    errors.push({ path, message: 'must be an object' });
    return;
  }
  const tag = value[shape.field];
  const member = typeof tag === 'string' ? shape.members.get(tag) : undefined;
  if (!member) {
    errors.push({
      path: pointer(path, shape.field),
      message: `must be one of: ${[...shape.members.keys()].map(quote).join(', ')}`,
    });
    return;
  }
  validateSchema(member, value, path, errors);
}

// ---------------------------------------------------------------------------------------------------
// Cross-field rules
// ---------------------------------------------------------------------------------------------------

/** Resolves a rule path with `*` wildcards to [pointer, value] pairs; missing or null parts vanish. */
export function resolve(value: unknown, path: string): [string, unknown][] {
  let current: [string, unknown][] = [['', value]];
  for (const segment of path.split('/').slice(1)) {
    const next: [string, unknown][] = [];
    for (const [p, v] of current) {
      if (segment === '*') {
        if (Array.isArray(v)) for (let i = 0; i < v.length; i++) next.push([pointer(p, i), v[i]]);
      } else if (isPlainObject(v) && Object.hasOwn(v, segment) && v[segment] !== null) {
        next.push([pointer(p, segment), v[segment]]);
      }
    }
    current = next;
  }
  return current;
}

/** The `<key>` of every item of `<array>` mapped to the pointer of its first occurrence. */
function keyValues(value: unknown, array: string, key: string): Map<unknown, string> {
  const found = new Map<unknown, string>();
  for (const [p, items] of resolve(value, array))
    (items as Record<string, unknown>[]).forEach((item, i) => {
      if (!found.has(item[key])) found.set(item[key], pointer(pointer(p, i), key));
    });
  return found;
}

/** `distinct_from` and `references`: each key of `array` checked against the keys of another array. */
function checkCrossArray(
  rule: Extract<Rule, { kind: 'distinct_from' | 'references' }>,
  value: unknown,
  errors: FieldError[],
) {
  const [target, targetKey] =
    rule.kind === 'distinct_from' ? [rule.other, rule.other_key] : [rule.target, rule.target_key];
  const known = keyValues(value, target, targetKey);
  for (const [p, items] of resolve(value, rule.array)) {
    (items as Record<string, unknown>[]).forEach((item, i) => {
      const own = item[rule.key];
      const at = pointer(pointer(p, i), rule.key);
      const clash = known.get(own);
      if (rule.kind === 'distinct_from' && clash !== undefined)
        errors.push({
          path: at,
          message: `${rule.key} ${quote(own)} is also a ${targetKey} (at ${clash})`,
        });
      else if (rule.kind === 'references' && clash === undefined)
        errors.push({
          path: at,
          message: `must name a ${targetKey} of ${target}: ${quote(own)} is none`,
        });
    });
  }
}

function checkRule(rule: Rule, value: unknown, errors: FieldError[]) {
  if (rule.kind === 'distinct_from' || rule.kind === 'references') {
    checkCrossArray(rule, value, errors);
    return;
  }
  if (rule.kind === 'unique') {
    const also = rule.also ?? [];
    const defaults = rule.defaults ?? {};
    const what = also.length === 0 ? '' : ` with the same ${listed(also)}`;
    for (const [p, items] of resolve(value, rule.array)) {
      const seen = new Map<string, number>();
      (items as Record<string, unknown>[]).forEach((item, i) => {
        // JSON of the key parts: a compound key as one Map key, with absent parts at their default.
        const parts = [
          item[rule.key],
          ...also.map((f) => (Object.hasOwn(item, f) ? item[f] : defaults[f])),
        ];
        const key = JSON.stringify(parts);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
          errors.push({
            path: pointer(pointer(p, i), rule.key),
            message: `duplicate ${rule.key} ${quote(item[rule.key])}${what} (also at ${pointer(pointer(p, first), rule.key)})`,
          });
      });
    }
    return;
  }
  for (const [p, obj] of resolve(value, rule.at)) {
    // Presence is own-property presence (Python's `in`): `o.field === undefined` would also see
    // inherited members such as `constructor`.
    const o = obj as Record<string, unknown>;
    const at = pointer(p, rule.field);
    if (rule.kind === 'greater_than') {
      if (!((o[rule.field] as number) > (o[rule.than] as number)))
        errors.push({ path: at, message: `must be greater than ${rule.than}` });
    } else if (rule.kind === 'greater_or_equal') {
      if (
        Object.hasOwn(o, rule.field) &&
        Object.hasOwn(o, rule.than) &&
        (o[rule.field] as number) < (o[rule.than] as number)
      )
        errors.push({ path: at, message: `must be greater than or equal to ${rule.than}` });
    } else if (rule.kind === 'required_when') {
      if (o[rule.when_field] === rule.equals && !Object.hasOwn(o, rule.field))
        errors.push({
          path: at,
          message: `is required when ${rule.when_field} is '${rule.equals}'`,
        });
    } else if (rule.kind === 'forbidden_unless') {
      if (o[rule.when_field] !== rule.equals && Object.hasOwn(o, rule.field))
        errors.push({
          path: at,
          message: `is only allowed when ${rule.when_field} is '${rule.equals}'`,
        });
    }
  }
}
