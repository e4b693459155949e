/** Issue 17: the benchmark's streamed writers produce release-layout files the readers accept (CI size). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { t5Tensors, writePth, writeShardedSafetensors } from '../../bench/release-writers.js';
import { UMT5_XXL } from '../../src/models/wan/t5/config.js';
import { LayeredT5Encoder } from '../../src/models/wan/t5/layered.js';
import { openWeights, readRowsF32 } from '../../src/weights/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ds-writers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('release-layout writers', () => {
  it('a bf16 umT5 .pth (ZIP64, CRCs) opens, reads rows and runs layered', async () => {
    const cfg = { ...UMT5_XXL, vocab: 500, dim: 64, dimAttn: 64, dimFfn: 96, numHeads: 4, numLayers: 2, textLen: 16 };
    const file = path.join(dir, 'models_t5_umt5-xxl-enc-bf16.pth');
    writePth(file, t5Tensors(cfg));
    const source = await openWeights(file);
    expect(source.info('token_embedding.weight')).toMatchObject({ dtype: 'BF16', shape: [500, 64] });
    const whole = await source.readF32('token_embedding.weight'); // a whole-member read checks the CRC
    expect(await readRowsF32(source, 'token_embedding.weight', [7])).toEqual(whole.subarray(7 * 64, 8 * 64));
    const enc = await LayeredT5Encoder.open(source, cfg, { ownsSource: true });
    const out = await enc.run(BigInt64Array.from([5n, 6n, 1n]), BigInt64Array.from([1n, 1n, 1n]), 1);
    expect(out.length).toBe(3 * 64);
    expect(out.every(Number.isFinite)).toBe(true);
    await enc.session.release();
  });

  it('sharded safetensors with an index open as one source', async () => {
    const shards = path.join(dir, 'dit');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(shards);
    writeShardedSafetensors(shards, [{ name: 'a', shape: [64, 64] }, { name: 'b', shape: [32] }, { name: 'c', shape: [64, 64] }], 'BF16', 9000);
    const source = await openWeights(path.join(shards, 'diffusion_pytorch_model.safetensors.index.json'));
    expect(source.keys().sort()).toEqual(['a', 'b', 'c']);
    expect((await source.readF32('c')).length).toBe(4096);
    await source.close();
  });
});
