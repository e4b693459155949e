/**
 * Issue 17: the README's table of memory and estimated time per step and per video for the
 * release models on this machine (matmul speed measured by src/pipeline/matmul-speed.ts).
 *
 *   npm run bench -- estimate-table [--gflops 100] [--steps 50]
 */
import { UMT5_XXL } from '../src/models/wan/t5/config.js';
import { WAN_DIT_DEFAULTS, type WanDiTConfig } from '../src/models/wan/dit/config.js';
import { estimateGeneration, formatBytes, formatSeconds, type ModelSizes } from '../src/pipeline/estimate.js';
import { matmulSpeed } from '../src/pipeline/matmul-speed.js';

const argv = process.argv.slice(2);
const opt = (n: string): number | undefined => (argv.includes(`--${n}`) ? Number(argv[argv.indexOf(`--${n}`) + 1]) : undefined);
const gflops = opt('gflops') ?? (await matmulSpeed(2)).gflops;
const steps = opt('steps') ?? 50;
const wan = (dim: number, ffnDim: number, numHeads: number, numLayers: number): WanDiTConfig => ({ ...WAN_DIT_DEFAULTS, modelType: 't2v', dim, ffnDim, numHeads, numLayers });
const models: [string, WanDiTConfig][] = [['1.3B', wan(1536, 8960, 12, 30)], ['14B', wan(5120, 13824, 40, 40)]];
const settings: [number, number, number][] = [[832, 480, 5], [832, 480, 33], [832, 480, 81], [1280, 720, 81]];
console.log(`at ${gflops.toFixed(0)} GFLOP/s, ${steps} steps, guidance on (2 branches)`);
console.log('| model | size | frames | memory: one-graph T5, all blocks | layered T5, all blocks | layered T5, bfloat16 DiT, all blocks | layered T5, low-memory DiT | per step | per video (dense) | per video, half the block evaluations skipped (≈50% FLOPs) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [name, dit] of models)
  for (const [w, h, f] of settings) {
    if (name === '1.3B' && w === 1280) continue;
    const sizes: ModelSizes = { dit, patchFeatures: 64, headFeatures: 64, t5: UMT5_XXL, vae: { dim: 96, zDim: 16, spatialScale: 8, temporalScale: 4 } };
    const latentShape = [16, (f - 1) / 4 + 1, h / 8, w / 8];
    const e = estimateGeneration({ sizes, latentShape, steps, guidance: 5 }, gflops);
    const table = Array.from({ length: steps }, (_, t) => Array.from({ length: dit.numLayers }, (_, l) => ((t + l) % 2 ? 1 : 0)));
    const half = estimateGeneration({ sizes, latentShape, steps, guidance: 5, sparse: { flopsRatio: 0.5, table, description: '50%' } }, gflops);
    const layered = estimateGeneration({ sizes: { ...sizes, t5Layered: true }, latentShape, steps, guidance: 5 }, gflops);
    const bf16 = estimateGeneration({ sizes: { ...sizes, t5Layered: true, bfloat16: true }, latentShape, steps, guidance: 5 }, gflops);
    console.log(`| ${name} | ${w}×${h} | ${f} | ${formatBytes(e.memory.standardBytes)} | ${formatBytes(layered.memory.standardBytes)} | ${formatBytes(bf16.memory.standardBytes)} | ${formatBytes(layered.memory.lowMemoryBytes)} | ${formatSeconds(e.seconds!.perStepDense)} | ${formatSeconds(e.seconds!.totalDense)} | ${formatSeconds(half.seconds!.total)} |`);
  }
