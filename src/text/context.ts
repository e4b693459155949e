/**
 * Prompt → text context, as the official pipeline builds it: clean, tokenize (EOS, padding,
 * truncation to text_len), run the umT5 encoder, keep the rows of real tokens. The DiT's
 * text embedding zero-pads them back to text_len.
 *
 * Two savings over the official path, neither changing the result:
 *  - the encoder runs on the real tokens only, not on text_len padded ones: padded keys get
 *    float32's minimum as bias, so their softmax weight is exactly 0 and the real rows do not
 *    depend on them (`padToTextLen: true` restores the official padded run);
 *  - encoded prompts are cached by their cleaned text (LRU), so a batch encodes each
 *    distinct prompt, and the shared negative prompt, once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TextContext } from '../core/types.js';
import type { SessionOptions } from '../runtime/session.js';
import { T5_FILES } from '../models/wan/t5/convert.js';
import { loadT5Encoder, readT5Manifest, type T5Encoder } from '../models/wan/t5/session.js';
import { cleanPrompt } from './clean.js';
import { TextModelError } from './errors.js';
import { Tokenizer, type TruncationWarning } from './tokenizer.js';

/** `sample_neg_prompt` of the official Wan2.1 configuration, used when no negative prompt is given. */
export const DEFAULT_NEGATIVE_PROMPT = '色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走';

/** A text context plus what produced it. Assignable to TextContext. Shared by cache hits: treat as read-only. */
export interface EncodedPrompt extends TextContext {
  /** The cleaned text that was tokenized (the cache key). */
  text: string;
  /** Token count, EOS included (= shape[0]). */
  tokens: number;
  /** Set when the prompt was longer than text_len and was cut. */
  truncation?: TruncationWarning;
}

export interface TextEncoderOptions extends SessionOptions {
  /** How many encoded prompts to keep (default 64). */
  cacheSize?: number;
  /** Run the encoder on all text_len positions as the official code does (slower, same rows). */
  padToTextLen?: boolean;
}

export class TextEncoder {
  private readonly cache = new Map<string, Promise<EncodedPrompt>>();
  private readonly cacheSize: number;
  private readonly padToTextLen: boolean;

  constructor(readonly tokenizer: Tokenizer, readonly encoder: T5Encoder, options: TextEncoderOptions = {}) {
    this.cacheSize = options.cacheSize ?? 64;
    this.padToTextLen = options.padToTextLen ?? false;
    const vocab = tokenizer.model.pieces.length;
    if (vocab > encoder.config.vocab) throw new TextModelError(`the tokenizer has ${vocab} pieces but the encoder embeds only ${encoder.config.vocab}; they are from different models`);
  }

  /** Loads a converted folder: text_encoder.onnx/.weights/.json and tokenizer.json. */
  static async load(modelDir: string, options: TextEncoderOptions = {}): Promise<TextEncoder> {
    for (const file of [T5_FILES.config, T5_FILES.tokenizer, T5_FILES.model]) {
      // A layered encoder (issue 17) reads the checkpoint and has no ONNX file.
      if (file === T5_FILES.model && readT5Manifest(modelDir).storedAs === 'checkpoint') continue;
      if (!existsSync(join(modelDir, file))) throw new TextModelError(`${join(modelDir, file)} is missing; convert the text encoder first (it writes ${T5_FILES.model}, ${T5_FILES.config} and copies ${T5_FILES.tokenizer})`);
    }
    const tokenizer = Tokenizer.fromFile(join(modelDir, T5_FILES.tokenizer));
    return new TextEncoder(tokenizer, await loadT5Encoder(modelDir, options), options);
  }

  get textLen(): number {
    return this.encoder.config.textLen;
  }

  /** The context of `prompt`; repeated prompts (same text after cleaning) come from the cache. */
  encode(prompt: string): Promise<EncodedPrompt> {
    const key = cleanPrompt(prompt);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // move to the most-recent end
      this.cache.set(key, hit);
      return hit;
    }
    const pending = this.run(key);
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key)); // a failed run must not poison the cache
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return pending;
  }

  /** The negative prompt's context; empty or missing means the official default. */
  encodeNegative(prompt?: string): Promise<EncodedPrompt> {
    return this.encode(prompt && prompt.trim() ? prompt : DEFAULT_NEGATIVE_PROMPT);
  }

  private async run(cleaned: string): Promise<EncodedPrompt> {
    const textLen = this.textLen;
    const enc = this.tokenizer.encode(cleaned, { maxLength: textLen, clean: false });
    const length = this.padToTextLen ? textLen : enc.length;
    const [context] = await this.encoder.encodeTrimmed(enc.ids.subarray(0, length), enc.mask.subarray(0, length), 1);
    const result: EncodedPrompt = { data: context.data, shape: context.shape, text: cleaned, tokens: enc.length };
    if (enc.truncation) result.truncation = enc.truncation;
    return result;
  }
}
