/** Issue 17: the low-memory DiT (blocks loaded for their turn, then released) gives the same numbers. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import { WAN_DIT_DEFAULTS, type WanDiTConfig } from '../../src/models/wan/dit/config.js';
import { readDiTManifest } from '../../src/models/wan/dit/manifest.js';
import { chooseLowMemory, weightsInMemory, type WeightsInMemory } from '../../src/pipeline/memory.js';

const DIT = path.resolve(__dirname, '../../samples/demo-model/model/dit');

function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = s / 2 ** 30 - 1;
  }
  return out;
}

describe('low-memory DiT', () => {
  it('runs the forward pass with one block resident at a time and the same output', async () => {
    const full = await WanDiT.load(DIT);
    const low = await WanDiT.load(DIT, { lowMemory: true });
    expect(low.lowMemory).toBe(true);
    const c = full.config;
    const latent = { data: noise(16 * 3 * 8 * 8, 1), shape: [16, 3, 8, 8] as [number, number, number, number] };
    const context = { data: noise(7 * c.textDim, 2), shape: [7, c.textDim] as [number, number] };
    const a = await full.forward(latent, 500, context);
    const b = await low.forward(latent, 500, context);
    expect(b.data).toEqual(a.data);
    // every block's stages were loaded (ctx K/V pass and block pass), never all at once
    expect(low.blockLoads).toBeGreaterThanOrEqual(c.numLayers * 4);
    expect((low as unknown as { sessions: Map<string, unknown> }).sessions.size).toBeLessThanOrEqual(5 + 4);
    await full.release();
    await low.release();
  });

  it('is chosen when the weights do not fit the available memory, and the flags override', () => {
    const GB = 1024 ** 3;
    const w = (dit: number, text = 0): WeightsInMemory => ({ ditBytes: 4 * dit, ditLowMemoryBytes: (4 * dit) / 20, textBytes: text });
    expect(chooseLowMemory(w(14e9), undefined, 24 * GB).lowMemory).toBe(true);
    expect(chooseLowMemory(w(1.4e9), undefined, 24 * GB).lowMemory).toBe(false);
    expect(chooseLowMemory(w(1.4e9), true, 24 * GB)).toMatchObject({ lowMemory: true, reason: '--low-memory given' });
    expect(chooseLowMemory(w(14e9), false, 24 * GB).lowMemory).toBe(false);
  });
});

describe('what the low-memory choice tells the user', () => {
  const GB = 1024 ** 3;
  const WAN_14B: WanDiTConfig = { ...WAN_DIT_DEFAULTS, modelType: 't2v', dim: 5120, ffnDim: 13824, numHeads: 40, numLayers: 40 };
  const UMT5_F32 = 4 * 5.68e9;

  it('does not call the 2 GB headroom "the weights": the demo model says its weights are megabytes', () => {
    const c = chooseLowMemory(weightsInMemory(readDiTManifest(DIT).config, undefined, 4 * 90e3), undefined, 19 * GB);
    expect(c.lowMemory).toBe(false);
    expect(c.reason).toMatch(/^the DiT's weights \(2 MB\) and the text encoder's \(1 MB, loaded whole for the whole run\) with 2\.0 GB for activations fit in the 19\.0 GB available$/);
    expect(c.warning).toBeUndefined();
  });

  it('counts int8 DiT weights at their stored size, not as float32', () => {
    const f32 = weightsInMemory(WAN_14B, undefined, 0);
    const int8 = weightsInMemory(WAN_14B, 'int8', 0);
    expect(int8.ditBytes / f32.ditBytes).toBeCloseTo(1.125 / 4, 5);
    // 14B in int8 (≈ 15 GB) fits a 24 GB machine with a layered text encoder: no low-memory mode needed
    expect(chooseLowMemory(int8, undefined, 24 * GB).lowMemory).toBe(false);
    expect(chooseLowMemory(f32, undefined, 24 * GB).lowMemory).toBe(true);
  });

  it('says low-memory mode keeps a one-graph text encoder loaded, and points to --text-mode layered when that is what does not fit', () => {
    const c = chooseLowMemory(weightsInMemory(WAN_14B, undefined, UMT5_F32), undefined, 24 * GB);
    expect(c.lowMemory).toBe(true);
    expect(c.reason).toMatch(/text encoder's \(21\.2 GB, loaded whole for the whole run\)/);
    expect(c.reason).toMatch(/low-memory mode holds the DiT's small stages and one block at a time \(about 2\.\d GB\)/);
    expect(c.warning).toMatch(/even low-memory mode holds about 2\d\.\d GB of weights/);
    expect(c.warning).toMatch(/stays loaded in either mode: convert the model again with `--text-mode layered`/);
  });

  it('with a layered text encoder, low-memory mode fits and there is no warning', () => {
    const c = chooseLowMemory(weightsInMemory(WAN_14B, undefined, 0), undefined, 24 * GB);
    expect(c.lowMemory).toBe(true);
    expect(c.reason).toMatch(/the text encoder reads one layer at a time from its checkpoint/);
    expect(c.warning).toBeUndefined();
  });

  it('warns when --no-low-memory is given and the weights do not fit, and when --low-memory cannot fit either', () => {
    expect(chooseLowMemory(weightsInMemory(WAN_14B, undefined, 0), false, 24 * GB).warning).toMatch(/may swap or be killed; drop --no-low-memory/);
    expect(chooseLowMemory(weightsInMemory(WAN_14B, undefined, 0), false, 80 * GB).warning).toBeUndefined();
    expect(chooseLowMemory(weightsInMemory(WAN_14B, undefined, 0), true, 2 * GB).warning).toMatch(/--quantize int8/);
  });
});
