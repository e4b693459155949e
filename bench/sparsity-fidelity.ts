/**
 * Fidelity of learned schedules against the three baselines at equal FLOPs budgets, same
 * runtime, same seeds: final-latent relative L2 and (with a VAE decoder) decoded-frame PSNR
 * and SSIM against the dense generation.
 *
 *   npx tsx bench/sparsity-fidelity.ts <converted DiT folder> [--vae <VAE decoder folder>]
 *       [--latent 16x3x8x12] [--steps 8] [--guidance 5] [--shift 5] [--solver unipc]
 *       [--budgets 0.75,0.5,0.35] [--calib-seeds 101] [--select-seeds 111,112] [--eval-seeds 202,303]
 *       [--grouping 1x1] [--iterations 2] [--variants reuse,cached-kv] [--model-id NAME] [--save schedules/]
 *   npx tsx bench/sparsity-fidelity.ts --fixture ...   (the fixture tiny DiT and VAE, converted to a temp folder)
 *   npx tsx bench/sparsity-fidelity.ts --pipeline pipelines/wan-demo.json ...   (models, latent shape
 *       and sampling defaults from a pipeline definition; flags override them)
 *   [--forecast none,linear] evaluates module-output methods with reused outputs held and forecast;
 *   [--generations N] runs the learner's local search for N generations per budget;
 *   [--forecast-axis step|sigma] the forecast's time axis; [--no-learn] skips learning;
 *   [--schedules a.json,b.json] also evaluates schedule files at their provenance budget.
 * EasyCache-like adaptive step reuse has no fixed table: its threshold is found by bisection on
 * the calibration seeds to hit each budget, and its FLOPs are the ones it ran on the eval seeds.
 *
 * Schedules are learned on the calibration seeds, chosen among the solved table and the
 * structured seeds on the selection seeds (when given), and evaluated on the evaluation seeds
 * (held out from both). Text contexts are seeded random normal rows of the model's text width (the fixture's
 * own contexts with --fixture) unless --cond/--uncond give .npy files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../src/convert/index.js';
import { parseNpy } from '../src/io/npy.js';
import { VaeChunkDecoder } from '../src/models/wan/vae/chunk-decoder.js';
import { convertVaeCheckpoint } from '../src/models/wan/vae/convert.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import type { Latent, TextContext } from '../src/core/types.js';
import { torchRandn } from '../src/sampling/noise.js';
import type { SolverName } from '../src/sampling/schedule.js';
import { latentFrames } from '../src/video/decode-stream.js';
import { CACHE_METHODS, runEasyCache, tuneEasyCache } from '../src/sparsity/methods/index.js';
import type { ForecastAxis, ForecastMode } from '../src/sparsity/forecast.js';
import type { SparsePlan } from '../src/sparsity/executor.js';
import { relativeL2, videoPsnr, videoSsim, type Video } from '../src/sparsity/fidelity.js';
import type { AttentionVariant } from '../src/sparsity/flops.js';
import { learnSchedule, sparseRunner, type CostTable, type LearnCase } from '../src/sparsity/learn.js';
import { flopsShapeFor, scheduleModelFor } from '../src/sparsity/modelInfo.js';
import { loadSchedule, saveSchedule } from '../src/sparsity/schedule.js';
import { planFromSchedule } from '../src/sparsity/run-state.js';
import { resampleSchedule } from '../src/sparsity/scheduleResample.js';
import { drawSchedule } from '../src/sparsity/scheduleDraw.js';
import { randomNormal } from './sparsity-model.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    fixture: { type: 'boolean', default: false },
    vae: { type: 'string' },
    pipeline: { type: 'string' },
    latent: { type: 'string' },
    steps: { type: 'string' },
    guidance: { type: 'string' },
    shift: { type: 'string' },
    solver: { type: 'string' },
    forecast: { type: 'string', default: 'none,linear' },
    'forecast-axis': { type: 'string', default: 'step' },
    'no-learn': { type: 'boolean', default: false },
    schedules: { type: 'string' },
    generations: { type: 'string', default: '0' },
    budgets: { type: 'string', default: '0.75,0.5,0.35' },
    'calib-seeds': { type: 'string', default: '101' },
    'select-seeds': { type: 'string', default: '' },
    'eval-seeds': { type: 'string', default: '202,303' },
    grouping: { type: 'string', default: '1x1' },
    iterations: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'reuse,cached-kv' },
    'model-id': { type: 'string' },
    cond: { type: 'string' },
    uncond: { type: 'string' },
    save: { type: 'string' },
  },
});

const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/wan21-tiny/', import.meta.url));
const npy = (path: string): { shape: number[]; data: Float32Array } => {
  const a = parseNpy(new Uint8Array(readFileSync(path)), path);
  if (!(a.data instanceof Float32Array)) throw new Error(`${path}: expected float32`);
  return { shape: a.shape, data: a.data };
};

let tmp: string | null = null;
let ditDir = positionals[0];
let vaeDir = values.vae;
let modelId = values['model-id'];
if (values.fixture) {
  tmp = mkdtempSync(join(tmpdir(), 'diffsparse-fidelity-'));
  ditDir = join(tmp, 'dit');
  await convertCheckpoint(`${FIXTURES}dit/`, ditDir);
  vaeDir = join(tmp, 'vae');
  const { mean, std } = (JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8')) as { fixtures: { vae: { wrapper: { mean: number[]; std: number[] } } } }).fixtures.vae.wrapper;
  await convertVaeCheckpoint(`${FIXTURES}vae/wan21_tiny_vae.pth`, vaeDir, { config: { latentMean: mean, latentStd: std } });
  modelId ??= 'wan21-tiny-fixture';
}
interface PipelineFile { models: { dit: string; vae: string }; defaults: { width: number; height: number; frames: number; steps: number; shift: number; guidance: number; solver: string } }
let pipelineDefaults: PipelineFile['defaults'] | null = null;
if (values.pipeline) {
  const file = values.pipeline.endsWith('.json') ? values.pipeline : join('pipelines', `${values.pipeline}.json`);
  const def = JSON.parse(readFileSync(file, 'utf8')) as PipelineFile & { name: string };
  ditDir ??= resolve(dirname(file), def.models.dit);
  vaeDir ??= resolve(dirname(file), def.models.vae);
  pipelineDefaults = def.defaults;
  modelId ??= def.name;
}
if (!ditDir) {
  console.error('usage: npx tsx bench/sparsity-fidelity.ts <converted DiT folder> [--vae <folder>] ... | --fixture');
  process.exit(2);
}

const dit = await WanDiT.load(ditDir);
const vae = vaeDir ? await VaeChunkDecoder.load(vaeDir) : null;
// the latent shape from the model and the pipeline's frame size, unless --latent gives it
const latentShape = (values.latent
  ? values.latent.split('x').map(Number)
  : pipelineDefaults && vae
    ? [dit.config.inDim, (pipelineDefaults.frames - 1) / 4 + 1, pipelineDefaults.height / vae.spatialScale, pipelineDefaults.width / vae.spatialScale]
    : [16, 3, 8, 12]) as Latent['shape'];
const steps = Number(values.steps ?? pipelineDefaults?.steps ?? 8);
const sampling = { steps, shift: Number(values.shift ?? pipelineDefaults?.shift ?? 5), guidance: Number(values.guidance ?? pipelineDefaults?.guidance ?? 5), solver: (values.solver ?? pipelineDefaults?.solver ?? 'unipc') as SolverName };
const forecasts = values.forecast!.split(',') as ForecastMode[];
const forecastAxis = values['forecast-axis'] as ForecastAxis;
const generations = Number(values.generations);
const branches = sampling.guidance === 1 ? 1 : 2;
const shape = flopsShapeFor(dit, latentShape);
const model = scheduleModelFor(dit, modelId);
const textDim = dit.config.textDim;

const context = (file: string | undefined, fixtureName: string, rows: number, seed: number): TextContext => {
  if (file) {
    const a = npy(file);
    return { data: a.data, shape: a.shape as TextContext['shape'] };
  }
  if (values.fixture) return context(`${FIXTURES}sampler_unipc/${fixtureName}.npy`, fixtureName, rows, seed);
  return { data: randomNormal(rows * textDim, seed), shape: [rows, textDim] };
};
const cond = context(values.cond, 'context_cond', 12, 7001);
const uncond = context(values.uncond, 'context_uncond', 8, 7002);
const cases = (seeds: string): LearnCase[] =>
  seeds.split(',').map(Number).map((seed) => ({ noise: { data: torchRandn(latentShape, seed), shape: latentShape }, cond, uncond }));
const calibCases = cases(values['calib-seeds']!);
const evalCases = cases(values['eval-seeds']!);
const [gs, gl] = values.grouping!.split('x').map(Number);

async function decode(latent: Float32Array): Promise<Video | null> {
  if (!vae) return null;
  const state = vae.open();
  const parts = [];
  for (const frame of latentFrames({ data: latent, shape: latentShape })) parts.push(await state.decode(frame, latentShape[2], latentShape[3]));
  const frames = parts.reduce((a, c) => a + c.frames, 0);
  const { height, width } = parts[0];
  const data = new Float32Array(3 * frames * height * width);
  const plane = height * width;
  for (const c of parts) for (let ch = 0; ch < 3; ch++) data.set(c.data.subarray(ch * c.frames * plane, (ch + 1) * c.frames * plane), (ch * frames + c.firstFrame) * plane);
  return { data, frames, height, width };
}

const evalRun = sparseRunner(dit, evalCases, sampling);
const denseTable = Array.from({ length: steps }, () => new Array<number>(shape.layers).fill(1));
const denseLatents = await evalRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' });
const denseVideos = await Promise.all(denseLatents.map(decode));

interface Result { budget: number; method: string; ratio: number; relL2: number; psnr: number | null; ssim: number | null; seconds: number }
const results: Result[] = [];
async function evaluate(budget: number, method: string, plan: SparsePlan, ratio: number): Promise<Result> {
  const t0 = performance.now();
  const outs = await evalRun(plan);
  return score(budget, method, outs, ratio, (performance.now() - t0) / 1000);
}
async function score(budget: number, method: string, outs: Float32Array[], ratio: number, seconds: number): Promise<Result> {
  let relL2 = 0;
  let psnr = 0;
  let ssim = 0;
  for (let i = 0; i < outs.length; i++) {
    relL2 += relativeL2(denseLatents[i], outs[i]) / outs.length;
    const v = await decode(outs[i]);
    if (v && denseVideos[i]) {
      psnr += videoPsnr(denseVideos[i]!, v) / outs.length;
      ssim += videoSsim(denseVideos[i]!, v) / outs.length;
    }
  }
  const result = { budget, method, ratio, relL2, psnr: vae ? psnr : null, ssim: vae ? ssim : null, seconds };
  results.push(result);
  console.log(`  ${method}: FLOPs ${ratio.toFixed(3)}, latent rel-L2 ${relL2.toFixed(4)}${vae ? `, PSNR ${psnr.toFixed(2)} dB, SSIM ${ssim.toFixed(4)}` : ''}`);
  return result;
}

console.log(`model ${model.id} (${model.fingerprint?.slice(0, 19)}…): ${shape.layers} layers, dim ${shape.dim}, ${shape.tokens} tokens; ${steps} ${sampling.solver} steps, shift ${sampling.shift}, guidance ${sampling.guidance}`);
console.log(`calibration seeds ${values['calib-seeds']}, ${values['select-seeds'] ? `selection seeds ${values['select-seeds']}, ` : ''}evaluation seeds ${values['eval-seeds']}, calibration cells ${gs} step(s) × ${gl} layer(s), ${values.iterations} refinement iteration(s)`);
const t0 = performance.now();
const calibRun = sparseRunner(dit, calibCases, sampling);
const tRef = performance.now();
const calibRef = await calibRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' });
const msPerRun = performance.now() - tRef;
const selectRun = values['select-seeds'] ? sparseRunner(dit, cases(values['select-seeds']), sampling) : null;
const selection = selectRun && {
  run: selectRun,
  reference: await selectRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' }),
  description: `selection seeds ${values['select-seeds']} (torch CPU randn), ${steps} ${sampling.solver} steps, shift ${sampling.shift}, guidance ${sampling.guidance}`,
};
const calibrated = new Map<AttentionVariant, CostTable>();
async function learned(budget: number, variant: AttentionVariant, label: string, save: boolean): Promise<void> {
  const result = await learnSchedule({
    steps, layers: shape.layers, shape, budget, attention: variant, branches, model, sampling,
    tokenGrid: { frames: latentShape[1] / dit.config.patchSize[0], height: latentShape[2] / dit.config.patchSize[1], width: latentShape[3] / dit.config.patchSize[2] },
    run: calibRun, reference: calibRef, grouping: { steps: gs, layers: gl }, iterations: Number(values.iterations),
    casesDescription: `calibration seeds ${values['calib-seeds']} (torch CPU randn), ${steps} ${sampling.solver} steps, shift ${sampling.shift}, guidance ${sampling.guidance}`,
    calibrated: calibrated.get(variant),
    ...(selection && { selection }),
    generations, msPerRun,
    onPlan: (p) => console.log(`  learning ${label}: at most ${p.total} generations (calibrate ${p.calibrate}, refine ${p.refine}, select ${p.select}, local search ${p.search})${p.etaMs === undefined ? '' : `, ETA ${(p.etaMs / 1000).toFixed(0)} s`}`),
    onProgress: (() => {
      let last = '';
      return (phase: string, done: number, total: number) => {
        const q = `${phase}${Math.floor((done / Math.max(total, 1)) * 4)}`;
        if (q !== last) console.log(`    ${phase} ${done}/${total} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        last = q;
      };
    })(),
  });
  calibrated.set(variant, result.calibrated);
  const s = result.schedule;
  console.log(`  ${label} chose: ${s.provenance.kind} (${s.provenance.method.slice(0, 160)}…)`);
  const r = await evaluate(budget, `${label} [${s.provenance.kind}]`, { table: s.table, attention: s.attention, reuse: s.reuse, scores: s.scores }, s.flopsRatio);
  if (forecasts.includes('linear')) await evaluate(budget, `${label} [${s.provenance.kind}] + forecast`, { table: s.table, attention: s.attention, reuse: s.reuse, scores: s.scores, forecast: 'linear', forecastAxis }, s.flopsRatio);
  if (save && values.save) {
    // record the held-out measurement (the learner recorded the calibration-seed error)
    s.fidelity = {
      latentRelL2: r.relL2,
      ...(r.psnr === null ? {} : { psnr: r.psnr, ssim: r.ssim! }),
      how: `mean over evaluation seeds ${values['eval-seeds']} (held out; learned on seeds ${values['calib-seeds']}${values['select-seeds'] ? `, chosen on seeds ${values['select-seeds']}` : ''}) against the dense run with the same noise and contexts: final-latent relative L2${r.psnr === null ? '' : ', per-frame PSNR on RGB in [0,1] and per-channel Gaussian SSIM of the decoded frames'}; ${steps} ${sampling.solver} steps, shift ${sampling.shift}, guidance ${sampling.guidance}`,
    };
    // the file says what it is: a baseline structure the learner picked is named after it
    const structure = s.provenance.kind === 'baseline' ? (/\(([a-z-]+)\)/.exec(s.provenance.method)?.[1] ?? 'baseline') : variant;
    const name = `${model.id}-${steps}steps-${structure}-${Math.round(budget * 100)}`;
    await saveSchedule(s, join(values.save, `${name}.json`));
    await drawSchedule(s, join(values.save, `${name}.png`));
  }
}

for (const budget of values.budgets!.split(',').map(Number)) {
  console.log(`budget ${Math.round(budget * 100)}% of dense FLOPs`);
  const variants = values.variants!.split(',') as AttentionVariant[];
  if (!values['no-learn']) for (const variant of variants) await learned(budget, variant, `learned (${variant})`, true);
  // schedule files given with --schedules (e.g. shipped or saved ones) whose provenance budget is this one
  for (const file of values.schedules ? values.schedules.split(',') : []) {
    const s = await loadSchedule(file, { layers: shape.layers });
    if (s.provenance.budget !== budget) continue;
    const plan = { ...planFromSchedule(s.table.length === steps ? s : resampleSchedule(s, steps, { flops: shape })) };
    const label = `${basename(file)} [${s.provenance.kind}${s.scores ? `, scores ${s.scores}` : ''}]`;
    await evaluate(budget, label, plan, s.flopsRatio);
    if (forecasts.includes('linear')) await evaluate(budget, `${label} + forecast (${forecastAxis})`, { ...plan, forecast: 'linear', forecastAxis }, s.flopsRatio);
  }
  const baselines = [];
  for (const m of CACHE_METHODS) {
    if (!('heuristic' in m)) continue;
    const base = m.heuristic({ steps, shape, budget, branches });
    baselines.push(base);
    await evaluate(budget, m.label, base.forecast ? { ...base, forecastAxis } : base, base.flopsRatio);
    if (forecasts.includes('linear') && base.reuse === 'module-outputs' && !base.forecast) await evaluate(budget, `${m.label} + forecast (${forecastAxis})`, { ...base, forecast: 'linear', forecastAxis }, base.flopsRatio);
  }
  // EasyCache-like: the threshold by bisection on the calibration seeds, FLOPs as run on the eval seeds
  const tuned = await tuneEasyCache(dit, calibCases, sampling, shape, budget, { onTry: (tau, r) => console.log(`    easycache τ=${tau.toPrecision(4)}: FLOPs ${r.toFixed(3)} on calibration seeds`) });
  {
    const t1 = performance.now();
    const ran = await runEasyCache(dit, evalCases, sampling, shape, { threshold: tuned.threshold });
    await score(budget, `EasyCache-like (τ=${tuned.threshold.toPrecision(3)})`, ran.latents, ran.flopsRatio, (performance.now() - t1) / 1000);
  }
  // step-level baselines only come in whole steps; compare at their FLOPs too
  const lowest = Math.min(...baselines.map((b) => b.flopsRatio));
  if (lowest < budget - 0.02 && !values['no-learn']) await learned(lowest, variants[0], `learned (${variants[0]}) at ${lowest.toFixed(3)}`, false);
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`| budget | method | FLOPs ratio | latent rel-L2 | PSNR dB | SSIM | s |`);
console.log('|---|---|---|---|---|---|---|');
for (const r of results)
  console.log(`| ${Math.round(r.budget * 100)}% | ${r.method} | ${r.ratio.toFixed(3)} | ${r.relL2.toFixed(4)} | ${r.psnr === null ? '–' : r.psnr.toFixed(2)} | ${r.ssim === null ? '–' : r.ssim.toFixed(4)} | ${r.seconds.toFixed(1)} |`);
await vae?.release();
await dit.release();
if (tmp) rmSync(tmp, { recursive: true, force: true });
