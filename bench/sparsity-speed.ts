/**
 * Wall-clock speed of token-sparse generation against dense, in the same process, on the
 * mid-size random Wan configuration (dim 1024, 16 heads, FFN 6144, 8 layers, 33 frames at
 * 256×256 → latent 16×9×32×32 → 2304 tokens, 512 text tokens). For each FLOPs budget the
 * schedule is solved by the budgeted DP on the model-free prior cost table (a calibrated
 * table changes which slots are sparse, not how fast a level runs).
 *
 *   npx tsx bench/sparsity-speed.ts [--steps 5] [--guidance 1] [--rounds 1]
 *       [--budgets 0.75,0.5,0.35] [--variants reuse,cached-kv] [--precision f32|f16] [--dir /tmp/diffsparse-bench-mid]
 *
 * Prints per schedule: FLOPs ratio (planned and executed), the FLOPs-ideal speed-up
 * (1/executed ratio), measured wall and CPU seconds and speed-ups against dense in the same
 * run, their quotient with the ideal, cache memory and the time spent in JS assembly and
 * scoring. Per-step memory note: every configuration's caches are alive at once.
 */
import { parseArgs } from 'node:util';
import { DenseDiT } from '../src/models/wan/dit/dense.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import { denoise } from '../src/sampling/denoise.js';
import type { Latent, TextContext, VelocityModel } from '../src/core/types.js';
import { SparseDiT } from '../src/sparsity/executor.js';
import { ATTENTION_VARIANTS, generationFlops, levelFlops, type AttentionVariant, type FlopsShape } from '../src/sparsity/flops.js';
import { priorCostTable, solveForBudget } from '../src/sparsity/learn.js';
import { ensureRandomModel, randomNormal } from './sparsity-model.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    guidance: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    budgets: { type: 'string', default: '0.75,0.5,0.35' },
    variants: { type: 'string', default: 'reuse,cached-kv' },
    precision: { type: 'string', default: 'f32' },
    dir: { type: 'string', default: '/tmp/diffsparse-bench-mid' },
  },
});
const steps = Number(values.steps);
const guidance = Number(values.guidance);
const branches = guidance === 1 ? 1 : 2;
const budgets = values.budgets!.split(',').map(Number);
const variants = values.variants!.split(',') as AttentionVariant[];
const precision = values.precision as 'f32' | 'f16';

const modelDir = await ensureRandomModel(values.dir!);
const dit = await WanDiT.load(modelDir);
const c = dit.config;
const latentShape: Latent['shape'] = [16, 9, 32, 32];
const grid = dit.grid({ data: new Float32Array(16 * 9 * 32 * 32), shape: latentShape });
const tokens = grid.frames * grid.rows * grid.cols;
const shape: FlopsShape = { dim: c.dim, ffnDim: c.ffnDim, textLen: c.textLen, textDim: c.textDim, layers: c.numLayers, tokens, patchFeatures: dit.manifest.tokens.patchFeatures, headFeatures: dit.manifest.tokens.headFeatures, freqDim: c.freqDim };
const noise: Latent = { data: randomNormal(16 * 9 * 32 * 32, 11), shape: latentShape };
const cond: TextContext = { data: randomNormal(24 * c.textDim, 12), shape: [24, c.textDim] };
const uncond: TextContext = { data: randomNormal(16 * c.textDim, 13), shape: [16, c.textDim] };

const denseTotal = generationFlops(shape, Array.from({ length: steps }, () => new Array<number>(c.numLayers).fill(1)), 'reuse', branches);
console.log(`mid-size random Wan DiT: dim ${c.dim}, ${c.numHeads} heads, FFN ${c.ffnDim}, ${c.numLayers} layers, ${tokens} tokens (${grid.frames}×${grid.rows}×${grid.cols}), text_len ${c.textLen}`);
console.log(`${steps} UniPC steps, guidance ${guidance} (${branches} branch${branches > 1 ? 'es' : ''}), dense ${(denseTotal.dense / 1e12).toFixed(2)} TFLOPs per generation; cache ${precision}`);
console.log(`level FLOPs (share of a dense block): ${ATTENTION_VARIANTS.map((v) => `${v} ${[0.25, 0.5, 0.75].map((s) => (levelFlops(shape, s, v) / levelFlops(shape, 1, 'reuse')).toFixed(3)).join('/')}`).join('; ')}`);

