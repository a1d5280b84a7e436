/**
 * Translates a schema `pattern` (an ECMAScript regex, compiled by validate.ts with the 'u' flag) into a
 * Python `re` pattern with identical meaning, or throws. Only a safe subset is accepted, on purpose:
 * - anchored `^...$` with no top-level `|`: Python runs `fullmatch` on the body, because Python's `$`
 *   also matches before a trailing newline;
 * - no `\s \w \d \b` (or their negations): Python's str patterns give them Unicode meaning, JS doesn't;
 * - no `.`: JS excludes \n \r \u2028 \u2029, Python only \n;
 * - no lookaround, named groups, backreferences or \p{...}: the two syntaxes differ.
 */

/** Escapes that mean the same literal character (or control) in both engines. */
const SAME_ESCAPES = new Set([...'.-\\/[](){}*+?|^$', 't', 'r', 'n']);

/** Inside a Python set these start "possible set operation" FutureWarnings when unescaped. */
const PY_SET_SPECIALS = new Set(['[', '&', '~', '|']);

export class UnsupportedPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`codegen: pattern ${JSON.stringify(pattern)} is not supported: ${reason}`);
    this.name = 'UnsupportedPatternError';
  }
}

export function toPythonPattern(pattern: string): string {
  const fail = (reason: string) => new UnsupportedPatternError(pattern, reason);
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    throw fail(`invalid in JS: ${(err as Error).message}`);
  }
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || endsEscaped(pattern))
    throw fail('it must be anchored as ^...$ (unanchored patterns match substrings in JS)');
  const body = pattern.slice(1, -1);
  let out = '';
  let inClass = false;
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '\\') {
      const next = body[i + 1] ?? '';
      const hex = body.slice(i + 2, i + 6);
      if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(hex)) {
        out += `\\u${hex}`;
        i += 5;
      } else if (SAME_ESCAPES.has(next)) {
        out += `\\${next}`;
        i += 1;
      } else {
        throw fail(`escape \\${next} differs between JS and Python (or is not allowed)`);
      }
    } else if (inClass) {
      if (ch === ']') inClass = false;
      if (ch === '-' && body[i + 1] === '-') throw fail("'--' inside a class is ambiguous");
      out += PY_SET_SPECIALS.has(ch) ? `\\${ch}` : ch;
    } else {
      if (ch === '[') {
        // JS reads [] as "nothing" and [^] as "anything"; Python reads a leading ] as a literal.
        if (/^\^?\]/.test(body.slice(i + 1))) throw fail('empty classes [] and [^] differ');
        inClass = true;
      } else if (ch === '(') {
        if (body[i + 1] === '?' && body[i + 2] !== ':')
          throw fail('only (?:...) groups are allowed');
        depth++;
      } else if (ch === ')') depth--;
      else if (ch === '|' && depth === 0)
        throw fail('top-level | would escape the ^...$ anchors; wrap it in (?:...)');
      else if (ch === '.') throw fail("'.' matches different line terminators; use a class");
      else if (ch === '^' || ch === '$') throw fail('anchors are only allowed at both ends');
      out += ch;
    }
  }
  return out;
}

/** True when the final `$` is escaped (an odd run of backslashes before it). */
function endsEscaped(pattern: string): boolean {
  let n = 0;
  for (let i = pattern.length - 2; i >= 0 && pattern[i] === '\\'; i--) n++;
  return n % 2 === 1;
}
