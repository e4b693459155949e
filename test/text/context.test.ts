import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy.js';
import { convertT5Encoder, convertT5EncoderFile, T5_FILES } from '../../src/models/wan/t5/convert.js';
import { T5EncoderSession } from '../../src/models/wan/t5/session.js';
import { t5Keys } from '../../src/models/wan/t5/config.js';
import type { TensorInfo, WeightSource } from '../../src/weights/index.js';
import { originalToDiffusers } from '../../src/weights/keymaps.js';
import { DEFAULT_NEGATIVE_PROMPT, TextEncoder } from '../../src/text/context.js';
import { cleanPrompt } from '../../src/text/clean.js';
import { TextModelError } from '../../src/text/errors.js';

const fixtures = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/t5/', import.meta.url));
const tokenizerJson = fileURLToPath(new URL('./fixtures/tokenizer.json', import.meta.url));
// A plain Uint8Array copy: parseNpy's slice must not alias a pooled Node Buffer.
const npy = (name: string) => parseNpy(new Uint8Array(readFileSync(`${fixtures}${name}.npy`)), name);
const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-t5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A random umT5-shaped state dict held in memory (vocab large enough for the test tokenizer). */
function randomT5Source(cfg: { vocab: number; dim: number; ffn: number; heads: number; layers: number }): WeightSource {
  const shapes = new Map<string, number[]>([[t5Keys.embedding, [cfg.vocab, cfg.dim]], [t5Keys.finalNorm, [cfg.dim]]]);
  for (let i = 0; i < cfg.layers; i++) {
    const k = t5Keys.block(i);
    for (const key of [k.q, k.k, k.v, k.o]) shapes.set(key, [cfg.dim, cfg.dim]);
    shapes.set(k.norm1, [cfg.dim]).set(k.norm2, [cfg.dim]).set(k.gate, [cfg.ffn, cfg.dim]).set(k.fc1, [cfg.ffn, cfg.dim]).set(k.fc2, [cfg.dim, cfg.ffn]).set(k.posEmbedding, [32, cfg.heads]);
  }
  let seed = 12345;
  // 31-bit LCG in exact integer arithmetic (Math.imul), mapped to [-1, 1)
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 1073741824) - 1;
  const data = new Map([...shapes].map(([key, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = shape.length === 1 ? 0.1 : key.includes('pos_embedding') ? 0.5 : 1 / Math.sqrt(shape[1]);
    return [key, Float32Array.from({ length: n }, () => (shape.length === 1 ? 1 : 0) + scale * rand())];
  }));
  const info = (key: string): TensorInfo => ({ name: key, dtype: 'F32', shape: shapes.get(key)! });
  // Built as a variable, not a literal, so it satisfies WeightSource whether or not it declares readI64/readRaw.
  const source = {
    path: '<memory>', keys: () => [...shapes.keys()], has: (k: string) => shapes.has(k), info,
    readF32: async (k: string) => data.get(k)!.slice(),
    readI64: async (): Promise<BigInt64Array> => { throw new Error('no int64 tensors'); },
    readRaw: async (k: string) => new Uint8Array(data.get(k)!.slice().buffer),
    close: async () => {},
  };
  return source;
}

describe('umT5 encoder conversion and the official trimmed outputs', () => {
  const dir = join(tmp, 'fixture-f32');
  beforeAll(async () => {
    await convertT5EncoderFile(`${fixtures}umt5_tiny_enc_bf16.pth`, dir, { numHeads: 4, textLen: 24 });
  });

  it('writes an ONNX model with external weights that reproduces output_0/1', async () => {
    expect(statSync(join(dir, 'text_encoder.weights')).size).toBeGreaterThanOrEqual(30496 * 4);
    const manifest = JSON.parse(readFileSync(join(dir, T5_FILES.config), 'utf8'));
    expect(manifest.config).toMatchObject({ vocab: 300, dim: 32, numHeads: 4, numLayers: 2, textLen: 24 });
    const enc = await T5EncoderSession.load(dir);
    const ids = npy('ids').data as BigInt64Array;
    const mask = npy('mask').data as BigInt64Array;
    const padded = await enc.run(ids, mask, 2);
    expect(maxAbsDiff(padded, npy('output_padded').data as Float32Array)).toBeLessThan(1e-4);
    const [c0, c1] = await enc.encodeTrimmed(ids, mask, 2);
    expect(c0.shape).toEqual([10, 32]);
    expect(c1.shape).toEqual([17, 32]);
    expect(maxAbsDiff(c0.data, npy('output_0').data as Float32Array)).toBeLessThan(1e-4);
    expect(maxAbsDiff(c1.data, npy('output_1').data as Float32Array)).toBeLessThan(1e-4);
    // Unpadded runs (real tokens only) give the same rows: padding keys carry zero weight.
    for (const [b, want, n] of [[0, 'output_0', 10], [1, 'output_1', 17]] as const) {
      const [c] = await enc.encodeTrimmed(ids.slice(b * 24, b * 24 + n), mask.slice(b * 24, b * 24 + n), 1);
      expect(maxAbsDiff(c.data, npy(want).data as Float32Array)).toBeLessThan(1e-4);
    }
  });

  it('stores the matrices as float16 on request and stays close', async () => {
    const half = join(tmp, 'fixture-f16');
    await convertT5EncoderFile(`${fixtures}umt5_tiny_enc_bf16.pth`, half, { numHeads: 4, textLen: 24, storeAs: 'float16' });
    expect(statSync(join(half, 'text_encoder.weights')).size).toBeLessThan(statSync(join(dir, 'text_encoder.weights')).size);
    const enc = await T5EncoderSession.load(half);
    const out = await enc.run(npy('ids').data as BigInt64Array, npy('mask').data as BigInt64Array, 2);
    expect(maxAbsDiff(out, npy('output_padded').data as Float32Array)).toBeLessThan(1e-2);
  });
});

