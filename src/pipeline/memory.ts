/**
 * The low-memory choice (issue 17): a DiT whose weights, next to the text encoder's, do not fit
 * in the memory this machine has available runs with its blocks loaded for their turn (WanDiT
 * `lowMemory`). `--low-memory` / `--no-low-memory` override the choice.
 *
 * What each mode holds, as Pipeline.load and WanDiT do it:
 * - standard: every DiT stage's session (float32 weights, or int8/int4 blocks with --quantize;
 *   float16 storage is widened to float32 when onnxruntime folds the casts at load, bfloat16
 *   storage stays half: its sessions do not fold the casts);
 * - low-memory: the DiT's small stages (embeddings, head) and one block's sessions at a time;
 * - in both: the text encoder as loaded. A one-graph encoder (`convert --text-mode onnx`) keeps
 *   its float32 weights for the whole run, low-memory mode does not release it; a layered one
 *   (`--text-mode layered`) reads one layer at a time from its checkpoint and holds none.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { WanDiTConfig } from '../models/wan/dit/config.js';
import { ditParameters, formatBytes } from './estimate.js';

/** Available memory in bytes (MemAvailable on Linux, else os.freemem). */
export function availableMemory(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/** Headroom kept for activations, the VAE and everything else. */
export const MARGIN = 2 * 1024 ** 3;

/** Weight bytes a generation holds, per mode. */
export interface WeightsInMemory {
  /** The DiT's weights with every block loaded (standard mode). */
  ditBytes: number;
  /** What low-memory mode holds of the DiT's weights: the small stages and one block (WanDiT releases a block before it loads the next). */
  ditLowMemoryBytes: number;
  /** The text encoder's weights, held for the whole run in either mode (0 when it runs layer by layer from its checkpoint). */
  textBytes: number;
}

/** Bytes per DiT parameter in memory: int8/int4 blocks with their scales, bfloat16 (kept half), else float32 (float16 files included). */
export function ditBytesPerParameter(quantized?: 'int8' | 'int4', storage?: 'float32' | 'float16' | 'bfloat16'): number {
  return quantized === 'int8' ? 1.125 : quantized === 'int4' ? 0.625 : storage === 'bfloat16' ? 2 : 4;
}

/** The weights a pipeline holds, from the DiT's config and storage and the text encoder's resident bytes. */
export function weightsInMemory(dit: WanDiTConfig, quantized: 'int8' | 'int4' | undefined, textBytes: number, storage?: 'float32' | 'float16' | 'bfloat16'): WeightsInMemory {
  const p = ditParameters(dit);
  const b = ditBytesPerParameter(quantized, storage);
  return { ditBytes: b * p.total, ditLowMemoryBytes: b * (p.total - (dit.numLayers - 1) * p.perBlock), textBytes };
}

export interface LowMemoryChoice {
  lowMemory: boolean;
  /** Why this mode: what the weights need against what is available, in words. */
  reason: string;
  /** Set when the chosen mode is still not expected to fit, with what the user can do. */
  warning?: string;
}

/** Chooses the mode from the weights each mode holds and the available memory. */
export function chooseLowMemory(w: WeightsInMemory, override?: boolean, available = availableMemory()): LowMemoryChoice {
  const gb = formatBytes;
  const standard = w.ditBytes + w.textBytes;
  const low = w.ditLowMemoryBytes + w.textBytes;
  const weights = w.textBytes > 0
    ? `the DiT's weights (${gb(w.ditBytes)}) and the text encoder's (${gb(w.textBytes)}, loaded whole for the whole run)`
    : `the DiT's weights (${gb(w.ditBytes)}; the text encoder reads one layer at a time from its checkpoint)`;
  const lowFits = low + MARGIN <= available;
  // What still does not fit in low-memory mode, and what would make it fit.
  const lowWarning = (): string => {
    const advice = w.textBytes > w.ditLowMemoryBytes
      ? `the text encoder's ${gb(w.textBytes)} stays loaded in either mode: convert the model again with \`--text-mode layered\` (it then reads one layer at a time from its checkpoint)`
      : 'free memory, use a machine with more, or convert the DiT with `--quantize int8` (about a quarter of the float32 weights)';
    return `even low-memory mode holds about ${gb(low)} of weights, and ${gb(MARGIN)} is kept for activations, more than the ${gb(available)} available; ${advice}`;
  };
  if (override === true) return { lowMemory: true, reason: '--low-memory given', ...(!lowFits && { warning: lowWarning() }) };
  if (override === false) {
    return {
      lowMemory: false, reason: '--no-low-memory given',
      ...(standard + MARGIN > available && { warning: `${weights} with ${gb(MARGIN)} for activations need about ${gb(standard + MARGIN)}, more than the ${gb(available)} available: the run may swap or be killed; drop --no-low-memory to load the DiT's blocks for their turn` }),
    };
  }
  if (standard + MARGIN <= available) return { lowMemory: false, reason: `${weights} with ${gb(MARGIN)} for activations fit in the ${gb(available)} available` };
  return {
    lowMemory: true,
    reason: `${weights} with ${gb(MARGIN)} for activations need about ${gb(standard + MARGIN)}, more than the ${gb(available)} available; low-memory mode holds the DiT's small stages and one block at a time (about ${gb(w.ditLowMemoryBytes)})`,
    ...(!lowFits && { warning: lowWarning() }),
  };
}
