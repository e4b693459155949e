import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DenoiseAbortedError, DenoiseModelOutputError, denoise, type DenoiseProgress } from '../../src/sampling/denoise.js';
import { readLatentNpy, writeLatentNpy } from '../../src/pipeline/latent-file.js';
import type { Latent, StepInfo, TextContext, VelocityModel } from '../../src/core/types.js';
import { combineGuidance } from '../../src/sampling/guidance.js';
import { SamplerConfigError } from '../../src/sampling/schedule.js';
import { FIXTURES, loadF32, loadTimesteps, maxAbsDiff, row, SAMPLER_FIXTURES } from './fixtures.js';

const ATOL = 1e-5;
const LATENT_SHAPE: Latent['shape'] = [16, 3, 8, 12];
const N = 16 * 3 * 8 * 12;

function context(dir: string, name: 'context_cond' | 'context_uncond'): TextContext {
  const c = loadF32(`${dir}/${name}.npy`);
  return { data: c.data, shape: [c.shape[0], c.shape[1]] };
}

/** Returns the recorded DiT outputs and checks it is asked for them in the official order. */
class ReplayModel implements VelocityModel {
  readonly calls: { step: number; branch: string; timestep: number }[] = [];
  private readonly condOut;
  private readonly uncondOut;
  private readonly timesteps;
  constructor(
    dir: string,
    private readonly cond: TextContext,
    private readonly uncond: TextContext,
  ) {
    this.condOut = loadF32(`${dir}/noise_pred_cond.npy`);
    this.uncondOut = loadF32(`${dir}/noise_pred_uncond.npy`);
    this.timesteps = loadTimesteps(`${dir}/timesteps.npy`);
  }

  async predict(latent: Latent, timestep: number, ctx: TextContext, info: StepInfo): Promise<Float32Array> {
    expect(latent.shape).toEqual(LATENT_SHAPE);
    expect(timestep).toBe(this.timesteps[info.step]);
    expect(ctx).toBe(info.branch === 'cond' ? this.cond : this.uncond);
    this.calls.push({ step: info.step, branch: info.branch, timestep });
    return row(info.branch === 'cond' ? this.condOut : this.uncondOut, info.step, N).slice();
  }
}

describe('classifier-free guidance', () => {
  it('uncond + 5·(cond − uncond) is bit-exact with the fixture noise_pred', () => {
    const cond = loadF32('sampler_unipc/noise_pred_cond.npy').data;
    const uncond = loadF32('sampler_unipc/noise_pred_uncond.npy').data;
    const expected = loadF32('sampler_unipc/noise_pred.npy').data;
    expect(maxAbsDiff(combineGuidance(cond, uncond, 5), expected)).toBe(0);
  });
});

