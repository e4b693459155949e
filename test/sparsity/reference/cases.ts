/**
 * The method cases of the reference outputs: every sparsity method (and every attention
 * variant and cache precision of the executor) on the fixture tiny DiT.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DenseDiT } from '../../../src/models/wan/dit/dense.js';
import type { VelocityModel } from '../../../src/pipeline/types.js';
import { blockReuseBaseline, stepSkipBaseline, uniformTokenBaseline } from '../../../src/sparsity/baselines.js';
import { planFromSchedule, SparseDiT, type SparsePlan } from '../../../src/sparsity/executor.js';
import { flopsShapeFor } from '../../../src/sparsity/modelInfo.js';
import { loadSchedule } from '../../../src/sparsity/schedule.js';
import type { TinySetup } from '../helpers.js';

export interface OutputSummary {
  length: number;
  sum: number;
  sumAbs: number;
  sumSq: number;
  /** 64 values at evenly spaced indices. */
  samples: number[];
  sha256?: string;
}

export function summarize(data: Float32Array): OutputSummary {
  let sum = 0;
  let sumAbs = 0;
  let sumSq = 0;
  for (const v of data) {
    sum += v;
    sumAbs += Math.abs(v);
    sumSq += v * v;
  }
  const samples = Array.from({ length: 64 }, (_, i) => data[Math.floor((i * (data.length - 1)) / 63)]);
  return { length: data.length, sum, sumAbs, sumSq, samples };
}

export interface MethodCase {
  name: string;
  build(): Promise<VelocityModel & { release?(): Promise<void> }>;
}

const STEPS = 8;
const SCHEDULES = fileURLToPath(new URL('../../../schedules/wan21-tiny-fixture/', import.meta.url));

export function cases(s: TinySetup): MethodCase[] {
  const layers = s.dit.config.numLayers;
  const shape = flopsShapeFor(s.dit, s.noise.shape);
  const sparse = (plan: SparsePlan, precision?: 'f32' | 'f16') => () => SparseDiT.create(s.dit, plan, precision ? { precision } : {});
  const half = Array.from({ length: STEPS }, (_, t) => new Array<number>(layers).fill(t === 0 ? 1 : 0.5));
  const out: MethodCase[] = [{ name: 'dense', build: async () => new DenseDiT(s.dit) }];
  for (const f of readdirSync(SCHEDULES).filter((f) => f.endsWith('.json')).sort())
    out.push({ name: `learned:${f}`, build: async () => SparseDiT.create(s.dit, planFromSchedule(await loadSchedule(SCHEDULES + f, { layers }))) });
  for (const [name, b] of [['uniform-tokens', uniformTokenBaseline], ['block-reuse', blockReuseBaseline], ['step-skip', stepSkipBaseline]] as const)
    for (const budget of [0.5, 0.35]) {
      const base = b({ steps: STEPS, shape, budget });
      out.push({ name: `${name}@${budget}`, build: sparse({ table: base.table, attention: base.attention, reuse: base.reuse }) });
    }
  for (const attention of ['reuse', 'fresh-kv', 'cached-kv'] as const) out.push({ name: `partial-0.5:${attention}`, build: sparse({ table: half, attention, reuse: 'module-outputs' }) });
  out.push({ name: 'partial-0.5:reuse:f16', build: sparse({ table: half, attention: 'reuse', reuse: 'module-outputs' }, 'f16') });
  return out;
}
