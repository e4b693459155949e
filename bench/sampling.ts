/**
 * Cost of the sampler side of one generation at the release size (832x480, 81 frames:
 * latent 16x21x60x104): seeded noise, one CFG combine and one step of each solver.
 * Run: npx tsx bench/sampling.ts
 */
import { createSolver } from '../src/sampling/solvers.js';
import { combineGuidance } from '../src/sampling/guidance.js';
import { torchRandn } from '../src/sampling/noise.js';
import type { SolverName } from '../src/sampling/schedule.js';

const shape = [16, 21, 60, 104];
const time = (label: string, fn: () => void, repeat = 3): void => {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  console.log(`${label.padEnd(34)} ${((performance.now() - t0) / repeat).toFixed(1)} ms`);
};

const n = shape.reduce((a, b) => a * b, 1);
console.log(`latent ${shape.join('x')} = ${n} values`);
let noise: Float32Array = new Float32Array(0);
time('torchRandn (avx2 replay)', () => { noise = torchRandn(shape, 42); }, 1);
time('torchRandn (libm flavour)', () => { torchRandn(shape, 42, { flavor: 'scalar' }); }, 1);
const cond = noise.map((v) => v * 0.9);
const uncond = noise.map((v) => v * 1.1);
time('combineGuidance', () => { combineGuidance(cond, uncond, 5); });
for (const name of ['unipc', 'dpm++', 'euler'] as SolverName[]) {
  const solver = createSolver(name, 50, 5);
  let x = noise;
  // Steps 0..3 cover the warm-up and the steady second-order (UniPC: corrected) path.
  const t0 = performance.now();
  for (let i = 0; i < 4; i++) x = solver.step(cond, x);
  console.log(`${(name + ' step (mean of steps 0-3)').padEnd(34)} ${((performance.now() - t0) / 4).toFixed(1)} ms`);
}
