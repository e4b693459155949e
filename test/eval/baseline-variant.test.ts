import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASELINE_METHODS, BaselineMethodError, writeBaselineVariant } from '../../src/eval/baseline-variant.js';
import { loadSchedule } from '../../src/sparsity/schedule.js';

const shape = { dim: 64, ffnDim: 256, textLen: 16, textDim: 32, layers: 4, tokens: 120, patchFeatures: 64, headFeatures: 64, freqDim: 32 };

describe('baseline variants for compare', () => {
  it('writes each peer method as a schedule file labelled with its method, within the budget', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'diffsparse-baseline-'));
    for (const method of BASELINE_METHODS) {
      const file = path.join(dir, `${method}.json`);
      // a forecasting method (TaylorSeer-like) cannot be a schedule file: compare runs it as a budget variant
      if (method === 'taylorseer') {
        await expect(writeBaselineVariant({ method, budget: 0.6, problem: { steps: 10, shape }, file, model: { id: 'tiny', layers: 4, dim: 64, heads: 4 }, sampling: { steps: 10, solver: 'unipc', shift: 3 }, tokenGrid: { frames: 2, height: 6, width: 10 } })).rejects.toThrow(/budget variant/);
        continue;
      }
      const v = await writeBaselineVariant({
        method, budget: 0.6, problem: { steps: 10, shape }, file,
        model: { id: 'tiny', layers: 4, dim: 64, heads: 4 }, sampling: { steps: 10, solver: 'unipc', shift: 3 },
        tokenGrid: { frames: 2, height: 6, width: 10 },
      });
      const s = await loadSchedule(file);
      expect(v.method).toBe(method);
      expect(s.provenance.method).toBe(method);
      expect(s.table).toHaveLength(10);
      expect(s.flopsRatio).toBeCloseTo(v.flopsRatio, 12);
      expect(v.flopsRatio).toBeLessThanOrEqual(0.6 + 1e-12);
      expect(v.label).toMatch(new RegExp(`^${method} \\d`));
    }
    await expect(writeBaselineVariant({
      method: 'teacache', budget: 0.5, problem: { steps: 4, shape }, file: path.join(dir, 'x.json'),
      model: { id: 'tiny', layers: 4, dim: 64, heads: 4 }, sampling: { steps: 4, solver: 'unipc', shift: 3 }, tokenGrid: { frames: 1, height: 1, width: 1 },
    })).rejects.toThrow(BaselineMethodError);
    await rm(dir, { recursive: true, force: true });
  });
});
