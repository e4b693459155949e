/**
 * Fits a pipeline's latent-to-RGB preview projection (src/video/preview.ts) by least squares
 * from latents it generates and their VAE-decoded frames, and writes `latent_rgb.json` into its
 * VAE folder (and, with --checkpoint DIR, into the release folder so `convert` carries it).
 *
 *   npx tsx scripts/fit-latent-rgb.ts [--pipeline wan-demo] [--checkpoint samples/demo-model-v2/checkpoint]
 *
 * The prompts are the demo vocabulary; for another model pass --prompts FILE (one a line).
 * Cost: one full generation per prompt (seconds each for the demo; far too slow for real
 * Wan2.1 on CPU, so there is no fit-on-first-use).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline } from '../src/pipeline/generate.js';
import { decodeStreamInWorker } from '../src/video/worker-decode-stream.js';
import { latentFrames } from '../src/video/decode-stream.js';
import { planarToRgb24 } from '../src/video/pixels.js';
import { fitLatentRgb, LATENT_RGB_FILE } from '../src/video/preview.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const pipelineName = arg('--pipeline') ?? 'wan-demo';
const checkpoint = arg('--checkpoint');
const promptsFile = arg('--prompts');
const colours = ['red', 'green', 'blue', 'yellow', 'white', 'purple'];
const shapes = ['circle', 'square', 'triangle'];
const moves = ['left', 'right', 'up', 'down'];
const all = promptsFile
  ? readFileSync(promptsFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean)
  : colours.flatMap((c, i) => [0, 1].map((k) => `a ${c} ${shapes[(i + k) % 3]} moving ${moves[(i + 2 * k) % 4]}${k ? ' on a light background' : ''}`));

const prompts = process.argv.includes('--quick') ? all.slice(0, 3) : all;
const pipeline = await Pipeline.load(pipelineName, { threads: 2 });
const samples = [];
for (const [i, prompt] of prompts.entries()) {
  const job = await pipeline.denoise({ prompt, seed: 1000 + i, output: 'unused.mp4' });
  const [, , h, w] = job.latent.shape;
  const frames: Uint8Array[] = [];
  for await (const chunk of decodeStreamInWorker(pipeline.definition.models.vae, latentFrames(job.latent), { height: h, width: w })) {
    frames.push(...planarToRgb24(chunk.data, chunk.frames, chunk.height, chunk.width));
  }
  samples.push({ latent: job.latent.data, shape: job.latent.shape, frames, spatialScale: pipeline.vae.config.spatialScale, temporalScale: pipeline.vae.config.temporalScale });
  process.stderr.write(`${i + 1}/${prompts.length} ${prompt}\n`);
}
await pipeline.release();
if (arg('--dump')) writeFileSync(arg('--dump')!, JSON.stringify(samples.map((x) => ({ ...x, latent: Array.from(x.latent), frames: x.frames.map((f) => Buffer.from(f).toString('base64')) }))));
const fit = fitLatentRgb(samples, { frameMean: !process.argv.includes('--per-pixel') });
fit.fitted = { ...fit.fitted, pipeline: pipeline.definition.name, videos: samples.length, how: 'least squares (ridge 1e-4) of each latent pixel (and its latent frame\'s mean) against the mean colour of the pixels it decodes to, over generated videos; scripts/fit-latent-rgb.ts' };
const text = `${JSON.stringify(fit, null, 1)}\n`;
writeFileSync(join(pipeline.definition.models.vae, LATENT_RGB_FILE), text);
if (checkpoint) writeFileSync(join(checkpoint, LATENT_RGB_FILE), text);
process.stdout.write(`wrote ${join(pipeline.definition.models.vae, LATENT_RGB_FILE)}: mean abs error ${String(fit.fitted?.meanAbsError)}\n`);
