/**
 * SentencePiece's `precompiled_charsmap` (the `Precompiled` normalizer of a HF tokenizer.json):
 * a little-endian u32 trie size, a darts-clone double-array trie over UTF-8 bytes of that
 * size, then a blob of NUL-terminated replacement strings the trie's values point into.
 *
 * Matching follows the HF implementation exactly, including its quirks: each extended
 * grapheme cluster shorter than 6 UTF-8 bytes is looked up whole and, on a hit, replaced by
 * the value of the *shortest* matching prefix; otherwise each code point is looked up alone.
 */
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const value = (unit: number): number => unit & 0x7fffffff;
const label = (unit: number): number => unit & 0x800000ff;
const offset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

export class DoubleArrayTrie {
  constructor(private readonly units: Uint32Array) {}

  /** Values of every key in the trie that is a prefix of `key` (shortest first). */
  commonPrefixSearch(key: Uint8Array): number[] {
    const results: number[] = [];
    let pos = offset(this.units[0]);
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      const unit = this.units[pos];
      if (unit === undefined || label(unit) !== c) return results;
      pos ^= offset(unit);
      if (hasLeaf(unit)) results.push(value(this.units[pos]));
    }
    return results;
  }
}

const NO_RULE = '\u0000no-rule';
/**
 * Text made only of code points that always form a grapheme on their own (ASCII but CR,
 * Latin-1/Latin Extended letters, CJK punctuation, kana, CJK ideographs, fullwidth forms;
 * no combining marks, joiners, modifiers or jamo) needs no grapheme segmentation.
 */
const STANDALONE_ONLY = /^[\x00-\x0c\x0e-\x7f\u00a0-\u024f\u3000-\u3029\u3030-\u3098\u309b-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff9d]*$/;

export class PrecompiledCharsmap {
  private readonly trie: DoubleArrayTrie;
  private readonly normalized: Uint8Array;
  private readonly segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  private readonly memo = new Map<string, string>();

  constructor(blob: Uint8Array) {
    if (blob.byteLength < 4) throw new Error('precompiled_charsmap is shorter than its header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 || 4 + trieBytes > blob.byteLength) throw new Error(`precompiled_charsmap declares a ${trieBytes}-byte trie that does not fit`);
    const units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
    this.trie = new DoubleArrayTrie(units);
    this.normalized = blob.slice(4 + trieBytes);
  }

  static fromBase64(b64: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(new Uint8Array(Buffer.from(b64, 'base64')));
  }

  /** The replacement for `chunk`, or undefined when no rule starts it. */
  transform(chunk: string): string | undefined {
    const hits = this.trie.commonPrefixSearch(utf8.encode(chunk));
    if (hits.length === 0) return undefined;
    const start = hits[0];
    let end = start;
    while (end < this.normalized.length && this.normalized[end] !== 0) end++;
    return utf8Decoder.decode(this.normalized.subarray(start, end));
  }

  /** transform() memoized per chunk: prompts repeat the same few hundred graphemes. */
  private cached(chunk: string): string | undefined {
    let hit = this.memo.get(chunk);
    if (hit === undefined) {
      if (this.memo.size > 65536) this.memo.clear();
      hit = this.transform(chunk) ?? NO_RULE;
      this.memo.set(chunk, hit);
    }
    return hit === NO_RULE ? undefined : hit;
  }

  normalize(text: string): string {
    let out = '';
    if (STANDALONE_ONLY.test(text)) {
      for (const ch of text) out += this.cached(ch) ?? ch;
      return out;
    }
    for (const { segment } of this.segmenter.segment(text)) {
      if (utf8.encode(segment).length < 6) {
        const whole = this.cached(segment);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const ch of segment) out += this.cached(ch) ?? ch;
    }
    return out;
  }
}
