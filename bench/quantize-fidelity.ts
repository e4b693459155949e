/**
 * Issue 17: int8 (and int4) DiT weights, and float16/bfloat16 weight storage, on the demo model.
 * Converts the demo checkpoint once per variant (float32, --quantize int8, --quantize int4,
 * --dtype float16, --dtype bfloat16), generates the same prompts and seeds with each, decodes
 * the latents with the same VAE and reports PSNR/SSIM of the frames against float32, plus the
 * denoising time.
 *
 *   npm run bench -- quantize-fidelity [--steps 20] [--variants int8,int4,float16,bfloat16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertModel } from '../src/convert/model.js';
import { VaeChunkDecoder } from '../src/models/wan/vae/chunk-decoder.js';
import { Pipeline } from '../src/pipeline/generate.js';
import { decodeStream, latentFrames } from '../src/video/decode-stream.js';
import { planarToRgb24 } from '../src/video/pixels.js';
import { psnr, ssim, type Clip } from '../src/video/metrics.js';

const argv = process.argv.slice(2);
const stepsArg = argv.indexOf('--steps');
const steps = stepsArg >= 0 ? Number(argv[stepsArg + 1]) : 20;
const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ds-quant-'));
const variantsArg = argv.indexOf('--variants');
const variants = (variantsArg >= 0 ? argv[variantsArg + 1]! : 'int8,int4,float16,bfloat16').split(',') as ('int8' | 'int4' | 'float16' | 'bfloat16')[];
const cases = [{ prompt: 'a red circle moving right', seed: 1 }, { prompt: 'a blue triangle moving up', seed: 2 }];

async function clips(model: string): Promise<{ clips: Clip[]; denoiseSeconds: number }> {
  const p = await Pipeline.load(model, { threads: 2 });
  const vae = await VaeChunkDecoder.load(join(model, 'vae'));
  const out: Clip[] = [];
  let seconds = 0;
  for (const c of cases) {
    const t0 = performance.now();
    const job = await p.denoise({ prompt: c.prompt, seed: c.seed, steps, output: join(dir, 'unused.mp4') });
    seconds += (performance.now() - t0) / 1000;
    const frames: Uint8Array[] = [];
    const [, , h, w] = job.latent.shape;
    for await (const chunk of decodeStream(vae, latentFrames(job.latent), { height: h, width: w })) frames.push(...planarToRgb24(chunk.data, chunk.frames, chunk.height, chunk.width));
    out.push({ width: w * 8, height: h * 8, frames });
  }
  await p.release();
  return { clips: out, denoiseSeconds: seconds };
}

try {
  const folders: Record<string, string> = {};
  for (const q of ['float32', ...variants] as const) {
    folders[q] = join(dir, q);
    await convertModel(join(root, 'samples/demo-model/checkpoint'), folders[q], q === 'float32' ? {} : q === 'int8' || q === 'int4' ? { quantize: q } : { dtype: q });
  }
  const ref = await clips(folders.float32);
  console.log(`float32: denoise ${ref.denoiseSeconds.toFixed(2)} s for ${cases.length} videos × ${steps} steps`);
  for (const q of variants) {
    const r = await clips(folders[q]);
    const p = r.clips.map((c, i) => psnr(ref.clips[i], c).psnr);
    const s = r.clips.map((c, i) => ssim(ref.clips[i], c).ssim);
    console.log(`${q}: PSNR vs float32 ${p.map((v) => v.toFixed(1)).join(', ')} dB (mean ${(p.reduce((a, b) => a + b) / p.length).toFixed(1)}), SSIM ${s.map((v) => v.toFixed(3)).join(', ')}; denoise ${r.denoiseSeconds.toFixed(2)} s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
