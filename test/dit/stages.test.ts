/**
 * Each stage graph built in memory from the fixture weights, checked against the
 * official code's intermediates for caseA (block 0 where the fixtures expose them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src/weights/safetensors.js';
import { parseWanDiTConfig, headDim, type WanDiTConfig } from '../../src/models/wan/dit/config.js';
import { buildTimeEmbed, buildTextEmbed, buildPatchEmbed, buildContextKV, buildSelfAttnQKV, buildSelfAttnOut, buildPost, buildAttention, buildHead, type StageWeights } from '../../src/models/wan/dit/graphs/index.js';
import { timestepSinusoid } from '../../src/models/wan/dit/sinusoid.js';
import { ropeTables } from '../../src/models/wan/dit/rope.js';
import { patchGrid, patchify } from '../../src/models/wan/dit/patchify.js';
import { createSession, f32Tensor, type Session, type Tensor } from '../../src/runtime/session.js';
import type { GraphBuilder } from '../../src/onnx/builder.js';
import { readFileSync } from 'node:fs';
import { ATOL, FIXTURE_DIT_DIR, fixture, fixtureF64, maxAbsDiff } from './fixtures.js';

let config: WanDiTConfig;
const tensors = new Map<string, Float32Array>();
const weights: StageWeights = {
  get: (k) => {
    const t = tensors.get(k);
    if (!t) throw new Error(`missing ${k}`);
    return t;
  },
};

beforeAll(async () => {
  config = parseWanDiTConfig(JSON.parse(readFileSync(`${FIXTURE_DIT_DIR}config.json`, 'utf8')));
  const src = await openSafetensors(`${FIXTURE_DIT_DIR}wan21_tiny_dit.safetensors`);
  for (const k of src.keys()) tensors.set(k, await src.readF32(k));
  await src.close();
});

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function run(g: GraphBuilder, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const s = await createSession(g.toBytes(), { intraOpThreads: 1 });
  sessions.push(s);
  const out = await s.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('DiT stage graphs vs official intermediates (caseA)', () => {
  it('sinusoid, time embedding e/e0 for both cases', async () => {
    for (const c of ['caseA', 'caseB']) {
      const t = fixture(`${c}_t`).data[0];
      const s = timestepSinusoid(t, config.freqDim);
      expect(maxAbsDiff(s, fixture(`${c}_t_sinusoid`).data)).toBeLessThan(ATOL);
      const { e, e0 } = await run(buildTimeEmbed(config, weights), { t_sinusoid: f32Tensor(s, [1, config.freqDim]) });
      expect(maxAbsDiff(e, fixture(`${c}_e`).data)).toBeLessThan(ATOL);
      expect(maxAbsDiff(e0, fixture(`${c}_e0`).data)).toBeLessThan(ATOL);
    }
  });

  it('full block-0 chain, every block output and the head', async () => {
    const D = config.dim;
    const x0 = fixture('x');
    const latent = { data: x0.data, shape: x0.shape as [number, number, number, number] };
    const grid = patchGrid(latent.shape, config.patchSize, config.inDim);
    const n = grid.frames * grid.rows * grid.cols;
    const patches = patchify(latent, config.patchSize, grid);
    let { x } = await run(buildPatchEmbed(config, weights), { patches: f32Tensor(patches, [1, n, patches.length / n]) });
    expect(maxAbsDiff(x, fixture('caseA_x_embed').data)).toBeLessThan(ATOL);

    const ctx = fixture('context');
    const padded = new Float32Array(config.textLen * config.textDim);
    padded.set(ctx.data);
    const { context_embed: ctxEmbed } = await run(buildTextEmbed(config, weights), { context: f32Tensor(padded, [1, config.textLen, config.textDim]) });
    expect(maxAbsDiff(ctxEmbed, fixture('caseA_context_embed').data)).toBeLessThan(ATOL);

    const e0 = fixture('caseA_e0').data;
    const rope = ropeTables(grid, headDim(config));
    const ropeRef = fixtureF64('rope_cos_sin_f64').data;
    expect(ropeRef.length).toBe(n * rope.pairs * 2);
    for (let i = 0; i < n * rope.pairs; i++) {
      expect(Math.abs(rope.cos[i] - ropeRef[2 * i])).toBeLessThan(1e-6);
      expect(Math.abs(rope.sin[i] - ropeRef[2 * i + 1])).toBeLessThan(1e-6);
    }
    const blocks = fixture('caseA_block_outputs').data;
    const attnSession = buildAttention(config.numHeads, headDim(config));
    for (let l = 0; l < config.numLayers; l++) {
      const kv = await run(buildContextKV(config, l, weights), { ctx: f32Tensor(ctxEmbed, [1, config.textLen, D]) });
      const qkv = await run(buildSelfAttnQKV(config, l, weights, { debugOutputs: true }), {
        x: f32Tensor(x, [1, n, D]), e0: f32Tensor(e0, [1, 6, D]),
        cos: f32Tensor(rope.cos, [1, n, rope.pairs]), sin: f32Tensor(rope.sin, [1, n, rope.pairs]),
      });
      const { attn } = await run(attnSession, { q: f32Tensor(qkv.q, [1, n, D]), k: f32Tensor(qkv.k, [1, n, D]), v: f32Tensor(qkv.v, [1, n, D]) });
      const { y_sa: ySa } = await run(buildSelfAttnOut(config, l, weights), { attn: f32Tensor(attn, [1, n, D]) });
      const post = await run(buildPost(config, l, weights, { debugOutputs: true }), {
        x: f32Tensor(x, [1, n, D]), y_sa: f32Tensor(ySa, [1, n, D]), e0: f32Tensor(e0, [1, 6, D]),
        k_ctx: f32Tensor(kv.k_ctx, [1, config.textLen, D]), v_ctx: f32Tensor(kv.v_ctx, [1, config.textLen, D]),
      });
      if (l === 0) {
        expect(maxAbsDiff(qkv.q_normed, fixture('caseA_blk0_self_q_normed').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(qkv.k_normed, fixture('caseA_blk0_self_k_normed').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(qkv.q, fixture('caseA_blk0_self_q_rope').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(qkv.k, fixture('caseA_blk0_self_k_rope').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(qkv.v, fixture('caseA_blk0_self_v').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(attn, fixture('caseA_blk0_self_attn').data)).toBeLessThan(ATOL);
        expect(maxAbsDiff(post.ca_attn, fixture('caseA_blk0_cross_attn').data)).toBeLessThan(ATOL);
      }
      x = post.x_out;
      expect(maxAbsDiff(x, blocks.subarray(l * n * D, (l + 1) * n * D))).toBeLessThan(ATOL);
    }
    const { out } = await run(buildHead(config, weights), { x: f32Tensor(x, [1, n, D]), e: f32Tensor(fixture('caseA_e').data, [1, D]) });
    expect(maxAbsDiff(out, fixture('caseA_head_out').data)).toBeLessThan(ATOL);
  });
});
