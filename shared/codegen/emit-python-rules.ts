/**
 * Cross-field rules for the Python module. Rules are data (`src/rules.ts`); each becomes one call to a
 * runtime helper. Before emitting, every rule path is resolved against the contract's schema: a rule that
 * names a missing field, or compares something that is not a plain number, would never fire (or fire
 * differently in JS and Python), so it fails generation instead.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import type { Contract } from '../src/contracts/index.ts';
import type { Rule } from '../src/rules.ts';
import { unionShape } from '../src/validate.ts';
import { pyStr, pyValue } from './python-literal.ts';

export class InvalidRuleError extends Error {
  constructor(contract: string, rule: Rule, reason: string) {
    super(`codegen: rule ${rule.kind} ${JSON.stringify(rule)} of ${contract}: ${reason}`);
    this.name = 'InvalidRuleError';
  }
}

/** The Python statement that runs `rule` on `value`, appending to `errors`. */
export function ruleCall(rule: Rule): string {
  const args = (...xs: string[]) => ['value', 'errors', ...xs.map(pyStr)].join(', ');
  switch (rule.kind) {
    case 'unique': {
      if (!rule.also?.length) return `_rule_unique(${args(rule.array, rule.key)})`;
      const also = `(${rule.also.map(pyStr).join(', ')},)`;
      const defaults = Object.entries(rule.defaults ?? {})
        .map(([k, v]) => `${pyStr(k)}: ${pyValue(v)}`)
        .join(', ');
      return `_rule_unique(${args(rule.array, rule.key)}, ${also}, {${defaults}})`;
    }
    case 'greater_than':
    case 'greater_or_equal':
      return `_rule_${rule.kind}(${args(rule.at, rule.field, rule.than)})`;
    case 'required_when':
    case 'forbidden_unless':
      return `_rule_${rule.kind}(${args(rule.at, rule.field, rule.when_field, rule.equals)})`;
    case 'distinct_from':
      return `_rule_distinct_from(${args(rule.array, rule.key, rule.other, rule.other_key)})`;
    case 'references':
      return `_rule_references(${args(rule.array, rule.key, rule.target, rule.target_key)})`;
  }
}

/** Throws InvalidRuleError unless every rule of the contract targets fields of the right kind. */
export function checkRuleTargets(name: string, contract: Contract): void {
  for (const rule of contract.rules) {
    const fail = (reason: string) => new InvalidRuleError(name, rule, reason);
    if (rule.kind === 'distinct_from' || rule.kind === 'references') {
      const [other, otherKey] =
        rule.kind === 'distinct_from'
          ? [rule.other, rule.other_key]
          : [rule.target, rule.target_key];
      // Both sides must be required strings: JS and Python compare those the same way.
      for (const [array, key] of [
        [rule.array, rule.key],
        [other, otherKey],
      ] as const) {
        const node = walk(contract.schema, array);
        if (!node) throw fail(`path '${array}' does not exist in the schema`);
        if (node[Kind] !== 'Array') throw fail(`'${array}' is not an array`);
        const found = field(unwrap(node.items), key);
        if (!found?.required || found.schema[Kind] !== 'String')
          throw fail(`'${key}' must be a required string of every item of '${array}'`);
      }
      continue;
    }
    const path = rule.kind === 'unique' ? rule.array : rule.at;
    let node = contract.schema;
    for (const segment of path.split('/').slice(1)) {
      const next = step(node, segment);
      if (!next) throw fail(`path segment '${segment}' does not exist in the schema`);
      node = next;
    }
    if (rule.kind === 'unique') {
      if (node[Kind] !== 'Array') throw fail('the target is not an array');
      const item = unwrap(node.items);
      const key = field(item, rule.key);
      if (!key?.required || key.schema[Kind] !== 'String')
        throw fail(`'${rule.key}' must be a required string of every item`);
      for (const f of rule.also ?? []) {
        const part = field(item, f);
        if (!part) throw fail(`key field '${f}' does not exist`);
        // JS and Python compare strings, integers and literal unions the same way; not floats/objects.
        if (!['String', 'Integer', 'Union', 'Literal'].includes(String(part.schema[Kind])))
          throw fail(`key field '${f}' must be a string, an integer or a literal union`);
        if (!part.required && !Object.hasOwn(rule.defaults ?? {}, f))
          throw fail(`optional key field '${f}' needs a default`);
      }
      continue;
    }
    const fields =
      rule.kind === 'greater_than' || rule.kind === 'greater_or_equal'
        ? [rule.field, rule.than]
        : [rule.field, rule.when_field];
    for (const f of fields) {
      const found = field(node, f);
      if (!found) throw fail(`field '${f}' does not exist`);
      const numeric = ['Number', 'Integer'].includes(String(found.schema[Kind]));
      if ((rule.kind === 'greater_than' || rule.kind === 'greater_or_equal') && !numeric)
        throw fail(`'${f}' must be a non-nullable number`);
      // JS compares a missing value as undefined (always false): only optional fields may be missing.
      if (rule.kind === 'greater_than' && !found.required) throw fail(`'${f}' must be required`);
    }
  }
}

function walk(schema: TSchema, path: string): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const segment of path.split('/').slice(1)) {
    node = node && step(node, segment);
    if (!node) return undefined;
  }
  return node;
}

/** The nullable wrapper is transparent for rules: `resolve` skips null values. */
function unwrap(schema: TSchema): TSchema {
  if (schema[Kind] !== 'Union') return schema;
  const shape = unionShape(schema);
  return shape.shape === 'nullable' ? shape.inner : schema;
}

function step(schema: TSchema, segment: string): TSchema | undefined {
  const node = unwrap(schema);
  if (segment === '*') return node[Kind] === 'Array' ? node.items : undefined;
  return field(node, segment)?.schema;
}

function field(schema: TSchema, name: string): { schema: TSchema; required: boolean } | undefined {
  if (schema[Kind] !== 'Object' || !Object.hasOwn(schema.properties ?? {}, name)) return undefined;
  return {
    schema: schema.properties[name],
    required: (schema.required ?? []).includes(name),
  };
}
