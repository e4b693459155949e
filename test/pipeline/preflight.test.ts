/**
 * Issue 17: checks before model work and estimates. The preflight reads manifests only; the
 * estimate's parameter counts match the converters' and the release sizes.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UMT5_XXL } from '../../src/models/wan/t5/config.js';
import { WAN_DIT_DEFAULTS, type WanDiTConfig } from '../../src/models/wan/dit/config.js';
import { ditParameters, estimateGeneration, learnRuns, t5Parameters, vaeDecodeFlops, type ModelSizes } from '../../src/pipeline/estimate.js';
import { preflight, readPipelineSizes } from '../../src/pipeline/preflight.js';

const ROOT = path.resolve(__dirname, '../..');
const DEMO = path.join(ROOT, 'samples/demo-model/model');

const wan = (dim: number, ffnDim: number, numHeads: number, numLayers: number): WanDiTConfig => ({ ...WAN_DIT_DEFAULTS, modelType: 't2v', dim, ffnDim, numHeads, numLayers });
export const WAN_1_3B = wan(1536, 8960, 12, 30);
export const WAN_14B = wan(5120, 13824, 40, 40);
const sizesOf = (dit: WanDiTConfig): ModelSizes => ({ dit, patchFeatures: 64, headFeatures: 64, t5: UMT5_XXL, vae: { dim: 96, zDim: 16, spatialScale: 8, temporalScale: 4 } });

describe('parameter counts', () => {
  it('match the converter for the demo DiT', () => {
    const p = readPipelineSizes(DEMO);
    expect(ditParameters(p.dit.config).total).toBe(p.dit.source.parameters);
  });
  it('give the release sizes: 1.3B, 14B and umT5-XXL 5.68B', () => {
    expect(ditParameters(WAN_1_3B).total / 1e9).toBeCloseTo(1.42, 1);
    expect(ditParameters(WAN_14B).total / 1e9).toBeCloseTo(14.3, 0);
    expect(t5Parameters(UMT5_XXL).total / 1e9).toBeCloseTo(5.68, 1);
  });
});

describe('estimates', () => {
  it('1.3B at 832x480x81, 50 steps: ≈ 2.9e14 FLOPs per forward pass as the reference derives', () => {
    const e = estimateGeneration({ sizes: sizesOf(WAN_1_3B), latentShape: [16, 21, 60, 104], steps: 50, guidance: 5 }, 100);
    expect(e.tokens).toBe(32760);
    expect(e.videoFrames).toBe(81);
    const perPass = e.flops.denoiseDense / 100;
    expect(perPass).toBeGreaterThan(2.6e14);
    expect(perPass).toBeLessThan(3.2e14);
    expect(e.seconds!.perStepDense).toBeCloseTo((2 * perPass) / 100e9, -1);
    expect(e.memory.lowMemoryBytes).toBeLessThan(e.memory.standardBytes);
  });
  it('a sparse plan lowers the denoising estimate and adds the token cache', () => {
    const table = Array.from({ length: 10 }, () => new Array<number>(30).fill(0.5));
    const dense = estimateGeneration({ sizes: sizesOf(WAN_1_3B), latentShape: [16, 5, 60, 104], steps: 10, guidance: 5 }, 100);
    const sparse = estimateGeneration({ sizes: sizesOf(WAN_1_3B), latentShape: [16, 5, 60, 104], steps: 10, guidance: 5, sparse: { flopsRatio: 0.5, table, description: 'x' } }, 100);
    expect(sparse.seconds!.denoise).toBeLessThan(dense.seconds!.denoise * 0.8);
    expect(sparse.memory.parts.tokenCache).toBeGreaterThan(0);
  });
  it('the VAE decode grows with frames', () => {
    expect(vaeDecodeFlops({ dim: 96, zDim: 16 }, [16, 21, 60, 104])).toBeGreaterThan(3 * vaeDecodeFlops({ dim: 96, zDim: 16 }, [16, 6, 60, 104]));
  });
  it('schedule learn costs one run per calibration cell and level', () => {
    expect(learnRuns(20, 30)).toBe(1 + 20 * 4 + 3 + 2); // default cells: one step × all layers
    expect(learnRuns(20, 30, { grouping: { steps: 1, layers: 1 } })).toBe(1 + 600 * 4 + 3 + 2);
    expect(learnRuns(20, 30, { grouping: { steps: 5, layers: 5 } })).toBe(1 + 24 * 4 + 3 + 2);
  });
});

describe('preflight', () => {
  it('checks a request and a budget without loading a model', async () => {
    const p = await preflight('wan-demo-tiny', { prompt: 'a red circle', output: 'x.mp4', budget: 0.5, steps: 20 }, { gflops: 50 });
    expect(p.flopsRatio).toBeLessThanOrEqual(0.51);
    expect(p.schedule).toMatch(/learned-50\.json$/); // the shipped schedule nearest below the budget
    expect(p.estimate.seconds!.denoise).toBeLessThan(p.estimate.seconds!.denoiseDense);
  });
  it('a budget on a model without shipped schedules offers the baselines and schedule learn with its cost', async () => {
    const err = await preflight(DEMO, { prompt: 'a', output: 'x.mp4', budget: 0.5, steps: 10 }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('SparsityRequestError');
    expect(err?.message).toMatch(/ships no learned schedules/);
    expect(err?.message).toMatch(/--method step-skip/);
    expect(err?.message).toMatch(/schedule learn --pipeline .* --budget 0\.5 --steps 10` \(about \d+ full generations/);
  });
  it('the default built-in (demo model v2) picks its shipped learned 50% schedule', async () => {
    const p = await preflight('wan-demo', { prompt: 'a', output: 'x.mp4', budget: 0.5 }, { gflops: 50 });
    expect(p.schedule).toMatch(/wan-demo-20steps-learned-50\.json$/);
    expect(p.flopsRatio).toBeLessThanOrEqual(0.5);
  });
  it('the same budget with a baseline method is accepted', async () => {
    const p = await preflight(DEMO, { prompt: 'a', output: 'x.mp4', budget: 0.5, steps: 10, method: 'step-skip' });
    expect(p.flopsRatio).toBeLessThan(0.7);
  });
  it('a size the model cannot take fails before any work', async () => {
    const err = await preflight('wan-demo', { prompt: 'a', output: 'x.mp4', width: 70 }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('GenerateRequestError');
  });
});
