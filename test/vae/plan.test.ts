import { describe, expect, it } from 'vitest';
import { planDecoder, planScales } from '../../src/models/wan/vae/config.js';
import { vaeDecoderShapes } from '../../src/models/wan/vae/random-weights.js';
import { fixtureWeights } from './fixture.js';

describe('decoder plan from weight shapes', () => {
  it('random-weight layout (dim 8) has exactly the fixture checkpoint decoder shapes', async () => {
    const w = await fixtureWeights();
    const ours = vaeDecoderShapes({ dim: 8 });
    const theirs = w.tensors.keys().filter((k) => k.startsWith('decoder.') || k.startsWith('conv2.'));
    expect([...ours.keys()].sort()).toEqual(theirs.sort());
    for (const k of theirs) expect(ours.get(k)).toEqual(w.tensors.shape(k));
    await w.close();
  });

  it('reads the release structure (dim 96) from shapes alone', () => {
    const shapes = vaeDecoderShapes();
    const plan = planDecoder({ keys: () => [...shapes.keys()], has: (k) => shapes.has(k), shape: (k) => shapes.get(k)! });
    expect(plan.inChannels).toBe(384);
    expect(plan.headChannels).toBe(96);
    expect(plan.middle.map((l) => l.kind)).toEqual(['residual', 'attention', 'residual']);
    expect(plan.upsamples.map((l) => l.kind)).toEqual([
      'residual', 'residual', 'residual', 'upsample3d', 'residual', 'residual', 'residual', 'upsample3d',
      'residual', 'residual', 'residual', 'upsample2d', 'residual', 'residual', 'residual',
    ]);
    expect(plan.upsamples[4]).toMatchObject({ kind: 'residual', inChannels: 192, outChannels: 384, shortcut: true });
    expect(planScales(plan)).toEqual({ spatial: 8, temporal: 4 });
  });
});
