/**
 * Regular expressions from tokenizer.json are untrusted input, and JavaScript's engine
 * backtracks: `(a+)+$` on a long run of `a`s takes exponential time (issue 18). Patterns are
 * checked before use and refused, with the reason, when they could backtrack catastrophically:
 *
 *  - a group repeated without bound (`*`, `+`, `{n,}`) that itself holds a repetition or an
 *    alternation, as in `(a+)+`, `(a*)*`, `(a|aa)+`;
 *  - backreferences (`\1`, `\k<name>`), which no tokenizer normalizer needs;
 *  - patterns longer than MAX_PATTERN_CHARS.
 *
 * What tokenizers actually use (` {2,}`, `\s+`, `[\p{P}]`, `(\d+)`) passes.
 */

export const MAX_PATTERN_CHARS = 1000;

/** Why `source` is refused, or undefined when it is safe to run. */
export function unsafePatternReason(source: string): string | undefined {
  if (source.length > MAX_PATTERN_CHARS) return `it is ${source.length} characters long (at most ${MAX_PATTERN_CHARS})`;
  interface Group { repeats: boolean; alternates: boolean }
  const groups: Group[] = [{ repeats: false, alternates: false }];
  /** Length of the quantifier at `i` and whether it is unbounded; 0 when there is none. */
  const quantifierAt = (i: number): { length: number; unbounded: boolean } => {
    const c = source[i];
    if (c === '*' || c === '+') return { length: 1, unbounded: true };
    if (c === '?') return { length: 1, unbounded: false };
    if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(source.slice(i));
      if (m && (m[1] !== '' || m[3] !== '')) return { length: m[0].length, unbounded: m[2] === ',' && m[3] === '' };
    }
    return { length: 0, unbounded: false };
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const top = groups[groups.length - 1]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'it uses a backreference';
      i++;
    } else if (c === '[') {
      // A character class is one atom: skip to its closing bracket.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
    } else if (c === '(') {
      groups.push({ repeats: false, alternates: false });
    } else if (c === ')') {
      const inner = groups.pop()!;
      if (groups.length === 0) return 'its parentheses do not balance';
      const q = quantifierAt(i + 1);
      if (q.unbounded && (inner.repeats || inner.alternates)) {
        return `the group ending at character ${i + 1} is repeated without bound and itself ${inner.repeats ? 'repeats' : 'has alternatives'} (nested quantifiers backtrack exponentially)`;
      }
      const parent = groups[groups.length - 1]!;
      if (inner.repeats || q.length > 0) parent.repeats = true;
      if (inner.alternates) parent.alternates = true;
      i += q.length > 0 ? q.length - 1 + 1 : 0;
      if (q.length > 0 && source[i + 1] === '?') i++; // lazy
      continue;
    } else if (c === '|') {
      top.alternates = true;
    } else {
      const q = quantifierAt(i);
      if (q.length > 0) {
        top.repeats = true;
        i += q.length - 1;
      }
    }
  }
  return undefined;
}
