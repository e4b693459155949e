import { describe, expect, it } from 'vitest';
import { discretiseWeights, solveKnapsack, solveLevelSchedule, SolverInputError } from '../../src/sparsity/solver.js';
import { uniformRandom } from '../../src/core/random.js';


function bruteForce(cost: number[][], weight: number[][], budget: number): number {
  let best = Infinity;
  const walk = (j: number, c: number, w: number): void => {
    if (w > budget) return;
    if (j === cost.length) {
      best = Math.min(best, c);
      return;
    }
    for (let s = 0; s < cost[j].length; s++) walk(j + 1, c + cost[j][s], w + weight[j][s]);
  };
  walk(0, 0, 0);
  return best;
}

describe('budget solver', () => {
  it('matches brute force on small random instances', () => {
    const rand = uniformRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const slots = 1 + Math.floor(rand() * 6);
      const options = 2 + Math.floor(rand() * 4);
      const cost = Array.from({ length: slots }, () => Array.from({ length: options }, () => Math.round(rand() * 100) / 10));
      const weight = Array.from({ length: slots }, () => Array.from({ length: options }, () => Math.floor(rand() * 7)));
      const minW = weight.reduce((a, w) => a + Math.min(...w), 0);
      const maxW = weight.reduce((a, w) => a + Math.max(...w), 0);
      const budget = minW + Math.floor(rand() * (maxW - minW + 1));
      const expected = bruteForce(cost, weight, budget);
      const sol = solveKnapsack({ cost, weight, budget });
      expect(sol.cost).toBeCloseTo(expected, 9);
      // the backtracked assignment really has that cost and fits the budget
      let c = 0;
      let w = 0;
      sol.choice.forEach((s, j) => {
        c += cost[j][s];
        w += weight[j][s];
      });
      expect(c).toBeCloseTo(sol.cost, 9);
      expect(w).toBe(sol.weight);
      expect(w).toBeLessThanOrEqual(budget);
    }
  });

  it('refuses an impossible budget with a typed error', () => {
    expect(() => solveKnapsack({ cost: [[1, 2]], weight: [[3, 4]], budget: 2 })).toThrow(SolverInputError);
  });

  it('rounds FLOPs weights up so the exact budget holds', () => {
    expect(discretiseWeights([0, 0.059, 0.5, 1], 1, 16)).toEqual([0, 1, 8, 16]);
  });

  it('solves a level schedule whose exact block FLOPs stay within the budget', () => {
    const rand = uniformRandom(3);
    const steps = 6;
    const layers = 4;
    const levels = [0, 0.25, 0.5, 0.75, 1];
    const levelFlops = [0, 0.07, 0.13, 0.2, 1];
    const cost = Array.from({ length: steps }, () => Array.from({ length: layers }, () => levels.map((v) => (1 - v) * rand())));
    const budget = 0.35 * steps * layers;
    const sol = solveLevelSchedule({ steps, layers, levels, cost, levelFlops, denseBlockFlops: 1, blockFlopsBudget: budget, unitsPerBlock: 32 });
    expect(sol.table).toHaveLength(steps);
    expect(sol.blockFlops).toBeLessThanOrEqual(budget + 1e-12);
    const recomputed = sol.table.flat().reduce((a, v) => a + levelFlops[levels.indexOf(v)], 0);
    expect(recomputed).toBeCloseTo(sol.blockFlops, 12);
    // an all-dense budget gives the all-dense table (cost 0 there)
    const dense = solveLevelSchedule({ steps, layers, levels, cost, levelFlops, denseBlockFlops: 1, blockFlopsBudget: steps * layers, unitsPerBlock: 8 });
    expect(dense.table.flat().every((v) => v === 1)).toBe(true);
  });
});
