import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../src/io/npy.js';
import { buildT5EncoderGraph, T5_OUTPUT } from '../../src/models/wan/t5/graph.js';
import { inferT5Config } from '../../src/models/wan/t5/config.js';
import { inlineT5Loader } from '../../src/models/wan/t5/weights.js';
import { relativeBucketMatrix } from '../../src/models/wan/t5/buckets.js';
import { openWeights } from '../../src/weights/index.js';
import { createSession, i64Tensor } from '../../src/runtime/session.js';

const fixtures = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/t5/', import.meta.url));
// Copy into a plain Uint8Array: src/io/npy.ts slices a Node Buffer, which aliases the pooled/whole-file buffer.
const readNpy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)), path);
const npy = (name: string) => readNpy(`${fixtures}${name}.npy`) as { shape: number[]; data: Float32Array };

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('umT5 encoder graph (tiny fixture)', () => {
  it('matches the official outputs, hidden states and position biases', async () => {
    const source = await openWeights(`${fixtures}umt5_tiny_enc_bf16.pth`);
    const cfg = inferT5Config((k) => (source.has(k) ? source.info(k).shape : undefined), { textLen: 24, numHeads: 4 });
    expect(cfg).toMatchObject({ vocab: 300, dim: 32, dimAttn: 32, dimFfn: 64, numLayers: 2, numBuckets: 32 });
    const g = await buildT5EncoderGraph(cfg, inlineT5Loader(source), { debugOutputs: true });
    await source.close();
    const session = await createSession(g.toBytes());
    const ids = readNpy(`${fixtures}ids.npy`).data as BigInt64Array;
    const mask = readNpy(`${fixtures}mask.npy`).data as BigInt64Array;
    const out = await session.run({ ids: i64Tensor(ids, [2, 24]), mask: i64Tensor(mask, [2, 24]) });
    expect(out[T5_OUTPUT].dims).toEqual([2, 24, 32]);
    expect(maxAbsDiff(out[T5_OUTPUT].data as Float32Array, npy('output_padded').data)).toBeLessThan(1e-4);
    for (const i of [0, 1]) {
      expect(maxAbsDiff(out[`hidden_after_block${i}`].data as Float32Array, npy(`hidden_after_block${i}`).data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(out[`pos_bias_block${i}`].data as Float32Array, npy(`pos_bias_block${i}`).data)).toBeLessThan(1e-4);
    }
  });

  it('derives the same buckets in-graph for long sequences (distance clamp at 128)', async () => {
    const source = await openWeights(`${fixtures}umt5_tiny_enc_bf16.pth`);
    const cfg = inferT5Config((k) => (source.has(k) ? source.info(k).shape : undefined), { textLen: 24, numHeads: 4 });
    const table = await source.readF32('blocks.1.pos_embedding.embedding.weight'); // [32 buckets, 4 heads]
    const g = await buildT5EncoderGraph(cfg, inlineT5Loader(source), { debugOutputs: true });
    await source.close();
    const session = await createSession(g.toBytes());
    const L = 300;
    const ids = BigInt64Array.from({ length: L }, (_, i) => BigInt(3 + (i % 290)));
    const out = await session.run({ ids: i64Tensor(ids, [1, L]), mask: i64Tensor(new BigInt64Array(L).fill(1n), [1, L]) });
    const bias = out.pos_bias_block1.data as Float32Array; // [1, 4, L, L]
    const buckets = relativeBucketMatrix(L, 32, 128);
    let mismatches = 0;
    for (let h = 0; h < 4; h++) for (let i = 0; i < L * L; i++) if (bias[h * L * L + i] !== table[Number(buckets[i]) * 4 + h]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('puts the log-spaced distances in the official buckets', () => {
    const matrix = relativeBucketMatrix(300, 32, 128);
    const at = (rel: number) => Number(matrix[rel >= 0 ? rel : -rel * 300]); // row 0 for k>q, column 0 for k<q
    expect([at(7), at(8), at(12), at(16), at(32), at(64), at(127), at(128), at(299)]).toEqual([23, 24, 25, 26, 28, 30, 31, 31, 31]);
    expect([at(-7), at(-8), at(-16), at(-32), at(-64), at(-128), at(-299)]).toEqual([7, 8, 10, 12, 14, 15, 15]);
  });

  it('computes relative-position buckets exactly', () => {
    const want = readNpy(`${fixtures}rel_buckets.npy`).data as BigInt64Array;
    expect(Array.from(relativeBucketMatrix(24, 32, 128))).toEqual(Array.from(want));
  });
});
