/**
 * The method cases of the reference outputs: every registered sparsity method, built by
 * the registry as the pipeline builds it (and every attention variant and cache precision
 * of the executor), on the fixture tiny DiT.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DenseDiT } from '../../../src/models/wan/dit/dense.js';
import type { VelocityModel } from '../../../src/core/types.js';
import { SparseDiT, type SparsePlan } from '../../../src/sparsity/executor.js';
import { CACHE_METHODS, type MethodRequest } from '../../../src/sparsity/methods/index.js';
import { flopsShapeFor } from '../../../src/sparsity/modelInfo.js';
import { SCORE_MIXES } from '../../../src/sparsity/scores.js';
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
  const request = (r: Partial<MethodRequest>): MethodRequest => ({ steps: STEPS, layers, flops: shape, shippedSchedules: {}, pipelineName: 'fixture', ...r });
  const out: MethodCase[] = [{ name: 'dense', build: async () => new DenseDiT(s.dit) }];
  for (const method of CACHE_METHODS) {
    const requests: [string, MethodRequest][] =
      method.name === 'learned'
        ? readdirSync(SCHEDULES).filter((f) => f.endsWith('.json')).sort().map((f) => [`learned:${f}`, request({ schedule: SCHEDULES + f })])
        : [0.5, 0.35].map((budget) => [`${method.name}@${budget}`, request({ budget })]);
    for (const [name, r] of requests)
      out.push({
        name,
        build: async () => {
          const made = await method.prepare(r);
          if (!made) throw new Error(`${name}: the method planned the dense model`);
          return SparseDiT.create(s.dit, made.plan, made.hooks ? { hooks: made.hooks } : {});
        },
      });
  }
  for (const attention of ['reuse', 'fresh-kv', 'cached-kv'] as const) out.push({ name: `partial-0.5:${attention}`, build: sparse({ table: half, attention, reuse: 'module-outputs' }) });
  out.push({ name: 'partial-0.5:reuse:f16', build: sparse({ table: half, attention: 'reuse', reuse: 'module-outputs' }, 'f16') });
  // issue 16: forecast instead of reuse, and selection by input movement
  for (const method of CACHE_METHODS.filter((m) => m.name === 'block-reuse' || m.name === 'learned'))
    out.push({
      name: `forecast:${method.name}@0.5`,
      build: async () => {
        const made = await method.prepare(request(method.name === 'learned' ? { schedule: `${SCHEDULES}wan21-tiny-fixture-8steps-reuse-50.json`, forecast: 'linear' } : { budget: 0.5, forecast: 'linear' }));
        return SparseDiT.create(s.dit, made!.plan);
      },
    });
  out.push({ name: 'partial-0.5:reuse:movement', build: () => SparseDiT.create(s.dit, { table: half, attention: 'reuse', reuse: 'module-outputs' }, { scoreWeights: { ...SCORE_MIXES.movement } }) });
  return out;
}
