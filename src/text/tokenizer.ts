/**
 * A HF `tokenizer.json` tokenizer of the SentencePiece-Unigram kind (umT5's), run the way
 * wan's `HuggingfaceTokenizer` calls it: optional prompt cleaning, `add_special_tokens`
 * (the post-processor's `$A </s>` template), truncation to `maxLength` keeping room for the
 * special tokens, right padding with the pad id, and an attention mask.
 *
 * Pipeline per text: split out added tokens (`</s>`, `<pad>`, `<extra_id_N>` … match the
 * raw text first), normalize each remaining section, pre-tokenize it into words, Viterbi
 * each word with the Unigram model.
 */
import { readFileSync } from 'node:fs';
import { cleanPrompt } from './clean.js';
import { TokenizerFormatError } from './errors.js';
import { buildNormalizer, UnsupportedComponentError, type Normalize, type NormalizerJson } from './normalizers.js';
import { buildPreTokenizer, type PreTokenize, type PreTokenizerJson } from './pre-tokenizers.js';
import { UnigramModel, type UnigramJson } from './unigram.js';
import { jsonErrorMessage } from '../io/input-file.js';

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
}

type TemplatePiece = { Sequence: { id: string } } | { SpecialToken: { id: string } };

interface PostProcessorJson {
  type: string;
  single?: TemplatePiece[];
  special_tokens?: Record<string, { ids: number[] }>;
}

export interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  normalizer?: NormalizerJson | null;
  pre_tokenizer?: PreTokenizerJson | null;
  post_processor?: PostProcessorJson | null;
  model: UnigramJson | { type: string };
}

export interface EncodeOptions {
  /** Pad/truncate to this many ids, special tokens included (wan: text_len = 512). */
  maxLength: number;
  /** Apply the official prompt cleaning first (default true, as wan's clean='whitespace'). */
  clean?: boolean;
}

export interface Encoding {
  /** The text actually tokenized (after cleaning). */
  text: string;
  ids: BigInt64Array;
  mask: BigInt64Array;
  /** Number of real tokens (mask ones), EOS included. */
  length: number;
  /** Present when the text did not fit: how many tokens were cut. Returned, never printed. */
  truncation?: TruncationWarning;
}

export interface TruncationWarning {
  message: string;
  droppedTokens: number;
  totalTokens: number;
}

export class Tokenizer {
  readonly model: UnigramModel;
  readonly padId: number;
  private readonly normalize: Normalize;
  private readonly preTokenize: PreTokenize;
  /** Added tokens by first UTF-16 unit, longest first so `<extra_id_10>` wins over `<extra_id_1>`. */
  private readonly addedByFirst = new Map<string, AddedTokenJson[]>();
  private readonly prefixIds: number[];
  private readonly specialIds = new Set<number>();
  private readonly suffixIds: number[];

  constructor(json: TokenizerJson, readonly source = '<tokenizer.json>') {
    if (json.model?.type !== 'Unigram') throw new TokenizerFormatError(source, `model type ${json.model?.type} is not supported; only SentencePiece Unigram tokenizers (umT5) are`);
    if (!Array.isArray((json.model as UnigramJson).vocab)) throw new TokenizerFormatError(source, 'the Unigram model has no vocab list; the file is truncated or not a tokenizer.json');
    try {
      this.model = new UnigramModel(json.model as UnigramJson);
      this.normalize = buildNormalizer(json.normalizer);
      this.preTokenize = buildPreTokenizer(json.pre_tokenizer);
    } catch (e) {
      if (e instanceof UnsupportedComponentError) throw new TokenizerFormatError(source, `${e.message}; this tokenizer is not of umT5's kind`);
      // e.g. a Replace regex in Oniguruma syntax that JS cannot compile, or a corrupt charsmap
      throw new TokenizerFormatError(source, `cannot use this tokenizer: ${(e as Error).message}`);
    }
    for (const token of [...(json.added_tokens ?? [])].sort((a, b) => b.content.length - a.content.length)) {
      if (!token.content) continue;
      const list = this.addedByFirst.get(token.content[0]) ?? [];
      list.push(token);
      this.addedByFirst.set(token.content[0], list);
    }
    for (const t of json.added_tokens ?? []) if (t.special) this.specialIds.add(t.id);
    const pad = this.specialId(json, '<pad>');
    if (pad === undefined) throw new TokenizerFormatError(source, 'no <pad> token; umT5 tokenizers pad with <pad>');
    this.padId = pad;
    [this.prefixIds, this.suffixIds] = this.template(json);
  }

