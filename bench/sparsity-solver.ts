/**
 * Times the budget solver on the DiffSparse-sized instance (50 steps × 30 layers × 5 levels)
 * with Wan2.1-1.3B 480p FLOPs per level, at several budgets. Run: npx tsx bench/sparsity-solver.ts
 */
import { denseBlockFlops, levelFlops, type FlopsShape } from '../src/sparsity/flops.js';
import { solveLevelSchedule } from '../src/sparsity/solver.js';

const shape: FlopsShape = { dim: 1536, ffnDim: 8960, textLen: 512, textDim: 4096, layers: 30, tokens: 32760, patchFeatures: 64, headFeatures: 64, freqDim: 256 };
const steps = 50;
const levels = [0, 0.25, 0.5, 0.75, 1];
let seed = 12345;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const cost = Array.from({ length: steps }, () => Array.from({ length: shape.layers }, () => levels.map((v) => (1 - v) ** 2 * rand())));
const dense = denseBlockFlops(shape).total;
for (const variant of ['reuse', 'cached-kv'] as const) {
  const lf = levels.map((v) => levelFlops(shape, v, variant));
  for (const budget of [0.75, 0.5, 0.35]) {
    // min of 3 runs: the machine is shared, the minimum is the least disturbed measurement
    let ms = Infinity;
    let sol!: ReturnType<typeof solveLevelSchedule>;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      sol = solveLevelSchedule({ steps, layers: shape.layers, levels, cost, levelFlops: lf, denseBlockFlops: dense, blockFlopsBudget: budget * steps * shape.layers * dense });
      ms = Math.min(ms, performance.now() - t0);
    }
    console.log(`${variant.padEnd(9)} budget ${(budget * 100).toFixed(0)}%: ${ms.toFixed(0)} ms, ${sol.unitsPerBlock} units/block, block FLOPs ratio ${(sol.blockFlops / (steps * shape.layers * dense)).toFixed(4)}`);
  }
}
