/**
 * Tokenizer tests on our own umT5-format tokenizer.json (test/text/fixtures/make-tokenizer.ts).
 * Expected ids are written as pieces and looked up in the fixture's vocabulary list, and the
 * chosen segmentations follow from the scores there (reasoning noted per case).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer, type TokenizerJson } from '../../src/text/tokenizer.js';
import { cleanPrompt } from '../../src/text/clean.js';
import { unescapeHtml } from '../../src/text/html-entities.js';
import { PrecompiledCharsmap } from '../../src/text/precompiled-charsmap.js';
import { readPromptFile } from '../../src/text/prompt-file.js';
import { PromptEncodingError, TokenizerFormatError } from '../../src/text/errors.js';
import { DEFAULT_NEGATIVE_PROMPT } from '../../src/text/context.js';
import { buildCharsmap, CHARSMAP_RULES } from './fixtures/make-tokenizer.js';

const jsonPath = fileURLToPath(new URL('./fixtures/tokenizer.json', import.meta.url));
const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as TokenizerJson & { model: { vocab: [string, number][] } };
const tok = Tokenizer.fromFile(jsonPath);
const vocab = json.model.vocab.map(([p]) => p);
/** Id of a piece, from the vocabulary list itself (not from the tokenizer under test). */
const id = (piece: string): number => {
  const i = vocab.indexOf(piece);
  if (i < 0) throw new Error(`test vocabulary has no ${piece}`);
  return i;
};
const ids = (...pieces: string[]): number[] => pieces.map(id);
const bytePieces = (s: string): number[] => Array.from(new TextEncoder().encode(s), (b) => id(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
const EOS = 1;
const body = (text: string, maxLength = 512): number[] => {
  const e = tok.encode(text, { maxLength });
  return Array.from(e.ids.subarray(0, e.length), Number);
};
const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-text-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Unigram tokenizer (umT5 format)', () => {
  it('segments English words by best total score', () => {
    // '▁running' (-5.5) beats '▁run'+'ning' (-12.5); '▁'+'snow' (-8) beats '▁s'+'now' (-13.6).
    expect(body('a red fox running through snow')).toEqual([...ids('▁a', '▁red', '▁fox', '▁running', '▁through', '▁', 'snow'), EOS]);
    // 'cats' has no piece: '▁cat' (-5.3) + 's' letter (-8.18).
    expect(body('cats')).toEqual([...ids('▁cat', 's'), EOS]);
  });

  it('normalizes fullwidth punctuation through the charsmap and segments Chinese', () => {
    // '，' → ',' (charsmap); no spaces, so one word: '▁色调' (-7) beats '▁'+'色'+'调' (-21), '静态' (-6) beats '静'+'态' (-19.2).
    expect(body('色调艳丽，过曝，静态')).toEqual([...ids('▁色调', '艳丽', ',', '过曝', ',', '静态'), EOS]);
    // '▁静' exists and wins only at a word start: '▁静'+'态' (-17.6) vs '▁'+'静态' (-8) → the latter.
    expect(body('静态')).toEqual([...ids('▁', '静态'), EOS]);
  });

  it('spells unknown characters as UTF-8 bytes (byte fallback), fusing runs', () => {
    expect(body('🦊')).toEqual([...ids('▁', '🦊'), EOS]);
    expect(body('🔥')).toEqual([id('▁'), ...bytePieces('🔥'), EOS]);
    expect(body('🦊🔥🔥 fox')).toEqual([...ids('▁', '🦊'), ...bytePieces('🔥🔥'), id('▁fox'), EOS]);
    // 畸形 is not in the vocabulary: both characters become bytes.
    expect(body('畸形')).toEqual([id('▁'), ...bytePieces('畸形'), EOS]);
  });

  it('uses one <unk> for a run of unknowns without byte fallback', () => {
    const noBytes = new Tokenizer({ ...json, model: { ...json.model, byte_fallback: false } } as TokenizerJson);
    const e = noBytes.encode('🔥🔥 fox', { maxLength: 8 });
    expect(Array.from(e.ids, Number)).toEqual([id('▁'), 2, id('▁fox'), EOS, 0, 0, 0, 0]);
  });

  it('applies the charsmap by grapheme, as HF does', () => {
    const cm = PrecompiledCharsmap.fromBase64(Buffer.from(buildCharsmap(CHARSMAP_RULES)).toString('base64'));
    expect(cm.normalize('Ａ ①！ﬁ™')).toBe('A 1!fiTM');
    expect(cm.normalize('cafe\u0301')).toBe('café');
    // A grapheme shorter than 6 bytes takes the value of its shortest matching prefix: the accent is lost.
    expect(cm.normalize('\uff21\u0301')).toBe('A');
    expect(cm.normalize('no rule here 🦊')).toBe('no rule here 🦊');
    // text without joining characters skips grapheme segmentation; same result
    expect(cm.normalize('色调，Ａ\u3000x')).toBe('色调,A x');
    // Without cleaning (no NFC), the two-code-point grapheme e+◌́ is mapped by the charsmap.
    const e = tok.encode('cafe\u0301', { maxLength: 8, clean: false });
    expect(Array.from(e.ids.subarray(0, e.length), Number)).toEqual([...ids('▁caf', 'é'), EOS]);
    // 'Ａ' → 'A': '▁A' piece (-6.4) beats '▁'+'A' (-11).
    expect(body('Ａ ①！')).toEqual([...ids('▁A', '▁', '1', '!'), EOS]);
  });

  it('maps added tokens in the raw text to their ids', () => {
    expect(body('a </s> fox')).toEqual([id('▁a'), EOS, id('▁fox'), EOS]);
  });

  it('cleans prompts like the official pipeline before tokenizing', () => {
    expect(body('Tom &amp; Jerry')).toEqual([...ids('▁Tom', '▁', '&', '▁Jerry'), EOS]);
    expect(body('  a\t\n red \u3000 fox  ')).toEqual([...ids('▁a', '▁red', '▁fox'), EOS]);
    // curly quotes are uncurled (ftfy), then '"' is a plain piece
    expect(body('\u201ca fox\u201d')).toEqual([...ids('▁', '"', 'a', '▁fox', '"'), EOS]);
  });

  it('gives just EOS for an empty or blank prompt', () => {
    for (const text of ['', '   \n\t ']) {
      const e = tok.encode(text, { maxLength: 6 });
      expect(Array.from(e.ids, Number)).toEqual([EOS, 0, 0, 0, 0, 0]);
      expect(Array.from(e.mask, Number)).toEqual([1, 0, 0, 0, 0, 0]);
      expect(e.length).toBe(1);
      expect(e.truncation).toBeUndefined();
    }
  });

  it('pads with <pad> and masks the padding', () => {
    const e = tok.encode('a red fox', { maxLength: 6 });
    expect(Array.from(e.ids, Number)).toEqual([...ids('▁a', '▁red', '▁fox'), EOS, 0, 0]);
    expect(Array.from(e.mask, Number)).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('truncates long prompts to text_len with EOS kept and returns a warning', () => {
    const prompt = Array.from({ length: 10 }, () => 'a red fox').join(' ');
    const e = tok.encode(prompt, { maxLength: 24 });
    const three = ids('▁a', '▁red', '▁fox');
    const want = [...Array.from({ length: 7 }, () => three).flat(), ...three.slice(0, 2), EOS];
    expect(Array.from(e.ids, Number)).toEqual(want);
    expect(Array.from(e.mask, Number)).toEqual(new Array(24).fill(1));
    expect(e.truncation).toMatchObject({ droppedTokens: 7, totalTokens: 31 });
    expect(e.truncation?.message).toContain('24');
  });

  it('tokenizes the default Chinese negative prompt without loss', () => {
    const e = tok.encode(DEFAULT_NEGATIVE_PROMPT, { maxLength: 512 });
    expect(e.truncation).toBeUndefined();
    expect(Array.from(e.ids.subarray(0, 7), Number)).toEqual(ids('▁色调', '艳丽', ',', '过曝', ',', '静态', ','));
    expect(e.ids[e.length - 1]).toBe(1n);
    expect(tok.decode(e.ids)).toBe(DEFAULT_NEGATIVE_PROMPT.replaceAll('，', ','));
  });

  it('rejects tokenizer files of another kind with a clear error', () => {
    expect(() => new Tokenizer({ model: { type: 'BPE' } } as TokenizerJson, 'x/tokenizer.json')).toThrow(TokenizerFormatError);
    expect(() => new Tokenizer({ ...json, pre_tokenizer: { type: 'ByteLevel' } } as TokenizerJson, 'x/tokenizer.json')).toThrow(/ByteLevel/);
    expect(() => new Tokenizer({ model: { type: 'Unigram' } } as TokenizerJson, 'x/tokenizer.json')).toThrow(/no vocab/);
    const badRegex = { ...json, normalizer: { type: 'Replace', pattern: { Regex: '(?<' }, content: '' } };
    expect(() => new Tokenizer(badRegex as TokenizerJson, 'x/tokenizer.json')).toThrow(TokenizerFormatError);
    const bad = join(tmp, 'broken.json');
    writeFileSync(bad, '{ not json');
    expect(() => Tokenizer.fromFile(bad)).toThrow(TokenizerFormatError);
  });
});

describe('prompt cleaning', () => {
  it('unescapes HTML like Python html.unescape', () => {
    expect(unescapeHtml('Tom &amp; Jerry &lt;3 &#39;x&#x27; &copy 2024 &eacute;t&eacute; &bogus; &ampfoo')).toBe("Tom & Jerry <3 'x' © 2024 été &bogus; &foo");
    expect(unescapeHtml('&#128; &#0; &#xD800; &#1;')).toBe('\u20ac \ufffd \ufffd ');
  });

  it('unescapes up to three times (ftfy auto, then twice) and collapses whitespace', () => {
    expect(cleanPrompt('&amp;amp;lt;b&amp;gt;')).toBe('<b>');
    // with a literal '<' ftfy leaves entities alone; the two html.unescape calls still run
    expect(cleanPrompt('<i>&amp;amp;amp;</i>')).toBe('<i>&amp;</i>');
    expect(cleanPrompt(' \u00a0a\u2028b\r\nc\u3000d\u200b ')).toBe('a b c d\u200b');
    expect(cleanPrompt('\x1b[31mred\x1b[0m ﬁne ｆｏｘ')).toBe('red fine fox');
  });
});

describe('readPromptFile', () => {
  it('reads UTF-8 prompts one per line', () => {
    const p = join(tmp, 'ok.txt');
    writeFileSync(p, '\ufeffa red fox\n\n  色调艳丽 🦊 \r\n');
    expect(readPromptFile(p)).toEqual({ text: 'a red fox\n\n  色调艳丽 🦊 \r\n', prompts: ['a red fox', '色调艳丽 🦊'], warnings: [] });
  });

  it('rejects invalid UTF-8 naming the byte offset, or replaces it when asked', () => {
    const p = join(tmp, 'bad.txt');
    writeFileSync(p, Buffer.concat([Buffer.from('a fox '), Buffer.from([0xe8, 0x89]), Buffer.from(' ok')]));
    expect(() => readPromptFile(p)).toThrow(PromptEncodingError);
    expect(() => readPromptFile(p)).toThrow(/byte 6/);
    const r = readPromptFile(p, { onInvalid: 'replace' });
    expect(r.prompts).toEqual(['a fox \ufffd ok']);
    expect(r.warnings[0]).toMatch(/byte 6/);
    for (const [bytes, at] of [[[0x61, 0xc0, 0x80], 1], [[0xed, 0xa0, 0x80], 0], [[0x61, 0x62, 0xf0, 0x9f], 2], [[0xff], 0]] as const) {
      writeFileSync(p, Buffer.from(bytes));
      expect(() => readPromptFile(p)).toThrow(new RegExp(`byte ${at};`));
    }
  });
});
