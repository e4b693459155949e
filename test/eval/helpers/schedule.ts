/** A small valid schedule file for eval tests (a diagonal pattern over the five levels). */
import { makeSchedule, saveSchedule } from '../../../src/sparsity/schedule.js';

export async function writeTestSchedule(file: string, method: string): Promise<void> {
  const steps = 4, layers = 3;
  await saveSchedule(makeSchedule({
    model: { id: 'test', layers, dim: 8, heads: 2 },
    sampling: { steps, solver: 'unipc', shift: 3 },
    tokenGrid: { frames: 2, height: 3, width: 4 },
    table: Array.from({ length: steps }, (_, t) => Array.from({ length: layers }, (_, l) => [0, 0.25, 0.5, 0.75, 1][(t + l) % 5]!)),
    flopsRatio: 0.3,
    provenance: { kind: 'heuristic', method },
  }), file);
}
