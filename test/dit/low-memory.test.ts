/** Issue 17: the low-memory DiT (blocks loaded for their turn, then released) gives the same numbers. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import { chooseLowMemory } from '../../src/pipeline/memory.js';

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
    expect(chooseLowMemory(14e9, 0, undefined, 24 * GB).lowMemory).toBe(true);
    expect(chooseLowMemory(1.4e9, 0, undefined, 24 * GB).lowMemory).toBe(false);
    expect(chooseLowMemory(1.4e9, 0, true, 24 * GB)).toMatchObject({ lowMemory: true, reason: '--low-memory given' });
    expect(chooseLowMemory(14e9, 0, false, 24 * GB).lowMemory).toBe(false);
  });
});
