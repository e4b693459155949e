/**
 * The low-memory choice (issue 17): a DiT whose float32 weights, next to the text encoder's,
 * do not fit in the memory this machine has available runs with its blocks loaded for their
 * turn (WanDiT `lowMemory`). `--low-memory` / `--no-low-memory` override the choice.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';

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
const MARGIN = 2 * 1024 ** 3;

export interface LowMemoryChoice {
  lowMemory: boolean;
  reason: string;
}

/** Chooses the mode from the DiT's parameters and the text encoder's resident float32 bytes. */
export function chooseLowMemory(ditParameters: number, textBytes: number, override?: boolean, available = availableMemory()): LowMemoryChoice {
  const need = 4 * ditParameters + textBytes + MARGIN;
  const gb = (b: number): string => `${(b / 1024 **3).toFixed(1)} GB`;
  if (override !== undefined) return { lowMemory: override, reason: `${override ? '--low-memory' : '--no-low-memory'} given` };
  return need > available
    ? { lowMemory: true, reason: `the weights need about ${gb(need)} and ${gb(available)} is available` }
    : { lowMemory: false, reason: `the weights (about ${gb(need)}) fit in ${gb(available)}` };
}
