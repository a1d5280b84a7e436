/**
 * Python source literals for values known at generation time. The generated module is pure ASCII:
 * anything else is written as a \u or \U escape, so no editor or encoding setting can alter it.
 */

/** A double-quoted Python str literal with exactly the code points (and lone surrogates) of `s`. */
export function pyStr(s: string): string {
  let out = '"';
  for (const ch of s) {
    // for...of yields code points; a lone surrogate comes through as a single unit.
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * A number as a Python literal denoting the same double. JS's shortest round-trip form (`1e+21`,
 * `0.1`, `1000000`) is valid Python and parses back to the same value.
 */
export function pyNum(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`codegen: non-finite bound ${n}`);
  return String(n);
}

/** A JSON-like value (string, finite number, boolean, null) as a Python literal. */
export function pyValue(v: unknown): string {
  if (typeof v === 'string') return pyStr(v);
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null) return 'None';
  throw new Error(`codegen: cannot write ${typeof v} as a Python literal`);
}

/** Python identifier fragment from a contract name or a JSON path. */
export const pyIdent = (s: string) => s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');

export const indent = (lines: string[], by = '    ') => lines.map((l) => (l ? by + l : l));
