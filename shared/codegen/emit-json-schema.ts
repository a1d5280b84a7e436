/**
 * JSON Schema emitter. A TypeBox schema already *is* JSON Schema; this step only drops TypeBox's symbol
 * keys, adds the draft, title and banner, and fixes the key order so the bytes do not depend on how a
 * TypeBox version happens to assemble its objects.
 */
import type { Contract } from '../src/contracts/index.ts';
import { jsonBanner } from './banner.ts';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** Keys a reader looks for first; everything else follows alphabetically. */
const LEADING_KEYS = ['$schema', '$comment', 'title', 'description', 'type'];

/** Maps whose keys are names chosen by the author: their declaration order is kept, it reads better. */
const NAME_MAPS = new Set(['properties']);

export function emitJsonSchema(name: string, contract: Contract, digest: string): string {
  const plain = JSON.parse(JSON.stringify(contract.schema)) as Record<string, unknown>;
  const document = {
    $schema: DRAFT,
    $comment: jsonBanner(digest),
    title: name,
    description: contract.description,
    ...plain,
  };
  return `${JSON.stringify(canonical(document, false), null, 2)}\n`;
}

function canonical(value: unknown, keepOrder: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, false));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const ordered = keepOrder
    ? keys
    : [
        ...LEADING_KEYS.filter((k) => keys.includes(k)),
        ...keys.filter((k) => !LEADING_KEYS.includes(k)).sort(),
      ];
  const out: Record<string, unknown> = {};
  for (const key of ordered) out[key] = canonical(record[key], !keepOrder && NAME_MAPS.has(key));
  return out;
}
