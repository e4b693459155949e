/** The solver with error growth over consecutive sparse steps, on small grids checked by brute force. */
import { describe, expect, it } from 'vitest';
import { discretiseWeights, solveAgedSchedule, solveLevelSchedule } from '../../src/sparsity/solver.js';

const levels = [0, 0.5, 1];
const levelFlops = [0, 0.4, 1];

/** Cost of a table under the aged model (the i-th consecutive step with a sparse slot pays i^growth). */
function agedCost(table: number[][], cost: number[][][], growth: number, maxAge = 8): number {
  let age = 0;
  let total = 0;
  table.forEach((row, t) => {
    const dense = row.every((v) => v === 1);
    age = dense ? 0 : Math.min(maxAge, age + 1);
    row.forEach((v, l) => (total += cost[t][l][levels.indexOf(v)] * (dense ? 1 : age ** growth)));
  });
  return total;
}

function bruteForce(steps: number, layers: number, cost: number[][][], growth: number, budgetUnits: number, units: number): number {
  const w = discretiseWeights(levelFlops, 1, units);
  const slots = steps * layers;
  let best = Infinity;
  for (let code = 0; code < levels.length ** slots; code++) {
    const table: number[][] = [];
    let c = code;
    let weight = 0;
    for (let t = 0; t < steps; t++) {
      const row: number[] = [];
      for (let l = 0; l < layers; l++) {
        const s = c % levels.length;
        c = Math.floor(c / levels.length);
        row.push(levels[s]);
        weight += w[s];
      }
      table.push(row);
    }
    if (weight <= budgetUnits) best = Math.min(best, agedCost(table, cost, growth));
  }
  return best;
}

// seeded costs: dearer early, level 0 dearer than 0.5, level 1 free
function costs(steps: number, layers: number, seed: number): number[][][] {
  let a = seed;
  const rand = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: steps }, (_, t) => Array.from({ length: layers }, () => {
    const base = (1 + rand()) * (steps - t);
    return [base, base * (0.2 + 0.3 * rand()), 0];
  }));
}

describe('solveAgedSchedule', () => {
  it('finds the optimum of the aged model (brute force on 4 steps × 2 layers)', () => {
    for (const [growth, seed, budget] of [[0, 1, 4], [1, 2, 4], [2, 3, 3.2], [2, 4, 5]] as const) {
      const cost = costs(4, 2, seed);
      const sol = solveAgedSchedule({ steps: 4, layers: 2, levels, cost, levelFlops, denseBlockFlops: 1, blockFlopsBudget: budget, unitsPerBlock: 10, growth });
      expect(sol.cost).toBeCloseTo(bruteForce(4, 2, cost, growth, Math.floor(budget * 10 + 1e-9), 10), 9);
      expect(sol.cost).toBeCloseTo(agedCost(sol.table, cost, growth), 9);
      expect(sol.blockFlops).toBeLessThanOrEqual(budget + 1e-9);
    }
  });

  it('with growth 0 matches the additive solver on the same integer weights', () => {
    const cost = costs(5, 2, 9);
    const aged = solveAgedSchedule({ steps: 5, layers: 2, levels, cost, levelFlops, denseBlockFlops: 1, blockFlopsBudget: 5, unitsPerBlock: 10, growth: 0 });
    const additive = solveLevelSchedule({ steps: 5, layers: 2, levels, cost, levelFlops, denseBlockFlops: 1, blockFlopsBudget: 5, unitsPerBlock: 10 });
    expect(aged.cost).toBeCloseTo(agedCost(additive.table, cost, 0), 9);
  });

  it('spreads sparse steps apart when errors grow with cache age', () => {
    // 8 steps, 1 layer, equal costs in the middle: room for 4 reused steps
    const cost = Array.from({ length: 8 }, (_, t) => [[t === 0 ? 1e6 : 1, 0.8, 0]]);
    const flat = solveAgedSchedule({ steps: 8, layers: 1, levels: [0, 0.5, 1], cost, levelFlops: [0, 0.9, 1], denseBlockFlops: 1, blockFlopsBudget: 4, unitsPerBlock: 10, growth: 0 });
    const grown = solveAgedSchedule({ steps: 8, layers: 1, levels: [0, 0.5, 1], cost, levelFlops: [0, 0.9, 1], denseBlockFlops: 1, blockFlopsBudget: 4, unitsPerBlock: 10, growth: 2 });
    const runs = (t: number[][]): number => {
      let longest = 0;
      let cur = 0;
      for (const row of t) longest = Math.max(longest, (cur = row[0] < 1 ? cur + 1 : 0));
      return longest;
    };
    expect(grown.table.filter((r) => r[0] === 0)).toHaveLength(4);
    expect(runs(grown.table)).toBe(1); // dense, reused, dense, reused, ...
    expect(agedCost(grown.table, cost, 2)).toBeLessThan(agedCost(flat.table, cost, 2) + 1e-9);
    // a run-length limit: no two sparse steps in a row even without growth; too small a budget for it is refused
    const limited = solveAgedSchedule({ steps: 8, layers: 1, levels: [0, 0.5, 1], cost, levelFlops: [0, 0.9, 1], denseBlockFlops: 1, blockFlopsBudget: 4, unitsPerBlock: 10, growth: 0, maxRun: 1 });
    expect(runs(limited.table)).toBe(1);
    expect(() => solveAgedSchedule({ steps: 8, layers: 1, levels: [0, 0.5, 1], cost, levelFlops: [0, 0.9, 1], denseBlockFlops: 1, blockFlopsBudget: 3, unitsPerBlock: 10, growth: 0, maxRun: 1 })).toThrow(/no assignment fits/);
  });
});