  static fromFile(path: string): Tokenizer {
    let json: TokenizerJson;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
    } catch (e) {
      throw new TokenizerFormatError(path, `cannot read tokenizer.json (${jsonErrorMessage(e)})`);
    }
    return new Tokenizer(json, path);
  }

  private specialId(json: TokenizerJson, content: string): number | undefined {
    return json.added_tokens?.find((t) => t.content === content)?.id ?? this.model.tokenToId(content);
  }

  /** Ids around `$A` from a TemplateProcessing post-processor; without one, T5's `$A </s>`. */
  private template(json: TokenizerJson): [number[], number[]] {
    const post = json.post_processor;
    if (!post) {
      const eos = this.specialId(json, '</s>');
      if (eos === undefined) throw new TokenizerFormatError(this.source, 'no post_processor and no </s> token');
      return [[], [eos]];
    }
    if (post.type !== 'TemplateProcessing' || !post.single) throw new TokenizerFormatError(this.source, `post_processor ${post.type} is not supported (expected TemplateProcessing)`);
    const before: number[] = [];
    const after: number[] = [];
    let seenSequence = false;
    for (const piece of post.single) {
      if ('Sequence' in piece) seenSequence = true;
      else {
        const ids = post.special_tokens?.[piece.SpecialToken.id]?.ids;
        if (!ids) throw new TokenizerFormatError(this.source, `template token ${piece.SpecialToken.id} has no ids`);
        (seenSequence ? after : before).push(...ids);
      }
    }
    return [before, after];
  }

  /** Number of ids the post-processor adds (1 for umT5: the trailing </s>). */
  get specialTokenCount(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  /** Token ids of `text` without special tokens, padding or truncation (no cleaning). */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    let first = true;
    for (const part of this.splitAdded(text)) {
      if (typeof part === 'number') ids.push(part);
      else if (part.length > 0) {
        for (const word of this.preTokenize(this.normalize(part), first)) ids.push(...this.model.encodeWord(word));
      }
      first = false;
    }
    return ids;
  }

  /** Splits the raw text around added tokens, which map straight to their ids. */
  private splitAdded(text: string): (string | number)[] {
    if (this.addedByFirst.size === 0) return [text];
    const out: (string | number)[] = [];
    let sectionStart = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.addedByFirst.get(text[i])?.find((t) => text.startsWith(t.content, i));
      if (!hit) {
        i++;
        continue;
      }
      let section = text.slice(sectionStart, i);
      if (hit.lstrip) section = section.trimEnd();
      if (section) out.push(section);
      out.push(hit.id);
      i += hit.content.length;
      if (hit.rstrip) while (i < text.length && /\s/u.test(text[i])) i++;
      sectionStart = i;
    }
    if (sectionStart < text.length) out.push(text.slice(sectionStart));
    return out;
  }

  /** Text of `ids` (specials and padding skipped, byte pieces reassembled, '▁' → ' '); for inspection and tests. */
  decode(ids: ArrayLike<number | bigint>): string {
    const bytes: number[] = [];
    let out = '';
    const flush = (): void => {
      if (bytes.length) out += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      if (this.specialIds.has(id)) continue;
      const piece = this.model.pieces[id] ?? '';
      const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
      if (byte && this.model.byteFallback) {
        bytes.push(parseInt(byte[1], 16));
        continue;
      }
      flush();
      out += piece;
    }
    flush();
    return out.replaceAll('\u2581', ' ').replace(/^ /, '');
  }

  encode(text: string, options: EncodeOptions): Encoding {
    const cleaned = options.clean === false ? text : cleanPrompt(text);
    const body = this.tokenize(cleaned);
    const room = options.maxLength - this.specialTokenCount;
    if (room < 0) throw new RangeError(`maxLength ${options.maxLength} cannot hold the ${this.specialTokenCount} special tokens`);
    const kept = body.length > room ? body.slice(0, room) : body;
    const all = [...this.prefixIds, ...kept, ...this.suffixIds];
    const ids = new BigInt64Array(options.maxLength).fill(BigInt(this.padId));
    const mask = new BigInt64Array(options.maxLength);
    all.forEach((id, i) => {
      ids[i] = BigInt(id);
      mask[i] = 1n;
    });
    const encoding: Encoding = { text: cleaned, ids, mask, length: all.length };
    if (body.length > room) {
      const dropped = body.length - room;
      encoding.truncation = {
        droppedTokens: dropped,
        totalTokens: body.length + this.specialTokenCount,
        message: `prompt is ${body.length + this.specialTokenCount} tokens, longer than the encoder's ${options.maxLength}; the last ${dropped} tokens were dropped`,
      };
    }
    return encoding;
  }
}
