/**
 * Which token score selects best: for every named score mix (src/sparsity/scores.ts
 * SCORE_MIXES: staleness, attention importance, value norms, input movement and mixes), the
 * same partial schedule (step 0 and every `--every`-th step dense, every other block
 * recomputing `share` of the tokens) is run, and at every partial block the output is
 * compared with the whole block on the same input: the error of the block output against
 * dense at the same share, Σ‖y − y_dense‖² / Σ‖y_dense‖² over all partial blocks (rel-L2),
 * plus the final latent's rel-L2 against the dense generation.
 *
 *   npx tsx bench/sparsity-selection.ts --pipeline pipelines/wan-demo.json \
 *       [--cond context.npy --uncond neg_context.npy] [--seeds 202,303] [--shares 0.25,0.5,0.75] [--every 4]
 *   npx tsx bench/sparsity-selection.ts <converted DiT folder> --latent 16x3x8x8 --steps 20 ...
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseNpy } from '../src/io/npy.js';
import type { BlockCall, BlockDecision, ForwardHooks, PassState, WholeBlockOutputs } from '../src/models/wan/dit/hooks.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import { readVaeManifest } from '../src/models/wan/vae/chunk-decoder.js';
import type { Latent, TextContext } from '../src/core/types.js';
import { denoise } from '../src/sampling/denoise.js';
import { torchRandn } from '../src/sampling/noise.js';
import type { SolverName } from '../src/sampling/schedule.js';
import { AttentionInfluence } from '../src/sparsity/attentionScore.js';
import { SparseDiT, TokenReuseHooks, type SparsePlan, type SparseRunState } from '../src/sparsity/executor.js';
import { relativeL2 } from '../src/sparsity/fidelity.js';
import { readBlockModulations } from '../src/sparsity/modulation.js';
import { SCORE_MIXES, type ScoreWeights } from '../src/sparsity/scores.js';
import { randomNormal } from './sparsity-model.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pipeline: { type: 'string' },
    latent: { type: 'string' },
    steps: { type: 'string' },
    guidance: { type: 'string' },
    shift: { type: 'string' },
    solver: { type: 'string' },
    seeds: { type: 'string', default: '202,303' },
    shares: { type: 'string', default: '0.25,0.5,0.75' },
    every: { type: 'string', default: '4' },
    attention: { type: 'string', default: 'reuse' },
    mixes: { type: 'string', default: Object.keys(SCORE_MIXES).join(',') },
    cond: { type: 'string' },
    uncond: { type: 'string' },
  },
});

interface PipelineFile { name: string; models: { dit: string; vae: string }; defaults: { width: number; height: number; frames: number; steps: number; shift: number; guidance: number; solver: string } }
let ditDir = positionals[0];
let defaults: PipelineFile['defaults'] | null = null;
let vaeScale = 8;
if (values.pipeline) {
  const file = values.pipeline.endsWith('.json') ? values.pipeline : join('pipelines', `${values.pipeline}.json`);
  const def = JSON.parse(readFileSync(file, 'utf8')) as PipelineFile;
  ditDir ??= resolve(dirname(file), def.models.dit);
  defaults = def.defaults;
  vaeScale = readVaeManifest(resolve(dirname(file), def.models.vae)).config.spatialScale;
}
if (!ditDir) {
  console.error('usage: npx tsx bench/sparsity-selection.ts <converted DiT folder> | --pipeline <definition.json>');
  process.exit(2);
}
const dit = await WanDiT.load(ditDir);
const latentShape = (values.latent ? values.latent.split('x').map(Number) : defaults ? [dit.config.inDim, (defaults.frames - 1) / 4 + 1, defaults.height / vaeScale, defaults.width / vaeScale] : [16, 3, 8, 12]) as Latent['shape'];
const steps = Number(values.steps ?? defaults?.steps ?? 8);
const sampling = { steps, shift: Number(values.shift ?? defaults?.shift ?? 5), guidance: Number(values.guidance ?? defaults?.guidance ?? 5), solver: (values.solver ?? defaults?.solver ?? 'unipc') as SolverName };
const every = Number(values.every);
const attention = values.attention as SparsePlan['attention'];

const npy = (path: string): TextContext => {
  const a = parseNpy(new Uint8Array(readFileSync(path)), path);
  return { data: a.data as Float32Array, shape: a.shape as TextContext['shape'] };
};
const textDim = dit.config.textDim;
const cond = values.cond ? npy(values.cond) : { data: randomNormal(12 * textDim, 7001), shape: [12, textDim] as TextContext['shape'] };
const uncond = values.uncond ? npy(values.uncond) : { data: randomNormal(8 * textDim, 7002), shape: [8, textDim] as TextContext['shape'] };
const seeds = values.seeds!.split(',').map(Number);

/** TokenReuseHooks, and at every partial block the whole block on the same input for comparison. */
class MeasuredHooks implements ForwardHooks {
  num = 0;
  den = 0;
  constructor(
    private readonly inner: TokenReuseHooks,
    private readonly run: SparseRunState,
  ) {}
  beginPass(pass: PassState): null {
    return this.inner.beginPass(pass);
  }
  endPass(pass: PassState): void {
    this.inner.endPass(pass);
  }
  afterWhole(call: BlockCall, out: WholeBlockOutputs): Promise<void> {
    return this.inner.afterWhole(call, out);
  }
  async decide(call: BlockCall): Promise<BlockDecision> {
    const d = this.inner.decide(call);
    if (d.kind !== 'rows') return d;
    const dense = await this.run.dit.wholeBlock(call.layer, call.x, call.pass.e0, call.pass.rope, call.kv);
    return {
      ...d,
      merge: (post) => {
        const y = d.merge(post);
        for (let i = 0; i < y.length; i++) {
          this.num += (y[i] - dense.x[i]) ** 2;
          this.den += dense.x[i] ** 2;
        }
        return y;
      },
    };
  }
}