/**
 * Every configuration's generation runs at the same time, step by step, but each model call
 * holds an exclusive lock while it runs and is timed alone (wall and process CPU). Dense and
 * sparse calls thus alternate within every step, so load from other jobs on a shared
 * machine hits all configurations alike instead of whichever ran during a busy minute.
 */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(f: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await f();
    } finally {
      release();
    }
  }
}

class Timed implements VelocityModel {
  wall = 0;
  cpu = 0;
  constructor(readonly inner: VelocityModel, private readonly lock: Lock) {}
  predict(...args: Parameters<VelocityModel['predict']>): Promise<Float32Array> {
    return this.lock.run(async () => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const out = await this.inner.predict(...args);
      const c = process.cpuUsage(c0);
      this.wall += (performance.now() - t0) / 1000;
      this.cpu += (c.user + c.system) / 1e6;
      return out;
    });
  }
}

interface Config { name: string; ratio: number; model: SparseDiT | null; timed: Timed }
const lock = new Lock();
const configs: Config[] = [{ name: 'dense', ratio: 1, model: null, timed: new Timed(new DenseDiT(dit), lock) }];
for (const variant of variants)
  for (const budget of budgets) {
    const solved = solveForBudget({ steps, layers: c.numLayers, shape, budget, attention: variant, branches }, priorCostTable(steps, c.numLayers));
    const model = await SparseDiT.create(dit, { table: solved.table, attention: variant, reuse: 'module-outputs' }, { precision });
    configs.push({ name: `${variant} @${Math.round(budget * 100)}%`, ratio: solved.flopsRatio, model, timed: new Timed(model, lock) });
  }
const t0 = performance.now();
for (let round = 0; round < Number(values.rounds); round++)
  await Promise.all(configs.map((cfg) => denoise({ model: cfg.timed, noise, cond, uncond, steps, shift: 5, guidance, solver: 'unipc' })));
console.log(`all runs in lockstep: ${((performance.now() - t0) / 1000).toFixed(0)} s`);

const dense = configs[0].timed;
console.log(`dense: ${dense.wall.toFixed(1)} s wall, ${dense.cpu.toFixed(1)} s CPU (${((denseTotal.dense * Number(values.rounds)) / dense.wall / 1e9).toFixed(1)} GFLOP/s wall)`);
console.log('| schedule | FLOPs ratio | executed ratio | FLOPs ideal | wall s | wall speed-up | wall / ideal | CPU s | CPU speed-up | CPU / ideal | cache MiB | JS assembly s | scoring s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const cfg of configs.slice(1)) {
  const m = cfg.model!;
  const executed = (m.executedBlockFlops(shape) + denseTotal.dense - denseTotal.denseBlocks) / denseTotal.dense;
  const ideal = 1 / executed;
  const ws = dense.wall / cfg.timed.wall;
  const cs = dense.cpu / cfg.timed.cpu;
  console.log(`| ${cfg.name} | ${cfg.ratio.toFixed(3)} | ${executed.toFixed(3)} | ${ideal.toFixed(2)}× | ${cfg.timed.wall.toFixed(1)} | ${ws.toFixed(2)}× | ${(ws / ideal).toFixed(2)} | ${cfg.timed.cpu.toFixed(1)} | ${cs.toFixed(2)}× | ${(cs / ideal).toFixed(2)} | ${(m.cache.memory().total / 2 ** 20).toFixed(0)} | ${(m.stats.assemblyMs / 1000).toFixed(2)} | ${(m.stats.scoringMs / 1000).toFixed(2)} |`);
  await m.release();
}
await dit.release();
