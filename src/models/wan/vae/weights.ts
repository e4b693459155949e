/**
 * Opens a VAE checkpoint for the graph builder: original `Wan2.1_VAE.pth` keys are used as
 * they are; a diffusers `AutoencoderKLWan` checkpoint is read through the original names so
 * the rest of the VAE code only knows one naming scheme.
 */
import { openWeights, type WeightSource } from '../../../weights/index.js';
import { diffusersToOriginal } from '../../../weights/keymaps.js';
import type { VaeTensorSource } from './decoder-graph.js';

/** True when the keys follow diffusers' `AutoencoderKLWan` naming (`decoder.conv_in`, `post_quant_conv`). */
export function isDiffusersVae(keys: string[]): boolean {
  return keys.some((k) => k.startsWith('decoder.conv_in.') || k.startsWith('post_quant_conv.'));
}

/** Wraps an opened checkpoint as a source addressed by original Wan VAE key names. */
export function vaeTensorSource(source: WeightSource): VaeTensorSource {
  const byOriginal = new Map<string, string>();
  const rename = isDiffusersVae(source.keys()) ? (k: string) => diffusersToOriginal('vae', k) : (k: string) => k;
  for (const key of source.keys()) byOriginal.set(rename(key), key);
  const stored = (key: string): string => byOriginal.get(key) ?? key;
  return {
    keys: () => [...byOriginal.keys()],
    has: (key) => byOriginal.has(key),
    shape: (key) => source.info(stored(key)).shape,
    readF32: (key) => source.readF32(stored(key)),
  };
}

export async function openVaeWeights(path: string): Promise<{ tensors: VaeTensorSource; close(): Promise<void> }> {
  const source = await openWeights(path);
  return { tensors: vaeTensorSource(source), close: () => source.close() };
}
