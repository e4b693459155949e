import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertVaeDecoder, type VaeDecoderManifest } from '../../src/models/wan/vae/convert.js';
import { VaeChunkDecoder, type DecodedChunk } from '../../src/models/wan/vae/chunk-decoder.js';
import { fixtureArray, fixtureWeights, fixtureWrapper, maxAbsDiff } from './fixture.js';

// Fixture README: decode_raw / decode_chunk* / decode within atol 1e-4 for a float32 port.
const ATOL = 1e-4;

/** Frame f of a (1, C, F, H, W) array as (C, H, W). */
function frameOf(a: { shape: number[]; data: Float32Array }, f: number): Float32Array {
  const [, c, frames, h, w] = a.shape;
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) out.set(a.data.subarray((ch * frames + f) * h * w, (ch * frames + f + 1) * h * w), ch * h * w);
  return out;
}

describe('Wan2.1 VAE streaming decoder (fixture parity)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-vae-'));
  let manifest: VaeDecoderManifest;
  const chunks: DecodedChunk[] = [];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const weights = await fixtureWeights();
    const { mean, std } = fixtureWrapper();
    manifest = await convertVaeDecoder(weights.tensors, dir, { exposeIntermediates: true, config: { latentMean: mean, latentStd: std } });
    await weights.close();
    const decoder = await VaeChunkDecoder.load(dir);
    const latent = fixtureArray('latent');
    const [, , frames, h, w] = latent.shape;
    const state = decoder.open();
    for (let f = 0; f < frames; f++) chunks.push(await state.decode(frameOf(latent, f), h, w));
    await decoder.release();
  });

  it('derives the fixture config and 32 cache slots from the weights', () => {
    expect(manifest.config.dim).toBe(8);
    expect(manifest.config.zDim).toBe(16);
    // 33 causal convs in Decoder3d; the 1x1x1 shortcut takes no cache slot.
    expect(manifest.caches).toHaveLength(32);
    expect(manifest.caches.filter((c) => c.module.endsWith('time_conv'))).toHaveLength(2);
  });

  it('matches z_unscaled and conv2_out per latent frame', () => {
    const zu = fixtureArray('decode_z_unscaled');
    const c2 = fixtureArray('decode_conv2_out');
    chunks.forEach((chunk, f) => {
      expect(maxAbsDiff(chunk.zUnscaled!, frameOf(zu, f))).toBeLessThan(1e-5);
      expect(maxAbsDiff(chunk.conv2Out!, frameOf(c2, f))).toBeLessThan(ATOL);
    });
  });

  it('matches decode_chunk0/1/2 with 1, 4, 4 frames', () => {
    expect(chunks.map((c) => c.frames)).toEqual([1, 4, 4]);
    expect(chunks.map((c) => c.firstFrame)).toEqual([0, 1, 5]);
    chunks.forEach((chunk, i) => {
      const golden = fixtureArray(`decode_chunk${i}`);
      expect(golden.shape).toEqual([1, 3, chunk.frames, chunk.height, chunk.width]);
      const d = maxAbsDiff(chunk.data, golden.data);
      expect(d).toBeLessThan(ATOL);
    });
  });

  it('concatenates to decode_raw and clamps to decode', () => {
    const raw = fixtureArray('decode_raw');
    const clamped = fixtureArray('decode');
    const [, c, t, h, w] = raw.shape;
    let maxRaw = 0;
    let maxClamped = 0;
    for (const chunk of chunks) {
      for (let ch = 0; ch < c; ch++) for (let f = 0; f < chunk.frames; f++) for (let p = 0; p < h * w; p++) {
        const ours = chunk.data[(ch * chunk.frames + f) * h * w + p];
        const i = (ch * t + chunk.firstFrame + f) * h * w + p;
        maxRaw = Math.max(maxRaw, Math.abs(ours - raw.data[i]));
        maxClamped = Math.max(maxClamped, Math.abs(Math.min(1, Math.max(-1, ours)) - clamped.data[i]));
      }
    }
    expect(maxRaw).toBeLessThan(ATOL);
    expect(maxClamped).toBeLessThan(ATOL);
  });
});
