/**
 * Cost of the fidelity metrics at Wan2.1's 832×480 size: PSNR, SSIM (separable, valid window)
 * and VBench temporal flickering over a clip, plus the separable SSIM against the direct 11×11
 * reference from the tests on one frame (agreement and speed ratio).
 * `npx tsx bench/eval-metrics.ts [frames=17]`
 */
import { frameSsim, psnr, ssim, temporalFlickering, type Clip } from '../src/video/metrics.js';
import { referenceFrameSsim } from '../test/eval/reference-metrics.js';

const W = 832, H = 480;
const F = Number(process.argv[2] ?? 17);

function frame(seed: number, shift: number): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  let s = seed >>> 0 || 1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = 128 + 90 * Math.sin((x + shift) / 37 + c) * Math.cos(y / 23) + ((s >>> 24) - 128) * 0.1;
    out[(y * W + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return out;
}

const a: Clip = { width: W, height: H, frames: Array.from({ length: F }, (_, i) => frame(1 + i, i)) };
const b: Clip = { width: W, height: H, frames: Array.from({ length: F }, (_, i) => frame(100 + i, i + 0.5)) };

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  console.log(`${label.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms  (${(ms / F).toFixed(1)} ms/frame)`);
  return r;
}

console.log(`${F} frames of ${W}×${H} RGB`);
const p = time('PSNR (per frame, mean)', () => psnr(a, b));
const s = time('SSIM (3 channels, separable)', () => ssim(a, b));
const f = time('temporal flickering', () => temporalFlickering(a));
console.log(`PSNR ${p.psnr.toFixed(3)} dB, SSIM ${s.ssim.toFixed(5)}, flicker ${f.score.toFixed(5)}`);

const t0 = performance.now();
const fast = frameSsim(a.frames[0]!, b.frames[0]!, W, H);
const t1 = performance.now();
const direct = referenceFrameSsim(a.frames[0]!, b.frames[0]!, W, H, 255);
const t2 = performance.now();
console.log(`one frame: separable ${(t1 - t0).toFixed(0)} ms, direct 11×11 ${(t2 - t1).toFixed(0)} ms (${((t2 - t1) / (t1 - t0)).toFixed(1)}× slower), |Δ| = ${Math.abs(fast - direct).toExponential(2)}`);
