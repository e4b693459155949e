/**
 * Issue 18: a tokenizer.json Replace normalizer with `(a+)+$` hung tokenization for minutes.
 * Patterns that can backtrack catastrophically are refused when the tokenizer is loaded.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TokenizerFormatError } from '../../src/text/errors.js';
import { unsafePatternReason } from '../../src/text/safe-regex.js';
import { Tokenizer, type TokenizerJson } from '../../src/text/tokenizer.js';

const fixture = (): TokenizerJson => JSON.parse(readFileSync(new URL('./fixtures/tokenizer.json', import.meta.url), 'utf8')) as TokenizerJson;

describe('untrusted tokenizer patterns', () => {
  it('refuses nested quantifiers, repeated alternations and backreferences', () => {
    for (const p of ['(a+)+$', '(a*)*', '(?:a+){2,}', '(a|aa)+', '((ab)*c)+', '(.*a){1,}', '(a)\\1', '(?<x>a)\\k<x>', 'a'.repeat(1001)]) {
      expect(unsafePatternReason(p), p).toBeDefined();
    }
  });

  it('accepts what tokenizers use', () => {
    for (const p of [' {2,}', '\\s+', '[\\p{P}]+', '(\\d+)', '(ab)?c+', '^\\s+|\\s+$', '(a+)?', '[(+)]+', '(a){3}']) {
      expect(unsafePatternReason(p), p).toBeUndefined();
    }
  });

  it('a tokenizer.json with a catastrophic Replace pattern fails fast with a clear error', () => {
    const json = fixture() as TokenizerJson & { normalizer: unknown };
    json.normalizer = { type: 'Replace', pattern: { Regex: '(a+)+$' }, content: '' };
    const started = Date.now();
    let error: unknown;
    try {
      new Tokenizer(json, 'evil/tokenizer.json').encode(`${'a'.repeat(40)}!`, { maxLength: 64 });
    } catch (err) {
      error = err;
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(TokenizerFormatError);
    expect((error as Error).message).toMatch(/evil\/tokenizer\.json.*"\(a\+\)\+\$" is refused: .*nested quantifiers/);
  });
});
