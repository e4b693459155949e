import { describe, expect, it } from 'vitest';
import { planDecoder } from '../../src/models/wan/vae/config.js';
import { isDiffusersVae, vaeTensorSource } from '../../src/models/wan/vae/weights.js';
import { openWeights, type WeightSource } from '../../src/weights/index.js';
import { originalToDiffusers } from '../../src/weights/keymaps.js';
import { VAE_WEIGHTS } from './fixture.js';

/** The fixture checkpoint seen through diffusers' AutoencoderKLWan key names. */
function renamedToDiffusers(source: WeightSource): WeightSource {
  const toOriginal = new Map(source.keys().map((k) => [originalToDiffusers('vae', k), k]));
  const orig = (k: string): string => toOriginal.get(k) ?? `<missing ${k}>`;
  return {
    path: source.path,
    keys: () => [...toOriginal.keys()],
    has: (k) => toOriginal.has(k),
    info: (k) => ({ ...source.info(orig(k)), name: k }),
    readF32: (k) => source.readF32(orig(k)),
    close: () => source.close(),
  };
}

describe('VAE checkpoint naming', () => {
  it('reads a diffusers-named checkpoint through the original names', async () => {
    const source = await openWeights(VAE_WEIGHTS);
    const original = vaeTensorSource(source);
    const diffusers = renamedToDiffusers(source);
    expect(isDiffusersVae(diffusers.keys())).toBe(true);
    expect(isDiffusersVae(source.keys())).toBe(false);
    const mapped = vaeTensorSource(diffusers);
    expect(planDecoder(mapped)).toEqual(planDecoder(original));
    expect(mapped.has('decoder.upsamples.4.shortcut.weight')).toBe(true);
    expect(await mapped.readF32('decoder.middle.1.to_qkv.weight')).toEqual(await source.readF32('decoder.middle.1.to_qkv.weight'));
    await source.close();
  });
});