describe('denoise: the dense loop with a replayed DiT', () => {
  for (const { dir, solver } of SAMPLER_FIXTURES) {
    it(`${solver}: every step's latent within ${ATOL}, model called cond then uncond at the int timesteps`, async () => {
      const cond = context(dir, 'context_cond');
      const uncond = context(dir, 'context_uncond');
      const model = new ReplayModel(dir, cond, uncond);
      const latents = loadF32(`${dir}/latents.npy`);
      const noise = loadF32(`${dir}/noise.npy`);
      const progress: DenoiseProgress[] = [];
      let worst = 0;
      const out = await denoise({
        model,
        noise: { data: noise.data, shape: LATENT_SHAPE },
        cond,
        uncond,
        steps: 8,
        shift: 5,
        guidance: 5,
        solver,
        onStep: (p) => {
          progress.push(p);
          worst = Math.max(worst, maxAbsDiff(p.latent, row(latents, p.step, N)));
        },
      });
      expect(worst).toBeLessThan(ATOL);
      expect(maxAbsDiff(out.data, row(latents, 7, N))).toBeLessThan(ATOL);
      expect(out.shape).toEqual(LATENT_SHAPE);
      const timesteps = loadTimesteps(`${dir}/timesteps.npy`);
      expect(model.calls).toEqual(timesteps.flatMap((t, step) => [{ step, branch: 'cond', timestep: t }, { step, branch: 'uncond', timestep: t }]));
      expect(progress.map((p) => p.timestep)).toEqual(timesteps);
      expect(progress.map((p) => p.sigma)).toEqual(Array.from(loadF32(`${dir}/sigmas.npy`).data.subarray(0, 8)));
      expect(progress.every((p) => p.steps === 8 && p.elapsedMs >= 0 && p.stepMs >= 0)).toBe(true);
    });
  }

  it('draws seeded noise itself when given a seed instead of a latent', async () => {
    const dir = 'sampler_unipc';
    const cond = context(dir, 'context_cond');
    const uncond = context(dir, 'context_uncond');
    const out = await denoise({ model: new ReplayModel(dir, cond, uncond), noise: { seed: 42, shape: LATENT_SHAPE }, cond, uncond, steps: 8, shift: 5, guidance: 5, solver: 'unipc' });
    expect(maxAbsDiff(out.data, row(loadF32(`${dir}/latents.npy`), 7, N))).toBeLessThan(ATOL);
  });

  it('skips the uncond pass when guidance is 1', async () => {
    const branches: string[] = [];
    const model: VelocityModel = {
      predict: async (latent, _t, _c, info) => {
        branches.push(info.branch);
        return new Float32Array(latent.data.length).fill(0.5);
      },
    };
    const cond: TextContext = { data: new Float32Array(4), shape: [1, 4] };
    await denoise({ model, noise: { data: new Float32Array(8), shape: [2, 1, 2, 2] }, cond, steps: 3, shift: 1, guidance: 1, solver: 'euler' });
    expect(branches).toEqual(['cond', 'cond', 'cond']);
  });

  it('stops between model calls when aborted, with a typed error', async () => {
    const controller = new AbortController();
    let calls = 0;
    const model: VelocityModel = {
      predict: async (latent, _t, _c, info) => {
        calls++;
        if (info.step === 1 && info.branch === 'cond') controller.abort();
        return new Float32Array(latent.data.length);
      },
    };
    const cond: TextContext = { data: new Float32Array(4), shape: [1, 4] };
    const run = denoise({ model, noise: { seed: 1, shape: [2, 1, 2, 2] }, cond, uncond: cond, steps: 4, shift: 3, guidance: 5, solver: 'dpm++', signal: controller.signal });
    await expect(run).rejects.toBeInstanceOf(DenoiseAbortedError);
    await expect(run).rejects.toThrow(/cancelled at step 2 of 4/);
    expect(calls).toBe(3); // step 0 cond+uncond, step 1 cond; the uncond pass never ran
  });

  it('reports configuration and model-output mistakes with typed errors', async () => {
    const cond: TextContext = { data: new Float32Array(4), shape: [1, 4] };
    const ok: VelocityModel = { predict: async (l) => new Float32Array(l.data.length) };
    const noise = { seed: 1, shape: [2, 1, 2, 2] as Latent['shape'] };
    await expect(denoise({ model: ok, noise, cond, steps: 2, shift: 5, guidance: 5, solver: 'unipc' })).rejects.toBeInstanceOf(SamplerConfigError);
    const short: VelocityModel = { predict: async () => new Float32Array(3) };
    await expect(denoise({ model: short, noise, cond, steps: 2, shift: 5, guidance: 1, solver: 'unipc' })).rejects.toBeInstanceOf(DenoiseModelOutputError);
  });
});

describe('latent files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-latent-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads fixture noise as a starting latent and round-trips a written latent', () => {
    const noise = readLatentNpy(join(FIXTURES, 'sampler_unipc/noise.npy'));
    expect(noise.shape).toEqual(LATENT_SHAPE);
    const path = join(dir, 'final.npy');
    writeLatentNpy(path, noise);
    const back = readLatentNpy(path);
    expect(back.shape).toEqual(LATENT_SHAPE);
    expect(maxAbsDiff(back.data, noise.data)).toBe(0);
  });

  it('refuses non-latent arrays with a clear message', () => {
    expect(() => readLatentNpy(join(FIXTURES, 'sampler_unipc/timesteps.npy'))).toThrow(/must be float32/);
    expect(() => readLatentNpy(join(FIXTURES, 'sampler_unipc/sigmas.npy'))).toThrow(/\(C, F, H, W\)/);
    expect(() => readLatentNpy(join(dir, 'missing.npy'))).toThrow(/cannot read latent file/);
  });
});