describe('TextEncoder', () => {
  const dir = join(tmp, 'random');
  let encoder: TextEncoder;
  beforeAll(async () => {
    await convertT5Encoder(randomT5Source({ vocab: 512, dim: 32, ffn: 64, heads: 4, layers: 2 }), dir, { numHeads: 4, textLen: 16, tokenizerPath: tokenizerJson });
    encoder = await TextEncoder.load(dir, { cacheSize: 3 });
  });

  it('encodes a prompt to its trimmed rows, equal to the padded official run', async () => {
    const ctx = await encoder.encode('a red fox');
    expect(ctx.shape).toEqual([4, 32]);
    expect(ctx.tokens).toBe(4);
    const padded = await TextEncoder.load(dir, { padToTextLen: true });
    const ref = await padded.encode('a red fox');
    expect(ref.shape).toEqual([4, 32]);
    expect(maxAbsDiff(ctx.data, ref.data)).toBeLessThan(1e-5);
  });

  it('caches by cleaned text and evicts the least recently used', async () => {
    const before = encoder.encoder.runs;
    const a = await encoder.encode('a cat');
    const b = await encoder.encode('  a   cat ');
    expect(b).toBe(a);
    expect(encoder.encoder.runs).toBe(before + 1);
    await encoder.encode('fox 1');
    await encoder.encode('fox 2');
    await encoder.encode('fox 3'); // 'a cat' is now the oldest of 4 > 3 → evicted
    await encoder.encode('a cat');
    expect(encoder.encoder.runs).toBe(before + 5);
  });

  it('uses the official negative prompt by default and reports truncation', async () => {
    const neg = await encoder.encodeNegative();
    expect(neg.text).toBe(cleanPrompt(DEFAULT_NEGATIVE_PROMPT));
    expect(neg.shape).toEqual([16, 32]); // text_len 16 here: the prompt is cut
    expect(neg.truncation?.droppedTokens).toBeGreaterThan(0);
    expect(await encoder.encodeNegative('')).toBe(neg);
    const empty = await encoder.encode('');
    expect(empty.shape).toEqual([1, 32]); // EOS only
  });

  it('converts HF UMT5EncoderModel names to the same model', async () => {
    const original = randomT5Source({ vocab: 512, dim: 32, ffn: 64, heads: 4, layers: 2 });
    const rename = new Map(original.keys().map((k) => [originalToDiffusers('t5', k), k]));
    expect(rename.has('encoder.block.1.layer.1.DenseReluDense.wi_0.weight')).toBe(true);
    const hf: WeightSource = {
      ...original,
      keys: () => [...rename.keys()],
      has: (k) => rename.has(k),
      info: (k) => ({ ...original.info(rename.get(k)!), name: k }),
      readF32: (k) => original.readF32(rename.get(k)!),
    };
    const hfDir = join(tmp, 'random-hf');
    await convertT5Encoder(hf, hfDir, { numHeads: 4, textLen: 16, tokenizerPath: tokenizerJson });
    const viaHf = await (await TextEncoder.load(hfDir)).encode('a red fox');
    expect(maxAbsDiff(viaHf.data, (await encoder.encode('a red fox')).data)).toBe(0);
  });

  it('refuses folders with missing files or a mismatched tokenizer', async () => {
    const partial = join(tmp, 'partial');
    mkdirSync(partial, { recursive: true });
    copyFileSync(join(dir, T5_FILES.config), join(partial, T5_FILES.config));
    await expect(TextEncoder.load(partial)).rejects.toThrow(TextModelError);
    const small = join(tmp, 'small-vocab');
    await convertT5EncoderFile(`${fixtures}umt5_tiny_enc_bf16.pth`, small, { numHeads: 4, textLen: 24, tokenizerPath: tokenizerJson });
    await expect(TextEncoder.load(small)).rejects.toThrow(/different models/);
  });
});
