import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedChunk } from '../../src/models/wan/vae/chunk-decoder.js';
import { decodeStream, latentFrames } from '../../src/video/decode-stream.js';
import { readVideoFrames } from '../../src/video/probe.js';
import { renderLatentToVideo } from '../../src/video/render.js';
import { decodeStreamInWorker, VaeDecodeWorker, VaeDecodeWorkerError } from '../../src/video/worker-decode-stream.js';
import { loadFixtureModel, type FixtureModel } from './fixture-model.js';

async function collect(chunks: AsyncIterable<DecodedChunk>): Promise<DecodedChunk[]> {
  const out: DecodedChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe('decode on a worker thread', () => {
  let model: FixtureModel;
  beforeAll(async () => { model = await loadFixtureModel(); });
  afterAll(async () => model.dispose());

  it('yields the same chunks as the in-thread stream', async () => {
    const size = { height: 4, width: 6 };
    const here = await collect(decodeStream(model.decoder, latentFrames(model.latent), size));
    const there = await collect(decodeStreamInWorker(join(model.dir, 'vae'), latentFrames(model.latent), size));
    expect(there.map((c) => [c.latentIndex, c.firstFrame, c.frames])).toEqual([[0, 0, 1], [1, 1, 4], [2, 5, 4]]);
    there.forEach((c, i) => expect(c.data).toEqual(here[i].data));
  });

  it('decodes in tiles through the same loop as the in-thread stream', async () => {
    const size = { height: 4, width: 6 };
    const tiling = { tileHeight: 4, tileWidth: 4, overlap: 2 };
    const here = await collect(decodeStream(model.decoder, latentFrames(model.latent), size, { tiling }));
    const there = await collect(decodeStreamInWorker(join(model.dir, 'vae'), latentFrames(model.latent), size, { tiling }));
    expect(there.map((c) => [c.latentIndex, c.firstFrame, c.frames])).toEqual(here.map((c) => [c.latentIndex, c.firstFrame, c.frames]));
    there.forEach((c, i) => expect(c.data).toEqual(here[i].data));
  });

  it('one worker, started ahead of its latents, decodes clip after clip and stops', async () => {
    const size = { height: 4, width: 6 };
    const here = await collect(decodeStream(model.decoder, latentFrames(model.latent), size));
    const worker = VaeDecodeWorker.start(join(model.dir, 'vae'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the caller denoising meanwhile
    for (let clip = 0; clip < 2; clip++) {
      const there = await collect(worker.decode(latentFrames(model.latent), size));
      expect(there).toHaveLength(here.length);
      there.forEach((c, i) => expect(c.data).toEqual(here[i].data));
    }
    // a consumer that breaks off after one chunk leaves the worker ready for the next clip
    for await (const _ of worker.decode(latentFrames(model.latent), size)) break;
    expect((await collect(worker.decode(latentFrames(model.latent), size))).map((c) => c.firstFrame)).toEqual([0, 1, 5]);
    await Promise.all([worker.stop(), worker.stop()]);
    expect(worker.broken).toBe(true);
    await expect(collect(worker.decode(latentFrames(model.latent), size))).rejects.toThrow(/has stopped/);
    // a worker that never decodes (a failed denoise) stops too
    await VaeDecodeWorker.start(join(model.dir, 'vae')).stop();
  });

  it('a failed clip marks the worker broken', async () => {
    const worker = VaeDecodeWorker.start(join(model.dir, 'vae'));
    await expect(collect(worker.decode([new Float32Array(5)], { height: 4, width: 6 }))).rejects.toThrow(VaeDecodeWorkerError);
    expect(worker.broken).toBe(true);
    await worker.stop();
  });

  it('reports a decode error from the worker as one typed error', async () => {
    const bad = [new Float32Array(5)];
    const err = await collect(decodeStreamInWorker(join(model.dir, 'vae'), bad, { height: 4, width: 6 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaeDecodeWorkerError);
    expect((err as Error).message).toMatch(/latent frame has 5 values/);
  });

  it('renders the latent to an mp4 through the worker', async () => {
    const output = join(model.dir, 'render.mp4');
    const result = await renderLatentToVideo(join(model.dir, 'vae'), model.latent, { output, settings: { seed: 1 } });
    expect(result.frames).toBe(9);
    const back = await readVideoFrames(output);
    expect(back.frames).toHaveLength(9);
    expect(JSON.parse(back.metadata.comment)).toEqual({ seed: 1 });
  });
});
