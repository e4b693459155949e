/** Shared setup for the sparsity tests: the fixture tiny DiT converted into a temp folder, and the 8-step UniPC run. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/convert/index.js';
import { parseNpy } from '../../src/io/npy.js';
import { WanDiT } from '../../src/models/wan/dit/runtime.js';
import { denoise } from '../../src/sampling/denoise.js';
import type { Latent, TextContext, VelocityModel } from '../../src/core/types.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url));

export function loadF32(rel: string): { shape: number[]; data: Float32Array } {
  const a = parseNpy(new Uint8Array(readFileSync(FIXTURES + rel)), rel);
  if (!(a.data instanceof Float32Array)) throw new Error(`${rel}: expected float32`);
  return { shape: a.shape, data: a.data };
}

export interface TinySetup {
  dit: WanDiT;
  dir: string;
  noise: Latent;
  cond: TextContext;
  uncond: TextContext;
  close(): Promise<void>;
}

export async function tinySetup(): Promise<TinySetup> {
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-sparsity-'));
  await convertCheckpoint(`${FIXTURES}dit/`, join(dir, 'model'));
  const dit = await WanDiT.load(join(dir, 'model'), { intraOpThreads: 1 });
  const n = loadF32('sampler_unipc/noise.npy');
  const c = loadF32('sampler_unipc/context_cond.npy');
  const u = loadF32('sampler_unipc/context_uncond.npy');
  return {
    dit,
    dir,
    noise: { data: n.data, shape: n.shape as Latent['shape'] },
    cond: { data: c.data, shape: c.shape as TextContext['shape'] },
    uncond: { data: u.data, shape: u.shape as TextContext['shape'] },
    async close() {
      await dit.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fixture generation: UniPC, 8 steps, shift 5, guidance 5. */
export async function generate(s: TinySetup, model: VelocityModel): Promise<Float32Array> {
  const out = await denoise({ model, noise: s.noise, cond: s.cond, uncond: s.uncond, steps: 8, shift: 5, guidance: 5, solver: 'unipc' });
  return out.data;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
