/** The DiT's block loop with hooks: a method's own hooks plug into SparseDiT, and each decision kind does what it says. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseDiT, DiTVelocityModel } from '../../src/models/wan/dit/dense.js';
import type { ForwardHooks } from '../../src/models/wan/dit/hooks.js';
import { densePlan, SparseDiT } from '../../src/sparsity/executor.js';
import { generate, maxAbsDiff, tinySetup, type TinySetup } from './helpers.js';

let s: TinySetup;
let dense: Float32Array;
const STEPS = 8;
const LAYERS = 3;

beforeAll(async () => {
  s = await tinySetup();
  dense = await generate(s, new DenseDiT(s.dit));
});
afterAll(async () => {
  await s?.close();
});

describe('block loop hooks', () => {
  it("a method's own hooks run instead of the plan's reuse mode, and see every whole block", async () => {
    const seen: string[] = [];
    const model = await SparseDiT.create(s.dit, densePlan(STEPS, LAYERS), {
      hooks: () => ({
        decide: () => ({ kind: 'whole' }),
        afterWhole: (call, out) => void seen.push(`${call.pass.info!.branch}:${call.pass.info!.step}:${call.layer}:${out.ySa.length === call.x.length}`),
      }),
    });
    expect(maxAbsDiff(await generate(s, model), dense)).toBe(0);
    expect(seen).toHaveLength(STEPS * LAYERS * 2);
    expect(seen.every((e) => e.endsWith(':true'))).toBe(true);
    expect(model.stats.dense).toBe(0); // the token-cache hooks did not run
    await model.release();
  });

  it("'rows' over every token in order, with fresh self-attention, equals the whole block", async () => {
    const hooks: ForwardHooks = {
      decide: (call) => {
        const rows = Array.from({ length: call.pass.tokens }, (_, i) => i);
        return {
          kind: 'rows',
          rows,
          selfAttention: async () => {
            const { q, k, v } = await s.dit.selfAttnQKV(call.layer, call.x, call.pass.e0, call.pass.rope);
            return s.dit.selfAttnOut(call.layer, await s.dit.attention(q, k, v));
          },
          merge: (post) => post.x,
        };
      },
    };
    expect(maxAbsDiff(await generate(s, new DiTVelocityModel(s.dit, hooks)), dense)).toBe(0);
  });

  it("'reuse' and a served stack output skip the blocks", async () => {
    let blocks = 0;
    const identity: ForwardHooks = { decide: (call) => (blocks++, { kind: 'reuse', x: call.x }) };
    const served: ForwardHooks = { beginPass: (pass) => pass.x0, decide: () => { throw new Error('no block should be asked'); } };
    const a = await generate(s, new DiTVelocityModel(s.dit, identity));
    const b = await generate(s, new DiTVelocityModel(s.dit, served));
    expect(blocks).toBe(STEPS * LAYERS * 2);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, dense)).toBeGreaterThan(0);
  });
});
