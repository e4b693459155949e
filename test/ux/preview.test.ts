/**
 * Issue 19, item 4: `--preview` writes cheap previews of the predicted video while denoising
 * (latent-to-RGB projection, no VAE), off by default, and leaves the final video unchanged.
 */
import { readdirSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../src/pipeline/definition.js';
import { Pipeline } from '../../src/pipeline/generate.js';
import { fitLatentRgb, latentPreviewPng, readLatentRgb } from '../../src/video/preview.js';

let dir: string;
let pipeline: Pipeline;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ds-preview-'));
  pipeline = await Pipeline.load('wan-demo-tiny', { threads: 1 }); // the tiny demo model keeps the runs quick
  return () => pipeline.release();
});

async function pngFrames(folder: string): Promise<Buffer[]> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.png')).sort();
  return Promise.all(names.map((n) => readFile(path.join(folder, n))));
}

describe('--preview (issue 19, item 4)', () => {
  it('both demo models ship a fitted projection, better than one flat colour', () => {
    for (const name of ['wan-demo', 'wan-demo-tiny']) {
      const proj = readLatentRgb(resolvePipeline(name).models.vae)!;
      expect(proj.factors, name).toHaveLength(16);
      expect(proj.fitted?.meanAbsError, name).toBeLessThan(proj.fitted?.flatColourError as number);
      expect(proj.fitted?.pipeline, name).toBe(name);
    }
  });

  it('writes previews every N steps into a folder or one file, and the final video is unchanged', async () => {
    const base = { prompt: 'a red circle moving right', seed: 11, steps: 6, format: 'png' as const };
    const plain = await pipeline.generate({ ...base, output: path.join(dir, 'plain') });
    const folder = path.join(dir, 'previews');
    const during: number[] = [];
    const withFolder = await pipeline.generate({ ...base, output: path.join(dir, 'folder'), preview: folder, previewEvery: 2 }, {
      // previews appear during the run, not at its end
      onStep: (_latent, step) => { if (step === 2) during.push(readdirSync(folder).length); },
    });
    expect(during).toEqual([1]);
    expect((await readdir(folder)).sort()).toEqual(['step-0002.png', 'step-0004.png', 'step-0006.png']);
    const img = PNG.sync.read(await readFile(path.join(folder, 'step-0006.png')));
    expect([img.width, img.height]).toEqual([3 * 64 + 2 * 2, 64]); // 3 latent frames, each at frame size
    const file = path.join(dir, 'live.png');
    await pipeline.generate({ ...base, output: path.join(dir, 'file'), preview: file, previewEvery: 4 });
    expect((await stat(file)).size).toBeGreaterThan(100);
    expect(await readdir(dir)).not.toContain(expect.stringMatching(/live\.png\.tmp/));
    // same frames with and without previews, and the same sidecar settings
    const a = await pngFrames(plain.output);
    const b = await pngFrames(withFolder.output);
    expect(b.length).toBe(a.length);
    b.forEach((f, i) => expect(f.equals(a[i]), `frame ${i}`).toBe(true));
    const settings = async (o: string): Promise<unknown> => (JSON.parse(await readFile(`${o}.json`, 'utf8')) as { settings: Record<string, unknown> }).settings;
    expect({ ...(await settings(withFolder.output) as object) }).toEqual(await settings(plain.output));
  });

  it('a model without a projection refuses --preview naming the fix; fitting recovers a known projection', async () => {
    const copy = path.join(dir, 'model-copy');
    await cp(path.join(path.dirname(pipeline.definition.models.vae)), copy, { recursive: true });
    await rm(path.join(copy, 'vae', 'latent_rgb.json'));
    const bare = await Pipeline.load(copy, { threads: 1 });
    await expect(bare.denoise({ prompt: 'a red circle', output: 'x.mp4', steps: 1, preview: path.join(dir, 'p.png') })).rejects.toThrow(/no latent-to-RGB projection .*fit-latent-rgb\.ts/);
    await bare.release();
    const shape = [2, 1, 1, 2] as const;
    // two channels, rgb = 0.5·z0 − 0.25·z1 + 0.1 (in [−1, 1]); frames decoded at scale 1
    const latents = Array.from({ length: 20 }, (_, i) => Float32Array.from([Math.sin(i), Math.cos(i) * 0.5, Math.cos(3 * i) * 0.7, Math.sin(2 * i) * 0.3]));
    const samples = latents.map((l) => {
      const frame = new Uint8Array(2 * 3);
      for (let w = 0; w < 2; w++) for (let k = 0; k < 3; k++) frame[w * 3 + k] = Math.round(((0.5 * l[w] - 0.25 * l[2 + w] + 0.1 + 1) / 2) * 255);
      return { latent: l, shape, frames: [frame], spatialScale: 1, temporalScale: 4 };
    });
    const fit = fitLatentRgb(samples, { ridge: 0 });
    expect(fit.factors[0][0]).toBeCloseTo(0.5, 1);
    expect(fit.factors[1][2]).toBeCloseTo(-0.25, 1);
    expect(fit.bias[1]).toBeCloseTo(0.1, 1);
    expect(latentPreviewPng(latents[0], shape, fit, 4).length).toBeGreaterThan(50);
  });
});
