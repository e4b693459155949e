/** Paths and loaders for the wan21-tiny VAE fixtures shared by the VAE and video tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpyF32 } from '../../src/io/npy.js';
import { openVaeWeights } from '../../src/models/wan/vae/weights.js';
import type { VaeTensorSource } from '../../src/models/wan/vae/decoder-graph.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url));
export const VAE_WEIGHTS = `${FIXTURE_DIR}vae/wan21_tiny_vae.pth`;

export function fixtureArray(name: string): { shape: number[]; data: Float32Array } {
  return readNpyF32(`${FIXTURE_DIR}vae/${name}.npy`);
}

export function fixtureWrapper(): { mean: number[]; std: number[] } {
  const manifest = JSON.parse(readFileSync(`${FIXTURE_DIR}manifest.json`, 'utf8')) as { fixtures: { vae: { wrapper: { mean: number[]; std: number[] } } } };
  return manifest.fixtures.vae.wrapper;
}

/** The fixture checkpoint (original Wan key names) opened through the library's reader. */
export function fixtureWeights(): Promise<{ tensors: VaeTensorSource; close(): Promise<void> }> {
  return openVaeWeights(VAE_WEIGHTS);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
