/**
 * The converted model against the official outputs: dense forward for caseA/caseB, the
 * stage methods' intermediates, chunked attention, the VelocityModel adapter, a load in a
 * fresh process, the diffusers key layout and fp16 storage.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/convert/index.js';
import { parseNpy } from '../../src/io/npy.js';
import { DenseDiT } from '../../src/models/wan/dit/dense.js';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import type { Latent, TextContext } from '../../src/core/types.js';
import { originalToDiffusers } from '../../src/weights/keymaps.js';
import { ATOL, FIXTURE_DIT_DIR, fixture, maxAbsDiff } from './fixtures.js';
import { readFixtureCheckpoint, writeCheckpointDir, type Tensor } from './helpers/checkpoint.js';

const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-dit-'));
const modelDir = join(tmp, 'model');
let dit: WanDiT;
const latent = (): Latent => {
  const x = fixture('x');
  return { data: x.data, shape: x.shape as Latent['shape'] };
};
const context = (): TextContext => {
  const c = fixture('context');
  return { data: c.data, shape: c.shape as TextContext['shape'] };
};

beforeAll(async () => {
  await convertCheckpoint(FIXTURE_DIT_DIR, modelDir);
  dit = await WanDiT.load(modelDir, { intraOpThreads: 1 });
});
afterAll(async () => {
  await dit?.release();
  rmSync(tmp, { recursive: true, force: true });
});

describe('converted Wan2.1 DiT vs the official code', () => {
  it('dense forward matches caseA and caseB', async () => {
    for (const c of ['caseA', 'caseB']) {
      const out = await dit.forward(latent(), fixture(`${c}_t`).data[0], context());
      expect(out.shape).toEqual([16, 3, 8, 12]);
      expect(maxAbsDiff(out.data, fixture(`${c}_out`).data)).toBeLessThan(ATOL);
    }
  });

  it('stage methods reproduce the embeddings, every block and the head', async () => {
    const { e, e0 } = await dit.embedTime(fixture('caseA_t').data[0]);
    expect(maxAbsDiff(e, fixture('caseA_e').data)).toBeLessThan(ATOL);
    expect(maxAbsDiff(e0, fixture('caseA_e0').data)).toBeLessThan(ATOL);
    const text = await dit.prepareText(context());
    expect(maxAbsDiff(text.embed, fixture('caseA_context_embed').data)).toBeLessThan(ATOL);
    const { patches, grid } = dit.patchify(latent());
    let x = await dit.embedPatches(patches);
    expect(maxAbsDiff(x, fixture('caseA_x_embed').data)).toBeLessThan(ATOL);
    const rope = dit.ropeTables(grid);
    const blocks = fixture('caseA_block_outputs').data;
    const size = x.length;
    for (let l = 0; l < dit.config.numLayers; l++) {
      const { q, k, v } = await dit.selfAttnQKV(l, x, e0, rope);
      const attn = await dit.attention(q, k, v);
      if (l === 0) {
        expect(maxAbsDiff(q, fixture('caseA_blk0_self_q_rope').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(k, fixture('caseA_blk0_self_k_rope').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(v, fixture('caseA_blk0_self_v').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(attn, fixture('caseA_blk0_self_attn').data)).toBeLessThan(ATOL);
      }
      x = (await dit.post(l, x, await dit.selfAttnOut(l, attn), e0, text.kv[l])).x;
      expect(maxAbsDiff(x, blocks.subarray(l * size, (l + 1) * size))).toBeLessThan(ATOL);
    }
    const head = await dit.head(x, e);
    expect(maxAbsDiff(head, fixture('caseA_head_out').data)).toBeLessThan(ATOL);
    expect(maxAbsDiff(dit.unpatchify(head, grid).data, fixture('caseA_out').data)).toBeLessThan(ATOL);
  });

  it('selfAttnQKV on a row subset equals the same rows of the dense result', async () => {
    const { e0 } = await dit.embedTime(500);
    const { patches, grid } = dit.patchify(latent());
    const x = await dit.embedPatches(patches);
    const rope = dit.ropeTables(grid);
    const dense = await dit.selfAttnQKV(1, x, e0, rope);
    const rows = [70, 3, 0, 41];
    const sub = await dit.selfAttnQKV(1, x, e0, rope, rows);
    const D = dit.config.dim;
    rows.forEach((r, i) => {
      expect(maxAbsDiff(sub.q.subarray(i * D, (i + 1) * D), dense.q.subarray(r * D, (r + 1) * D))).toBeLessThan(1e-6);
      expect(maxAbsDiff(sub.k.subarray(i * D, (i + 1) * D), dense.k.subarray(r * D, (r + 1) * D))).toBeLessThan(1e-6);
    });
  });

  it('chunked attention and row-chunked stages give the same output as one call', async () => {
    const chunked = await WanDiT.load(modelDir, { intraOpThreads: 1, attentionChunk: 16, rowChunk: 20 });
    try {
      expect(chunked.attentionChunk).toBe(16);
      const out = await chunked.forward(latent(), fixture('caseA_t').data[0], context());
      expect(maxAbsDiff(out.data, fixture('caseA_out').data)).toBeLessThan(ATOL);
    } finally {
      await chunked.release();
    }
  });

  it('DenseDiT predicts caseA and reuses the per-prompt text state', async () => {
    const model = new DenseDiT(dit);
    const ctx = context();
    const info = { step: 0, steps: 1, branch: 'cond' as const };
    const v1 = await model.predict(latent(), fixture('caseA_t').data[0], ctx, info);
    expect(maxAbsDiff(v1, fixture('caseA_out').data)).toBeLessThan(ATOL);
    const state = model.textState(ctx);
    expect(model.textState(ctx)).toBe(state);
    const v2 = await model.predict(latent(), fixture('caseB_t').data[0], ctx, info);
    expect(maxAbsDiff(v2, fixture('caseB_out').data)).toBeLessThan(ATOL);
  });

  it('a fresh process loading the converted folder gets the same numbers', () => {
    const outPath = join(tmp, 'fresh.npy');
    execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'helpers', 'forward-cli.ts'), modelDir, outPath], { stdio: 'pipe' });
    const got = parseNpy(new Uint8Array(readFileSync(outPath)), outPath);
    expect(got.shape).toEqual([16, 3, 8, 12]);
    expect(maxAbsDiff(got.data as Float32Array, fixture('caseA_out').data)).toBeLessThan(ATOL);
  });

  it('converts a diffusers-layout checkpoint to the same model', async () => {
    const original = await readFixtureCheckpoint();
    const renamed = new Map<string, Tensor>();
    for (const [k, t] of original) renamed.set(originalToDiffusers('dit', k), t);
    expect(renamed.has('blocks.0.attn1.to_q.weight')).toBe(true);
    const dir = join(tmp, 'diffusers-ckpt');
    writeCheckpointDir(dir, renamed);
    const out = join(tmp, 'diffusers-model');
    const manifest = await convertCheckpoint(dir, out);
    expect(manifest.source.layout).toBe('diffusers');
    const model = await WanDiT.load(out, { intraOpThreads: 1 });
    try {
      const v = await model.forward(latent(), fixture('caseB_t').data[0], context());
      expect(maxAbsDiff(v.data, fixture('caseB_out').data)).toBeLessThan(ATOL);
    } finally {
      await model.release();
    }
  });

  it('float16 storage stays close to the float32 result', async () => {
    const out = join(tmp, 'fp16-model');
    const manifest = await convertCheckpoint(FIXTURE_DIT_DIR, out, { dtype: 'float16' });
    expect(manifest.storageDtype).toBe('float16');
    expect(manifest.stages.block0_post.weights!.bytes).toBeLessThan(0.75 * statSync(join(modelDir, 'block0_post.weights')).size);
    const model = await WanDiT.load(out, { intraOpThreads: 1 });
    try {
      const v = await model.forward(latent(), fixture('caseA_t').data[0], context());
      const err = maxAbsDiff(v.data, fixture('caseA_out').data);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(1e-2); // measured 1.8e-3
    } finally {
      await model.release();
    }
  });

  it('bfloat16 storage stays close to the float32 result, in standard and low-memory mode alike', async () => {
    const out = join(tmp, 'bf16-model');
    const manifest = await convertCheckpoint(FIXTURE_DIT_DIR, out, { dtype: 'bfloat16' });
    expect(manifest.storageDtype).toBe('bfloat16');
    expect(manifest.stages.block0_post.weights!.bytes).toBeLessThan(0.75 * statSync(join(modelDir, 'block0_post.weights')).size);
    const model = await WanDiT.load(out, { intraOpThreads: 1 });
    const low = await WanDiT.load(out, { intraOpThreads: 1, lowMemory: true, mmapWeights: true });
    try {
      const v = await model.forward(latent(), fixture('caseA_t').data[0], context());
      const err = maxAbsDiff(v.data, fixture('caseA_out').data);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(5e-2);
      const w = await low.forward(latent(), fixture('caseA_t').data[0], context());
      expect(w.data).toEqual(v.data);
    } finally {
      await model.release();
      await low.release();
    }
  });
});
