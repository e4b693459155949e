/**
 * Prints the decoder's max abs difference to every wan21-tiny VAE golden (the parity test
 * asserts < 1e-4; this shows the actual margins). Run: npx tsx bench/vae-parity-report.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpyF32 } from '../src/io/npy.js';
import { VaeChunkDecoder } from '../src/models/wan/vae/chunk-decoder.js';
import { convertVaeCheckpoint } from '../src/models/wan/vae/convert.js';
import { latentFrame } from '../src/video/decode-stream.js';

const fixtures = fileURLToPath(new URL('../../shared/fixtures/wan21-tiny/', import.meta.url));
const load = (name: string): { shape: number[]; data: Float32Array } => readNpyF32(join(fixtures, 'vae', `${name}.npy`));
const wrapper = (JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { fixtures: { vae: { wrapper: { mean: number[]; std: number[] } } } }).fixtures.vae.wrapper;
const dir = mkdtempSync(join(tmpdir(), 'diffsparse-vae-parity-'));
try {
  await convertVaeCheckpoint(join(fixtures, 'vae', 'wan21_tiny_vae.pth'), dir, { exposeIntermediates: true, config: { latentMean: wrapper.mean, latentStd: wrapper.std } });
  const decoder = await VaeChunkDecoder.load(dir);
  const z = load('latent');
  const [, c, frames, h, w] = z.shape;
  const state = decoder.open();
  const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const raw = load('decode_raw');
  const clamped = load('decode');
  let rawMax = 0;
  let clampedMax = 0;
  for (let f = 0; f < frames; f++) {
    const chunk = await state.decode(latentFrame({ data: z.data, shape: [c, frames, h, w] }, f), h, w);
    const golden = load(`decode_chunk${f}`);
    console.log(`decode_chunk${f}: max abs ${maxDiff(chunk.data, golden.data).toExponential(2)}`);
    const zu = latentFrame({ data: load('decode_z_unscaled').data, shape: [c, frames, h, w] }, f);
    const c2 = latentFrame({ data: load('decode_conv2_out').data, shape: [c, frames, h, w] }, f);
    console.log(`  z_unscaled ${maxDiff(chunk.zUnscaled!, zu).toExponential(2)}, conv2_out ${maxDiff(chunk.conv2Out!, c2).toExponential(2)}`);
    const [T, HW] = [raw.shape[2], raw.shape[3] * raw.shape[4]];
    for (let ch = 0; ch < 3; ch++) for (let t = 0; t < chunk.frames; t++) for (let p = 0; p < HW; p++) {
      const ours = chunk.data[(ch * chunk.frames + t) * HW + p];
      const i = (ch * T + chunk.firstFrame + t) * HW + p;
      rawMax = Math.max(rawMax, Math.abs(ours - raw.data[i]));
      clampedMax = Math.max(clampedMax, Math.abs(Math.min(1, Math.max(-1, ours)) - clamped.data[i]));
    }
  }
  console.log(`decode_raw: max abs ${rawMax.toExponential(2)}; decode (clamped): max abs ${clampedMax.toExponential(2)}`);
  await decoder.release();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
