/**
 * `startDecoder` (what `generate` asks for): the VAE decode worker starts before the text encoder
 * and the DiT load, so its start-up overlaps model loading instead of denoising. It must change
 * nothing but timing, and a load that fails must not leave the worker behind.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../src/pipeline/definition.js';
import { Pipeline } from '../../src/pipeline/generate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ds-start-decoder-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function frames(folder: string): Promise<Buffer[]> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.png')).sort();
  return Promise.all(names.map((n) => readFile(path.join(folder, n))));
}

describe('Pipeline.load({ startDecoder })', () => {
  it('renders the same frames as a pipeline whose decoder starts with the first generation', async () => {
    const request = { prompt: 'a red circle moving right', seed: 5, steps: 4, format: 'png' as const };
    const outputs: Buffer[][] = [];
    for (const startDecoder of [false, true]) {
      const pipeline = await Pipeline.load('wan-demo-tiny', { threads: 1, startDecoder });
      try {
        const result = await pipeline.generate({ ...request, output: path.join(dir, `early-${startDecoder}`) });
        outputs.push(await frames(result.output));
      } finally {
        await pipeline.release();
      }
    }
    expect(outputs[0].length).toBeGreaterThan(0);
    expect(outputs[1].length).toBe(outputs[0].length);
    outputs[1].forEach((f, i) => expect(f.equals(outputs[0][i]), `frame ${i}`).toBe(true));
  });

  it('a load that fails after the decoder started rejects with the load error', async () => {
    const tiny = resolvePipeline('wan-demo-tiny');
    const definition = path.join(dir, 'broken.json');
    const shipped = JSON.parse(await readFile(new URL('../../pipelines/wan-demo-tiny.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const { schedules: _relative, ...rest } = shipped;
    await writeFile(definition, JSON.stringify({ ...rest, name: 'broken', models: { dit: path.join(dir, 'no-dit'), vae: tiny.models.vae, text: tiny.models.text } }));
    await expect(Pipeline.load(definition, { threads: 1, startDecoder: true })).rejects.toThrow(/no-dit/);
  });
});
