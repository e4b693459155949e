/**
 * The whole official loop against the fixtures: converted tiny DiT + UniPC / DPM++ with
 * classifier-free guidance from the fixture noise and contexts, every step's predictions
 * and latent compared, then the final latent decoded by the converted tiny VAE and
 * compared with `generate()`'s video (tolerances from the fixture README).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/convert/index.js';
import { readNpyF32 } from '../../src/io/npy.js';
import { DenseDiT, WanDiT } from '../../src/models/wan/dit/index.js';
import { convertVaeCheckpoint } from '../../src/models/wan/vae/convert.js';
import { VaeChunkDecoder } from '../../src/models/wan/vae/chunk-decoder.js';
import { denoise } from '../../src/sampling/denoise.js';
import type { Latent, StepInfo, TextContext, VelocityModel } from '../../src/core/types.js';
import { decodeStream, latentFrames } from '../../src/video/decode-stream.js';
import { fixtureWrapper } from '../vae/fixture.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'loop-parity-'));
let dit: WanDiT;
let vae: VaeChunkDecoder;

beforeAll(async () => {
  await convertCheckpoint(join(FIXTURES, 'dit'), join(tmp, 'dit'));
  const { mean, std } = fixtureWrapper();
  await convertVaeCheckpoint(join(FIXTURES, 'vae/wan21_tiny_vae.pth'), join(tmp, 'vae'), { config: { latentMean: mean, latentStd: std } });
  dit = await WanDiT.load(join(tmp, 'dit'));
  vae = await VaeChunkDecoder.load(join(tmp, 'vae'));
});

afterAll(async () => {
  await dit?.release();
  await vae?.release();
  rmSync(tmp, { recursive: true, force: true });
});

const context = (dir: string, name: string): TextContext => {
  const a = readNpyF32(join(FIXTURES, dir, `${name}.npy`));
  return { data: a.data, shape: [a.shape[0], a.shape[1]] };
};

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Records every prediction the loop asks for, per branch. */
class Recording implements VelocityModel {
  readonly calls: { info: StepInfo; timestep: number; out: Float32Array }[] = [];
  constructor(private readonly inner: VelocityModel) {}
  async predict(latent: Latent, timestep: number, ctx: TextContext, info: StepInfo): Promise<Float32Array> {
    const out = await this.inner.predict(latent, timestep, ctx, info);
    this.calls.push({ info, timestep, out });
    return out;
  }
}

describe.each([['unipc', 'sampler_unipc'], ['dpm++', 'sampler_dpmpp']] as const)('official loop, %s', (solver, dir) => {
  it('matches every step of WanT2V.generate and its decoded video', async () => {
    const noise = readNpyF32(join(FIXTURES, dir, 'noise.npy'));
    const latents = readNpyF32(join(FIXTURES, dir, 'latents.npy'));
    const predCond = readNpyF32(join(FIXTURES, dir, 'noise_pred_cond.npy'));
    const predUncond = readNpyF32(join(FIXTURES, dir, 'noise_pred_uncond.npy'));
    const size = noise.data.length;
    const model = new Recording(new DenseDiT(dit));
    const stepLatents: Float32Array[] = [];
    const final = await denoise({
      model,
      noise: { data: noise.data, shape: noise.shape as Latent['shape'] },
      cond: context(dir, 'context_cond'),
      uncond: context(dir, 'context_uncond'),
      steps: 8, shift: 5, guidance: 5, solver,
      onStep: (p) => stepLatents.push(Float32Array.from(p.latent)),
    });

    expect(model.calls).toHaveLength(16);
    for (let i = 0; i < 8; i++) {
      const [cond, uncond] = [model.calls[2 * i], model.calls[2 * i + 1]];
      expect([cond.info.branch, uncond.info.branch]).toEqual(['cond', 'uncond']);
      expect(maxAbs(cond.out, predCond.data.subarray(i * size, (i + 1) * size))).toBeLessThan(5e-4);
      expect(maxAbs(uncond.out, predUncond.data.subarray(i * size, (i + 1) * size))).toBeLessThan(5e-4);
      expect(maxAbs(stepLatents[i], latents.data.subarray(i * size, (i + 1) * size))).toBeLessThan(5e-4);
    }
    expect(maxAbs(final.data, latents.data.subarray(7 * size))).toBeLessThan(5e-4);

    // generate() returns the tiny-VAE decode clamped to [-1, 1], (C, T, H, W).
    const video = readNpyF32(join(FIXTURES, dir, 'video.npy'));
    const [, frames, height, width] = video.shape;
    const decoded = new Float32Array(video.data.length);
    for await (const chunk of decodeStream(vae, latentFrames(final), { height: final.shape[2], width: final.shape[3] })) {
      for (let c = 0; c < 3; c++) {
        for (let f = 0; f < chunk.frames; f++) {
          const src = chunk.data.subarray((c * chunk.frames + f) * height * width, (c * chunk.frames + f + 1) * height * width);
          const dst = (c * frames + chunk.firstFrame + f) * height * width;
          for (let i = 0; i < src.length; i++) decoded[dst + i] = Math.min(1, Math.max(-1, src[i]));
        }
      }
    }
    expect(maxAbs(decoded, video.data)).toBeLessThan(1e-3);
  });
});
