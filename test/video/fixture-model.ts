/** Converts the wan21-tiny VAE once per test file and exposes the fixture latent and decode. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertVaeDecoder } from '../../src/models/wan/vae/convert.js';
import { VaeChunkDecoder } from '../../src/models/wan/vae/chunk-decoder.js';
import type { Latent } from '../../src/core/types.js';
import { fixtureArray, fixtureWeights, fixtureWrapper } from '../vae/fixture.js';

export interface FixtureModel {
  dir: string;
  decoder: VaeChunkDecoder;
  latent: Latent;
  dispose(): Promise<void>;
}

export async function loadFixtureModel(): Promise<FixtureModel> {
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-video-'));
  const weights = await fixtureWeights();
  const { mean, std } = fixtureWrapper();
  await convertVaeDecoder(weights.tensors, join(dir, 'vae'), { config: { latentMean: mean, latentStd: std } });
  await weights.close();
  const decoder = await VaeChunkDecoder.load(join(dir, 'vae'));
  const z = fixtureArray('latent');
  const [, c, f, h, w] = z.shape;
  return {
    dir,
    decoder,
    latent: { data: z.data, shape: [c, f, h, w] },
    async dispose() {
      await decoder.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