const plan = (share: number): SparsePlan => ({ table: Array.from({ length: steps }, (_, t) => new Array<number>(dit.config.numLayers).fill(t % every === 0 ? 1 : share)), attention, reuse: 'module-outputs' });
const cases = seeds.map((seed) => ({ noise: { data: torchRandn(latentShape, seed), shape: latentShape }, cond, uncond }));
const denseOut: Float32Array[] = [];
{
  const m = await SparseDiT.create(dit, plan(1));
  for (const c of cases) {
    m.reset();
    denseOut.push((await denoise({ model: m, ...c, ...sampling })).data);
  }
  await m.release();
}
const modulations = readBlockModulations(dit);
console.log(`${ditDir}: ${dit.config.numLayers} layers, latent ${latentShape.join('x')}, ${steps} ${sampling.solver} steps; partial blocks between dense steps every ${every}; attention ${attention}; seeds ${seeds.join(',')}`);
const rows: { share: number; mix: string; block: number; latent: number }[] = [];
for (const share of values.shares!.split(',').map(Number))
  for (const mix of values.mixes!.split(',')) {
    const weights: ScoreWeights = { ...SCORE_MIXES[mix] };
    const influence = weights.attention !== 0 ? await AttentionInfluence.create(dit.config.dim, dit.config.numHeads, 256) : null;
    let measured: MeasuredHooks | null = null;
    const m = await SparseDiT.create(dit, plan(share), { hooks: (run) => (measured = new MeasuredHooks(new TokenReuseHooks(run, modulations, influence, weights), run)) });
    let latent = 0;
    for (const [i, c] of cases.entries()) {
      m.reset();
      latent += relativeL2(denseOut[i], (await denoise({ model: m, ...c, ...sampling })).data) / cases.length;
    }
    await m.release();
    await influence?.release();
    const h = measured as unknown as MeasuredHooks;
    const block = Math.sqrt(h.num / Math.max(h.den, 1e-30));
    rows.push({ share, mix, block, latent });
    console.log(`  share ${share} ${mix}: block-output rel-L2 ${block.toFixed(5)}, final latent rel-L2 ${latent.toFixed(5)}`);
  }
console.log('\n| share | score mix | block-output rel-L2 vs whole block | final latent rel-L2 vs dense |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.share} | ${r.mix} | ${r.block.toFixed(5)} | ${r.latent.toFixed(5)} |`);
const best = new Map<number, (typeof rows)[number]>();
for (const r of rows) if (!best.has(r.share) || r.block < best.get(r.share)!.block) best.set(r.share, r);
for (const [share, r] of best) console.log(`best at share ${share}: ${r.mix}`);
await dit.release();
