/**
 * Issue 17: the time estimate's fixed costs (per-call overhead, sessions, weights, VAE, encode).
 * Structure only, no timing: the call counts match what the runtime does, the parts add up to
 * the totals, a FLOPs-only speed keeps the old numbers, and the probe's settings parse.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { UMT5_XXL } from '../../src/models/wan/t5/config.js';
import { WAN_DIT_DEFAULTS, type WanDiTConfig } from '../../src/models/wan/dit/config.js';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import { callCostFromEnv, probeShape } from '../../src/pipeline/call-cost.js';
import { ditLoadSeconds, estimateGeneration, passCalls, vaeConvEfficiency, type ModelSizes } from '../../src/pipeline/estimate.js';
import { preflight, readPipelineSizes } from '../../src/pipeline/preflight.js';

const DEMO = path.resolve(__dirname, '../../samples/demo-model/model');
const wan = (dim: number, ffnDim: number, numHeads: number, numLayers: number): WanDiTConfig => ({ ...WAN_DIT_DEFAULTS, modelType: 't2v', dim, ffnDim, numHeads, numLayers });
const sizes13: ModelSizes = { dit: wan(1536, 8960, 12, 30), patchFeatures: 64, headFeatures: 64, t5: UMT5_XXL, vae: { dim: 96, zDim: 16, spatialScale: 8, temporalScale: 4 } };
const SPEED = { gflops: 50, callMs: 2, sessionMs: 20 };

describe('call counts', () => {
  it('a pass is the time and patch embeddings, the head and 4 calls per block; more when tokens exceed a chunk', () => {
    expect(passCalls(48, 3)).toBe(3 + 3 * 4);
    // 32,760 tokens: 8 row chunks of 4,096 for each of the 3 row stages, 32 attention chunks of 1,024
    expect(passCalls(32760, 30)).toBe(3 + 30 * (3 * 8 + 32));
    const e = estimateGeneration({ sizes: sizes13, latentShape: [16, 21, 60, 104], steps: 50, guidance: 5 }, SPEED);
    expect(e.calls.perPass).toBe(passCalls(32760, 30));
    expect(e.calls.perStepDense).toBe(2 * e.calls.perPass);
    expect(e.calls.perPrompt).toBe(2 * (1 + 30));
    expect(e.calls.vae).toBe(21);
    expect(e.calls.sessions).toBe(5 + 4 * 30 + 1);
    expect(e.calls.lowMemorySessionsPerStep).toBe(2 * 4 * 30);
  });

  it('match the session runs and stage files of the demo DiT', async () => {
    const p = readPipelineSizes(DEMO);
    expect(Object.keys(p.dit.stages).length).toBe(5 + 4 * p.dit.config.numLayers);
    const dit = await WanDiT.load(path.join(DEMO, 'dit'));
    const c = dit.config;
    const latent = { data: new Float32Array(16 * 3 * 8 * 8).fill(0.1), shape: [16, 3, 8, 8] as [number, number, number, number] };
    const text = await dit.prepareText({ data: new Float32Array(7 * c.textDim).fill(0.1), shape: [7, c.textDim] });
    const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as { run: (...a: unknown[]) => Promise<unknown> };
    const run = proto.run;
    let calls = 0;
    proto.run = function (this: unknown, ...a: unknown[]) {
      calls++;
      return run.apply(this, a);
    };
    try {
      await dit.forwardWithText(latent, 500, text);
    } finally {
      proto.run = run;
      await dit.release();
    }
    const e = estimateGeneration({ sizes: p.sizes, latentShape: latent.shape, steps: 1, guidance: 1 }, SPEED);
    expect(calls).toBe(e.calls.perPass);
  });

  it('a block reused by the sparsity plan makes no call', () => {
    const table = Array.from({ length: 10 }, (_, t) => Array.from({ length: 30 }, (_, l) => ((t + l) % 2 ? 1 : 0)));
    const e = estimateGeneration({ sizes: sizes13, latentShape: [16, 2, 60, 104], steps: 10, guidance: 5, sparse: { flopsRatio: 0.5, table, description: 'x' } }, SPEED);
    expect(e.calls.perStep).toBe(2 * passCalls(3120, 15));
    expect(e.calls.perStep).toBeLessThan(e.calls.perStepDense);
  });
});

describe('seconds', () => {
  it('the parts add up to the totals, and the fixed costs are what is not compute', () => {
    const e = estimateGeneration({ sizes: sizes13, latentShape: [16, 2, 60, 104], steps: 10, guidance: 5 }, SPEED);
    const s = e.seconds!;
    expect(s.totalDense).toBeCloseTo(s.load + s.text + s.denoiseDense + s.vae + s.encode, 6);
    expect(s.total).toBeCloseTo(s.totalDense, 6);
    expect(s.overhead).toBeGreaterThan(0);
    expect(s.overhead).toBeLessThan(s.totalDense);
    expect(s.perStepDense).toBeGreaterThan((e.calls.perStepDense * SPEED.callMs) / 1000);
    expect(s.load).toBeGreaterThan(ditLoadSeconds(sizes13, SPEED)); // plus node start and the text encoder
    expect(s.lowMemoryPerStep).toBeGreaterThan((e.calls.lowMemorySessionsPerStep * SPEED.sessionMs) / 1000);
    expect(e.callMs).toBe(2);
  });

  it('the demo model is mostly fixed costs; the 1.3B model mostly compute', async () => {
    const demo = await preflight('wan-demo', { prompt: 'a', output: 'x.mp4' }, { speed: SPEED });
    expect(demo.estimate.seconds!.overhead / demo.estimate.seconds!.totalDense).toBeGreaterThan(0.5);
    const big = estimateGeneration({ sizes: sizes13, latentShape: [16, 21, 60, 104], steps: 50, guidance: 5 }, SPEED);
    expect(big.seconds!.overhead / big.seconds!.totalDense).toBeLessThan(0.1);
  });

  it('the VAE runs at a width-dependent share of the matmul speed: the measured 0.15 at width 8, 0.48 at 96', () => {
    expect(vaeConvEfficiency(8)).toBeCloseTo(0.15, 5);
    expect(vaeConvEfficiency(96)).toBeCloseTo(0.48, 5);
    expect(vaeConvEfficiency(32)).toBeGreaterThan(0.15);
    expect(vaeConvEfficiency(32)).toBeLessThan(0.48);
    expect(vaeConvEfficiency(4)).toBeCloseTo(0.15, 5);
  });

  it('int8 and bfloat16 weights load faster than float32 ones', () => {
    expect(ditLoadSeconds({ ...sizes13, bfloat16: true }, SPEED)).toBeLessThan(ditLoadSeconds(sizes13, SPEED));
    expect(ditLoadSeconds({ ...sizes13, quantized: 'int8' }, SPEED)).toBeLessThan(ditLoadSeconds(sizes13, SPEED) / 2);
  });

  it('a speed without call costs gives the FLOPs-only estimate (no fixed costs)', () => {
    const e = estimateGeneration({ sizes: sizes13, latentShape: [16, 2, 60, 104], steps: 10, guidance: 5 }, 100);
    expect(e.seconds!.load).toBe(0);
    expect(e.seconds!.encode).toBe(0);
    expect(e.seconds!.overhead).toBeCloseTo(0, 9);
    expect(e.callMs).toBeUndefined();
  });
});

describe('the call-cost probe', () => {
  it('is shaped like the model up to 512 x 256', () => {
    expect(probeShape(48, 96)).toEqual({ rows: 48, width: 96 });
    expect(probeShape(32760, 1536)).toEqual({ rows: 512, width: 256 });
    expect(probeShape(4, 8)).toEqual({ rows: 16, width: 32 });
  });
  it('DIFFSPARSE_CALL_COST fixes it as "call,session" milliseconds; a malformed value is ignored', () => {
    expect(callCostFromEnv('0.2, 15')).toMatchObject({ callMs: 0.2, sessionMs: 15, source: 'env' });
    expect(callCostFromEnv('fast')).toBeUndefined();
    expect(callCostFromEnv('1,2,3')).toBeUndefined();
    expect(callCostFromEnv(undefined)).toBeUndefined();
  });
});
