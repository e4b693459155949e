/**
 * The built-in demo models against PyTorch runs of the same trained weights
 * (`reference/` in each demo model folder, written by training/reference_run.py): the release-format
 * checkpoint is converted here by the project's own converter, then the TypeScript pipeline
 * must reproduce the tokens, contexts, the seeded noise, every step's latent and the decoded
 * video within the fixture tolerances. This is the proof that export and conversion are right.
 * A larger demo (v2, 128x128 x 17 frames) keeps its reference small: the latents of the steps in
 * `latent_steps` only, and the video in float16 (read back widened; its rounding, at most 2.4e-4,
 * is within the 1e-3 video tolerance).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel } from '../../src/convert/model.js';
import { readNpy, readNpyF32 } from '../../src/io/npy.js';
import { VaeChunkDecoder } from '../../src/models/wan/vae/chunk-decoder.js';
import { Pipeline } from '../../src/pipeline/generate.js';
import { torchRandn } from '../../src/sampling/noise.js';
import { decodeStream, latentFrames } from '../../src/video/decode-stream.js';

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// every demo model that ships a PyTorch reference: the tiny one and v2
const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const DEMOS = ['demo-model', 'demo-model-v2']
  .map((name) => join(SAMPLES, name))
  .filter((dir) => existsSync(join(dir, 'reference', 'settings.json')));

describe.each(DEMOS)('%s', (DEMO) => {
  const settings = JSON.parse(readFileSync(join(DEMO, 'reference/settings.json'), 'utf8')) as {
    seed: number; steps: number; shift: number; guide_scale: number; size_wh: [number, number]; frame_num: number;
    captions: Record<string, { caption: string }>;
    /** The steps latents.npy holds, in order (absent: every step). */
    latent_steps?: number[];
  };
  const latentSteps = settings.latent_steps ?? Array.from({ length: settings.steps }, (_, i) => i);
  const tmp = mkdtempSync(join(tmpdir(), 'demo-parity-'));
  let pipeline: Pipeline;
  let vae: VaeChunkDecoder;

  beforeAll(async () => {
    await convertModel(join(DEMO, 'checkpoint'), join(tmp, 'model'));
    pipeline = await Pipeline.load(join(tmp, 'model'));
    vae = await VaeChunkDecoder.load(join(tmp, 'model', 'vae'));
  });

  afterAll(async () => {
    await pipeline?.release();
    await vae?.release();
    rmSync(tmp, { recursive: true, force: true });
  });

  describe.each(Object.entries(settings.captions))('demo model vs PyTorch: %s', (name, { caption }) => {
    const ref = (file: string) => readNpyF32(join(DEMO, 'reference', name, `${file}.npy`));

    it('tokenizes and encodes the prompt and the negative prompt', async () => {
      const enc = pipeline.text.tokenizer.encode(caption, { maxLength: pipeline.text.textLen });
      expect(Array.from(enc.ids, Number)).toEqual(Array.from(readNpy(join(DEMO, 'reference', name, 'ids.npy')).data as BigInt64Array, Number));
      expect(maxAbs((await pipeline.text.encode(caption)).data, ref('context').data)).toBeLessThan(1e-4);
      expect(maxAbs((await pipeline.text.encode('')).data, ref('neg_context').data)).toBeLessThan(1e-4);
    });

    it('draws the same seeded noise and follows every denoising step', async () => {
      const noise = ref('noise');
      expect(maxAbs(torchRandn(noise.shape, settings.seed), noise.data)).toBe(0);
      const latents = ref('latents');
      const size = noise.data.length;
      const steps: Float32Array[] = [];
      const job = await pipeline.denoise(
        { prompt: caption, negativePrompt: '', seed: settings.seed, steps: settings.steps, shift: settings.shift, guidance: settings.guide_scale,
          solver: 'unipc', width: settings.size_wh[0], height: settings.size_wh[1], frames: settings.frame_num, output: join(tmp, `${name}.mp4`) },
        { onStep: (latent) => steps.push(Float32Array.from(latent)) },
      );
      expect(steps).toHaveLength(settings.steps);
      expect(latents.data.length).toBe(latentSteps.length * size);
      latentSteps.forEach((step, i) => expect(maxAbs(steps[step], latents.data.subarray(i * size, (i + 1) * size))).toBeLessThan(5e-4));
      const latentDiff = maxAbs(job.latent.data, ref('final_latent').data);
      expect(latentDiff).toBeLessThan(5e-4);

      const video = ref('video');
      const [, frames, height, width] = video.shape;
      const decoded = new Float32Array(video.data.length);
      for await (const chunk of decodeStream(vae, latentFrames(job.latent), { height: job.latent.shape[2], width: job.latent.shape[3] })) {
        for (let c = 0; c < 3; c++) for (let f = 0; f < chunk.frames; f++) {
          const src = chunk.data.subarray((c * chunk.frames + f) * height * width, (c * chunk.frames + f + 1) * height * width);
          const dst = (c * frames + chunk.firstFrame + f) * height * width;
          for (let i = 0; i < src.length; i++) decoded[dst + i] = Math.min(1, Math.max(-1, src[i]));
        }
      }
      const videoDiff = maxAbs(decoded, video.data);
      console.log(`${DEMO.slice(SAMPLES.length)} ${name}: max |diff| final latent ${latentDiff.toExponential(1)}, decoded video ${videoDiff.toExponential(1)}`);
      expect(videoDiff).toBeLessThan(1e-3);
    });
  });
});
