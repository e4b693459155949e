/**
 * Fidelity of learned token-level schedules against every baseline at equal FLOPs budgets, same
 * runtime, same cases: PSNR and SSIM of the decoded frames and final-latent relative L2 against
 * the dense generation with the same seed and prompt, and (with captions) the prompt adherence
 * of each variant's clips next to dense's (colour, direction, shape, continuity: the
 * measurement of bench/adherence.ts). Prints the done-means table (markdown) and, with --save,
 * writes the learned schedules with their provenance, held-out fidelity and learning cost.
 *
 *   npm run bench -- sparsity-fidelity --pipeline <definition.json> [--generations 24] \
 *       [--out DIR] [--save schedules/<pipeline-name>]
 *
 * Cases. With a pipeline whose text encoder is present, cases are captions × seeds, encoded
 * like `generate` (negative prompt from the definition's defaults):
 *   - calibration: --calib-captions (training-split captions) × --calib-seeds (learning);
 *   - selection: --select-captions (other training-split captions) × --select-seeds (the choice
 *     among candidates and the local search);
 *   - evaluation: --eval-captions (default: the dataset's 8 held-out captions, never seen in
 *     training, src/eval/adherence-vocabulary.ts) × --eval-seeds (default 202,303): used by
 *     nothing but this table.
 * Without captions (a DiT folder, --fixture), the old mode: seeded random text rows (or
 * --cond/--uncond .npy files) and seeds only.
 *
 * Learning (per attention variant): the cost table is calibrated once on the calibration cases
 * (cells of --grouping, default one step × all layers) and shared by every budget; per budget
 * the budgeted DP, --iterations solver-in-the-loop refinements, the choice among the solved
 * table and the structured seeds on the selection cases, then --generations local-search
 * generations (moves between cells of --search-grouping, default 1x1, drawn by the cost table)
 * kept when the selection cases' final-sample error drops.
 *
 * Baselines (every registered heuristic method: ToCa-like uniform tokens, FORA-like block
 * reuse, TeaCache-like step skipping, TaylorSeer-like forecasting; EasyCache-like adaptive step
 * reuse with its threshold bisected on the calibration cases) each take the largest FLOPs ratio
 * they reach within the budget; the table states the FLOPs each achieved.
 *
 * Other flags: --latent 16x3x8x12, --steps, --guidance, --shift, --solver (override the
 * pipeline), --budgets 0.75,0.5,0.35, --variants reuse[,cached-kv,fresh-kv], --forecast
 * none[,linear] (also run module-output methods with reused outputs forecast), --learn-forecast
 * linear (learn with reused outputs forecast in every measured run; the schedules record it),
 * --forecast-axis step|sigma, --no-learn, --schedules a.json,b.json (evaluate schedule files at
 * their provenance budget; with two or more at a budget it prints the choice among them: the
 * lowest latent rel-L2 on the evaluation cases, which for choosing are training-split captions
 * none of the files was searched on), --block-ablation (also learn with levels 0 and 1 only: does the
 * token level help beyond choosing steps?), --levels 0,0.25,0.5,1 (the levels the learner may use; on
 * a small model a partial block costs nearly a whole one's time, so fewer levels can run faster at
 * the same FLOPs), --methods (baselines to run), --threads (intra-op
 * threads, default 1: on a loaded 2-core machine one thread per session is several times
 * faster), --model-id.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../src/convert/index.js';
import { parseNpy } from '../src/io/npy.js';
import { readVaeManifest } from '../src/models/wan/vae/chunk-decoder.js';
import { convertVaeCheckpoint } from '../src/models/wan/vae/convert.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import type { Latent, TextContext } from '../src/core/types.js';
import { parseCaption, scoreAdherence, type AdherenceResult, type ClipMeasurement } from '../src/eval/adherence.js';
import { heldOutCaptions } from '../src/eval/adherence-vocabulary.js';
import { resolvePipeline } from '../src/pipeline/definition.js';
import { torchRandn } from '../src/sampling/noise.js';
import type { SolverName } from '../src/sampling/schedule.js';
import { TextEncoder } from '../src/text/context.js';
import { CACHE_METHODS, runEasyCache, tuneEasyCache } from '../src/sparsity/methods/index.js';
import type { ForecastAxis, ForecastMode } from '../src/sparsity/forecast.js';
import type { SparsePlan } from '../src/sparsity/executor.js';
import { relativeL2 } from '../src/sparsity/fidelity.js';
import type { AttentionVariant } from '../src/sparsity/flops.js';
import { calibrateCostTable, calibrateGrowth, learnSchedule, sparseRunner, type CostTable, type LearnCase, type PlanRunner } from '../src/sparsity/learn.js';
import { flopsShapeFor, scheduleModelFor } from '../src/sparsity/modelInfo.js';
import { DEFAULT_LEVELS, loadSchedule, saveSchedule, type Schedule } from '../src/sparsity/schedule.js';
import { planFromSchedule } from '../src/sparsity/run-state.js';
import { LEARNED_SCORE_MIX } from '../src/sparsity/scores.js';
import { resampleSchedule } from '../src/sparsity/scheduleResample.js';
import { drawSchedule } from '../src/sparsity/scheduleDraw.js';
import { randomNormal } from './sparsity-model.js';
import { FidelityScorer, type Scored } from './fidelity-worker-common.js';

/** Training-split captions (no HELD_OUT triple) for calibration and selection. */
const CALIB_CAPTIONS = 'a green circle moving right,a purple square moving left';
const SELECT_CAPTIONS = 'a yellow triangle moving up,a white circle moving down';

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
    forecast: { type: 'string', default: 'none' },
    'forecast-axis': { type: 'string', default: 'step' },
    'no-learn': { type: 'boolean', default: false },
    'block-ablation': { type: 'boolean', default: false },
    schedules: { type: 'string' },
    generations: { type: 'string', default: '0' },
    budgets: { type: 'string', default: '0.75,0.5,0.35' },
    'calib-captions': { type: 'string', default: CALIB_CAPTIONS },
    'select-captions': { type: 'string', default: SELECT_CAPTIONS },
    'eval-captions': { type: 'string' },
    'calib-seeds': { type: 'string', default: '101' },
    'select-seeds': { type: 'string', default: '111,112' },
    growth: { type: 'string', default: 'auto' },
    levels: { type: 'string' },
    'max-run': { type: 'string' },
    'learn-forecast': { type: 'string', default: 'none' },
    'eval-seeds': { type: 'string', default: '202,303' },
    grouping: { type: 'string' },
    'search-grouping': { type: 'string', default: '1x1' },
    iterations: { type: 'string', default: '1' },
    variants: { type: 'string', default: 'reuse' },
    methods: { type: 'string' },
    threads: { type: 'string', default: '1' },
    'vae-threads': { type: 'string', default: '1' },
    'model-id': { type: 'string' },
    cond: { type: 'string' },
    uncond: { type: 'string' },
    save: { type: 'string' },
    out: { type: 'string' },
  },
});

const tStart = performance.now();
const minutesSince = (t: number): number => (performance.now() - t) / 60000;
const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/wan21-tiny/', import.meta.url));
const npy = (path: string): { shape: number[]; data: Float32Array } => {
  const a = parseNpy(new Uint8Array(readFileSync(path)), path);
  if (!(a.data instanceof Float32Array)) throw new Error(`${path}: expected float32`);
  return { shape: a.shape, data: a.data };
};
const threads = Number(values.threads);

let tmp: string | null = null;
let ditDir = positionals[0];
let vaeDir = values.vae;
let textDir: string | undefined;
let modelId = values['model-id'];
let negativePrompt = '';
interface Defaults { width: number; height: number; frames: number; steps: number; shift: number; guidance: number; solver: string }
let pipelineDefaults: Defaults | null = null as Defaults | null;
if (values.fixture) {
  tmp = mkdtempSync(join(tmpdir(), 'diffsparse-fidelity-'));
  ditDir = join(tmp, 'dit');
  await convertCheckpoint(`${FIXTURES}dit/`, ditDir);
  vaeDir = join(tmp, 'vae');
  const { mean, std } = (JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8')) as { fixtures: { vae: { wrapper: { mean: number[]; std: number[] } } } }).fixtures.vae.wrapper;
  await convertVaeCheckpoint(`${FIXTURES}vae/wan21_tiny_vae.pth`, vaeDir, { config: { latentMean: mean, latentStd: std } });
  modelId ??= 'wan21-tiny-fixture';
}
if (values.pipeline) {
  const def = resolvePipeline(values.pipeline);
  ditDir ??= def.models.dit;
  vaeDir ??= def.models.vae;
  textDir = def.models.text;
  pipelineDefaults = def.defaults as unknown as Defaults;
  negativePrompt = (def.defaults as { negativePrompt?: string }).negativePrompt ?? '';
  modelId ??= def.name;
}
if (!ditDir) {
  console.error('usage: npm run bench -- sparsity-fidelity --pipeline <definition.json> [...] | <converted DiT folder> [--vae <folder>] | --fixture');
  process.exit(2);
}

const dit = await WanDiT.load(ditDir, { intraOpThreads: threads });
const vaeScale = vaeDir ? readVaeManifest(vaeDir).config.spatialScale : 8;
const text = textDir && !values.cond ? await TextEncoder.load(textDir, { intraOpThreads: threads }) : null;
const latentShape = (values.latent
  ? values.latent.split('x').map(Number)
  : pipelineDefaults && vaeDir
    ? [dit.config.inDim, (pipelineDefaults.frames - 1) / 4 + 1, pipelineDefaults.height / vaeScale, pipelineDefaults.width / vaeScale]
    : [16, 3, 8, 12]) as Latent['shape'];
const steps = Number(values.steps ?? pipelineDefaults?.steps ?? 8);
const sampling = { steps, shift: Number(values.shift ?? pipelineDefaults?.shift ?? 5), guidance: Number(values.guidance ?? pipelineDefaults?.guidance ?? 5), solver: (values.solver ?? pipelineDefaults?.solver ?? 'unipc') as SolverName };
const forecasts = values.forecast!.split(',') as ForecastMode[];
// --learn-forecast linear: the learner measures every run with reused outputs forecast, and its schedules record it
if (values['learn-forecast'] !== 'none' && values['learn-forecast'] !== 'linear') throw new Error(`--learn-forecast ${values['learn-forecast']}: use none or linear`);
const learnForecast = values['learn-forecast'] === 'linear' ? ('linear' as const) : undefined;
const forecastAxis = values['forecast-axis'] as ForecastAxis;
const generations = Number(values.generations);
const branches = sampling.guidance === 1 ? 1 : 2;
const shape = flopsShapeFor(dit, latentShape);
const model = scheduleModelFor(dit, modelId);
const layers = shape.layers;
const parseGrouping = (g: string): { steps: number; layers: number } => {
  const [s, l] = g.split('x').map(Number);
  return { steps: s, layers: l };
};
const grouping = parseGrouping(values.grouping ?? `1x${layers}`);
const searchGrouping = parseGrouping(values['search-grouping']!);

// ---- cases
interface Case extends LearnCase {
  caption?: string;
  seed: number;
}
const seedsOf = (s: string): number[] => s.split(',').filter(Boolean).map(Number);
const captionsOf = (s: string): string[] => s.split(',').map((c) => c.trim()).filter(Boolean);
async function makeCases(captions: string[] | null, seeds: number[]): Promise<Case[]> {
  const out: Case[] = [];
  if (text && captions) {
    const uncond = sampling.guidance !== 1 ? await text.encode(negativePrompt) : undefined;
    for (const caption of captions) {
      const cond = await text.encode(caption);
      for (const seed of seeds) out.push({ caption, seed, noise: { data: torchRandn(latentShape, seed), shape: latentShape }, cond, ...(uncond && { uncond }) });
    }
    return out;
  }
  const context = (file: string | undefined, fixtureName: string, rows: number, seed: number): TextContext => {
    if (file) {
      const a = npy(file);
      return { data: a.data, shape: a.shape as TextContext['shape'] };
    }
    if (values.fixture) return context(`${FIXTURES}sampler_unipc/${fixtureName}.npy`, fixtureName, rows, seed);
    return { data: randomNormal(rows * dit.config.textDim, seed), shape: [rows, dit.config.textDim] };
  };
  const cond = context(values.cond, 'context_cond', 12, 7001);
  const uncond = context(values.uncond, 'context_uncond', 8, 7002);
  return seeds.map((seed) => ({ seed, noise: { data: torchRandn(latentShape, seed), shape: latentShape }, cond, uncond }));
}
const withCaptions = text !== null;
const calibCases = await makeCases(withCaptions ? captionsOf(values['calib-captions']!) : null, seedsOf(values['calib-seeds']!));
const selectCases = values['select-seeds'] ? await makeCases(withCaptions ? captionsOf(values['select-captions']!) : null, seedsOf(values['select-seeds']!)) : [];
const evalCases = await makeCases(withCaptions ? (values['eval-captions'] ? captionsOf(values['eval-captions']) : heldOutCaptions()) : null, seedsOf(values['eval-seeds']!));
const describe = (cs: Case[]): string => {
  const caps = [...new Set(cs.map((c) => c.caption).filter(Boolean))];
  const seeds = [...new Set(cs.map((c) => c.seed))];
  return `${caps.length ? `${caps.length} caption(s) (${caps.join('; ')}) × ` : ''}seed(s) ${seeds.join(',')} (torch CPU randn)`;
};
const settingText = `${steps} ${sampling.solver} steps, shift ${sampling.shift}, guidance ${sampling.guidance}, latent ${latentShape.join('×')}`;

// ---- decoding and scoring: on a worker thread, overlapping the next generations
const scorer = vaeDir ? FidelityScorer.start(vaeDir, Number(values['vae-threads']), latentShape) : null;
const vae = scorer;
const ADHERENCE_KEYS = ['colour', 'direction', 'shape', 'continuity'] as const;
type AdherencePct = Record<(typeof ADHERENCE_KEYS)[number], number>;
function adherenceOf(cases: Case[], measured: ClipMeasurement[]): AdherencePct | null {
  if (!withCaptions) return null;
  const results: AdherenceResult[] = cases.map((c, i) => ({ caption: c.caption!, seed: c.seed, expected: parseCaption(c.caption!), measured: measured[i] }));
  const s = scoreAdherence(results);
  return Object.fromEntries(ADHERENCE_KEYS.map((k) => [k, 100 * (s[k].accuracy ?? 0)])) as AdherencePct;
}

const counted = { generations: 0, ms: 0 };
/** A runner that counts the generations (cases run) and time it takes, for the learning cost. */
const counting = (run: PlanRunner, n: number): PlanRunner => async (plan) => {
  const t = performance.now();
  const out = await run(plan);
  counted.generations += n;
  counted.ms += performance.now() - t;
  return out;
};

const evalRun = sparseRunner(dit, evalCases, sampling);
const denseTable = Array.from({ length: steps }, () => new Array<number>(layers).fill(1));
console.log(`model ${model.id} (${model.fingerprint?.slice(0, 19)}…): ${layers} layers, dim ${shape.dim}, ${shape.tokens} tokens; ${settingText}; ${threads} intra-op thread(s); load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
console.log(`calibration: ${describe(calibCases)}\nselection: ${describe(selectCases)}\nevaluation (held out from both): ${describe(evalCases)}`);
const tDense = performance.now();
const denseLatents = await evalRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' });
const msPerGeneration = (performance.now() - tDense) / evalCases.length;
const denseScored = scorer ? await Promise.all(denseLatents.map((l, i) => scorer.score(l, i, true))) : null;
const denseAdherence = denseScored ? adherenceOf(evalCases, denseScored.map((d) => d.measured)) : null;
console.log(`dense: ${(msPerGeneration / 1000).toFixed(2)} s per generation${denseAdherence ? `; adherence ${ADHERENCE_KEYS.map((k) => `${k} ${denseAdherence[k].toFixed(0)}%`).join(', ')}` : ''}`);

interface Result { budget: number; method: string; kind: string; ratio: number; relL2: number; psnr: number | null; ssim: number | null; adherence: AdherencePct | null; seconds: number; done: Promise<void>; perCase?: { relL2: number[]; psnr: number[] } }
const results: Result[] = [];
async function evaluate(budget: number, method: string, kind: string, plan: SparsePlan, ratio: number): Promise<Result> {
  const t0 = performance.now();
  const outs = await evalRun(plan);
  return score(budget, method, kind, outs, ratio, (performance.now() - t0) / 1000);
}
/** Latent error now; PSNR, SSIM and adherence when the scoring thread has decoded the clips (`done`). */
function score(budget: number, method: string, kind: string, outs: Float32Array[], ratio: number, seconds: number): Result {
  const caseL2 = outs.map((o, i) => relativeL2(denseLatents[i], o));
  const relL2 = caseL2.reduce((a, b) => a + b, 0) / outs.length;
  const result: Result = { budget, method, kind, ratio, relL2, psnr: null, ssim: null, adherence: null, seconds, done: Promise.resolve() };
  result.done = (scorer ? Promise.all(outs.map((o, i) => scorer.score(o, i))) : Promise.resolve(null)).then((scored: Scored[] | null) => {
    if (scored) {
      result.psnr = scored.reduce((a, x) => a + x.psnr, 0) / scored.length;
      result.ssim = scored.reduce((a, x) => a + x.ssim, 0) / scored.length;
      result.adherence = adherenceOf(evalCases, scored.map((x) => x.measured));
    }
    result.perCase = { relL2: caseL2, psnr: scored ? scored.map((x) => x.psnr) : [] };
    const a = result.adherence;
    console.log(`  ${method} @${Math.round(budget * 100)}%: FLOPs ${ratio.toFixed(3)}, latent rel-L2 ${relL2.toFixed(4)}${result.psnr !== null ? `, PSNR ${result.psnr.toFixed(2)} dB, SSIM ${result.ssim!.toFixed(4)}` : ''}${a ? `, adherence ${ADHERENCE_KEYS.map((k) => a[k].toFixed(0)).join('/')}` : ''} (generation ${seconds.toFixed(0)} s)`);
  });
  results.push(result);
  return result;
}

// ---- learning
const calibRun = counting(sparseRunner(dit, calibCases, sampling), calibCases.length);
const selectRun = selectCases.length ? counting(sparseRunner(dit, selectCases, sampling), selectCases.length) : null;
const calibRef = await calibRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' });
const selection = selectRun && {
  run: selectRun,
  reference: await selectRun({ table: denseTable, attention: 'reuse', reuse: 'module-outputs' }),
  description: `selection cases: ${describe(selectCases)}, ${settingText}`,
};
const references = { ...counted };
const tokenGrid = { frames: latentShape[1] / dit.config.patchSize[0], height: latentShape[2] / dit.config.patchSize[1], width: latentShape[3] / dit.config.patchSize[2] };
const calibrated = new Map<string, { cost: CostTable; generations: number; minutes: number; growth?: number }>();
const progress = (label: string) => {
  let last = '';
  return (phase: string, done: number, total: number): void => {
    const q = `${phase}${Math.floor((done / Math.max(total, 1)) * 4)}`;
    if (q !== last) console.log(`    ${label} ${phase} ${done}/${total} (${((performance.now() - tStart) / 1000).toFixed(0)} s)`);
    last = q;
  };
};
const learning: { label: string; budget: number; generations: number; minutes: number }[] = [];

async function learned(budget: number, variant: AttentionVariant, levels: readonly number[], label: string, save: boolean): Promise<void> {
  const key = `${variant}:${levels.join(',')}`;
  const problem = { steps, layers, shape, budget, attention: variant, branches, levels, ...(learnForecast && { forecast: learnForecast }) };
  const full = calibrated.get(`${variant}:${DEFAULT_LEVELS.join(',')}`);
  if (!calibrated.has(key) && full && levels.every((v) => DEFAULT_LEVELS.includes(v))) {
    // a subset of the levels: the full table's columns (no new generations)
    const cols = levels.map((v) => DEFAULT_LEVELS.indexOf(v));
    calibrated.set(key, { cost: full.cost.map((row) => row.map((c) => Float64Array.from(cols, (j) => c[j]))), generations: 0, minutes: 0, ...(full.growth !== undefined && { growth: full.growth }) });
  }
  if (!calibrated.has(key)) {
    const before = { ...counted };
    const report = progress(label);
    const c = await calibrateCostTable(problem, calibRun, calibRef, grouping, (d, t) => report('calibrate', d, t));
    // error growth over consecutive sparse steps: measured (auto), given, or none (the additive slot model)
    let growth: number | undefined;
    if (values.growth === 'auto') {
      const g = await calibrateGrowth(problem, calibRun, calibRef, c.cost);
      growth = g.growth;
      console.log(`  error growth over consecutive sparse steps: γ = ${g.growth} (${g.windows.map((w) => `steps ${w.steps.join(',')}: measured ${w.measured.toExponential(2)} vs additive ${w.additive.toExponential(2)}`).join('; ')})`);
    } else if (values.growth !== 'none') growth = Number(values.growth);
    calibrated.set(key, { cost: c.cost, generations: counted.generations - before.generations, minutes: (counted.ms - before.ms) / 60000, ...(growth !== undefined && { growth }) });
  }
  const cal = calibrated.get(key)!;
  const before = { ...counted };
  const result = await learnSchedule({
    ...problem, ...(cal.growth !== undefined && { growth: cal.growth }), ...(values['max-run'] !== undefined && { maxRun: Number(values['max-run']) }), model, sampling, tokenGrid,
    run: calibRun, reference: calibRef, grouping, searchGrouping, iterations: Number(values.iterations),
    casesDescription: `calibration cases: ${describe(calibCases)}, ${settingText}`,
    calibrated: cal.cost,
    ...(selection && { selection }),
    generations, msPerRun: msPerGeneration * Math.max(calibCases.length, selectCases.length),
    onPlan: (p) => console.log(`  learning ${label}: at most ${p.total} runs of the calibration or selection cases (refine ${p.refine}, select ${p.select}, local search ${p.search})${p.etaMs === undefined ? '' : `, ETA ${(p.etaMs / 1000).toFixed(0)} s`}`),
    onProgress: progress(label),
  });
  const own = { generations: counted.generations - before.generations, minutes: (counted.ms - before.ms) / 60000 };
  learning.push({ label, budget, ...own });
  const s = result.schedule;
  console.log(`  ${label} chose: ${s.provenance.kind} (${s.provenance.method.slice(0, 200)}…)`);
  console.log(`  table (steps × layers): ${s.table.map((r) => r.map((v) => (v === 1 ? '█' : v === 0 ? '·' : String(v * 4))).join('')).join(' ')}`);
  const kindLabel = s.provenance.kind === 'learned' ? 'learned, token-level' : s.provenance.kind;
  const r = await evaluate(budget, label, kindLabel, { table: s.table, attention: s.attention, reuse: s.reuse, scores: s.scores, ...(s.forecast && { forecast: s.forecast, forecastAxis: 'step' as const }) }, s.flopsRatio);
  if (forecasts.includes('linear') && !s.forecast) await evaluate(budget, `${label} + forecast`, kindLabel, { table: s.table, attention: s.attention, reuse: s.reuse, scores: s.scores, forecast: 'linear', forecastAxis }, s.flopsRatio);
  if (save && values.save) saveJobs.push(async () => {
    await r.done;
    s.fidelity = {
      latentRelL2: r.relL2,
      ...(r.psnr === null ? {} : { psnr: r.psnr, ssim: r.ssim! }),
      ...(r.adherence && denseAdherence && { adherence: { schedule: { ...r.adherence }, dense: { ...denseAdherence } } }),
      how: `mean over the held-out evaluation cases ${describe(evalCases)} (learned on ${describe(calibCases)}; chosen on ${describe(selectCases)}) against the dense run with the same noise and prompt: final-latent relative L2${r.psnr === null ? '' : ', per-frame PSNR on RGB in [0,1] and per-channel Gaussian SSIM of the decoded frames'}${r.adherence ? ', adherence in % of clips (bench/adherence.ts measurement)' : ''}; ${settingText}; FLOPs ratio ${s.flopsRatio.toFixed(4)} of dense`,
    };
    s.provenance.learning = {
      generations: cal.generations + own.generations + references.generations,
      minutes: Number((cal.minutes + own.minutes + references.ms / 60000).toFixed(2)),
      how: `generations = one case through the ${steps}-step sampler; dense references ${references.generations}, calibration ${cal.generations} (${cal.minutes.toFixed(1)} min, shared by every budget of the run), this budget's refinement, choice and local search ${own.generations} (${own.minutes.toFixed(1)} min); ${cpus().length}-CPU machine at load ${loadavg()[0].toFixed(1)}, ${threads} intra-op thread(s)`,
    };
    // the file says what it is: a baseline structure the learner picked is named after it
    const structure = s.provenance.kind === 'learned' ? 'learned' : s.provenance.kind === 'baseline' ? (/\(([a-z-]+)\)/.exec(s.provenance.method)?.[1] ?? 'baseline') : s.provenance.kind;
    const name = `${model.id}-${steps}steps-${structure}-${Math.round(budget * 100)}`;
    await saveSchedule(s, join(values.save!, `${name}.json`));
    await drawSchedule(s, join(values.save!, `${name}.png`));
    saved.push({ key: `${structure}-${Math.round(budget * 100)}`, file: join(values.save!, `${name}.json`), schedule: s });
    console.log(`  wrote ${join(values.save!, `${name}.json`)}`);
  });
}
const saveJobs: (() => Promise<void>)[] = [];
const saved: { key: string; file: string; schedule: Schedule }[] = [];

const methodFilter = values.methods ? new Set(values.methods.split(',')) : null;
/** Rows of the --schedules files as they ran (their own forecast), for the choice among them. */
const fileRows = new Set<string>();
const variants = values.variants!.split(',') as AttentionVariant[];
// --levels: the recompute levels the learner may use (a subset of the default set, 0 and 1 included)
const learnLevels = values.levels ? values.levels.split(',').map(Number) : DEFAULT_LEVELS;
if (!learnLevels.includes(0) || !learnLevels.includes(1) || learnLevels.some((v, i) => !DEFAULT_LEVELS.includes(v) || (i > 0 && v <= learnLevels[i - 1])))
  throw new Error(`--levels ${values.levels}: give ascending levels from ${DEFAULT_LEVELS.join(',')}, with 0 and 1`);
for (const budget of values.budgets!.split(',').map(Number)) {
  console.log(`budget ${Math.round(budget * 100)}% of dense FLOPs`);
  if (!values['no-learn']) {
    for (const [i, variant] of variants.entries()) await learned(budget, variant, learnLevels, variants.length > 1 ? `learned (${variant})` : 'learned', i === 0);
    if (values['block-ablation']) await learned(budget, variants[0], [0, 1], 'learned, levels 0/1 only (ablation)', false);
  }
  for (const file of values.schedules ? values.schedules.split(',') : []) {
    const s = await loadSchedule(file, { layers });
    if (s.provenance.budget !== budget) continue;
    const plan = { ...planFromSchedule(s.table.length === steps ? s : resampleSchedule(s, steps, { flops: shape })) };
    fileRows.add(basename(file));
    await evaluate(budget, `${basename(file)}`, s.provenance.kind, plan, s.flopsRatio);
    if (forecasts.includes('linear')) await evaluate(budget, `${basename(file)} + forecast (${forecastAxis})`, s.provenance.kind, { ...plan, forecast: 'linear', forecastAxis }, s.flopsRatio);
  }
  for (const m of CACHE_METHODS) {
    if (!('heuristic' in m) || (methodFilter && !methodFilter.has(m.name))) continue;
    const base = m.heuristic({ steps, shape, budget, branches });
    await evaluate(budget, m.label, 'baseline', base.forecast ? { ...base, forecastAxis } : base, base.flopsRatio);
    if (forecasts.includes('linear') && base.reuse === 'module-outputs' && !base.forecast) await evaluate(budget, `${m.label} + forecast (${forecastAxis})`, 'baseline', { ...base, forecast: 'linear', forecastAxis }, base.flopsRatio);
  }
  if (!methodFilter || methodFilter.has('easycache')) {
    // EasyCache-like: the threshold by bisection on the calibration cases, FLOPs as run on the eval cases
    const tuned = await tuneEasyCache(dit, calibCases, sampling, shape, budget, { onTry: (tau, r) => console.log(`    easycache τ=${tau.toPrecision(4)}: FLOPs ${r.toFixed(3)} on calibration cases`) });
    const t1 = performance.now();
    const ran = await runEasyCache(dit, evalCases, sampling, shape, { threshold: tuned.threshold });
    await score(budget, `EasyCache-like (τ=${tuned.threshold.toPrecision(3)})`, 'baseline', ran.latents, ran.flopsRatio, (performance.now() - t1) / 1000);
  }
}

// ---- the table (after the scoring thread has caught up)
await Promise.all(results.map((r) => r.done));
for (const job of saveJobs) await job();
const totalMinutes = minutesSince(tStart);
const lines: string[] = [];
const say = (l = ''): void => {
  lines.push(l);
  console.log(l);
};
say();
say(`## Sparsity fidelity: ${model.id}`);
say();
say(`${settingText}; ${shape.tokens} tokens, ${layers} layers. Held-out evaluation: ${describe(evalCases)}. Learning: calibration ${describe(calibCases)}, selection ${describe(selectCases)}. Metrics against the dense generation with the same seed and prompt${vae ? ': PSNR and SSIM of the decoded frames (mean over clips)' : ''}, final-latent rel-L2${denseAdherence ? '; adherence: % of clips whose measured colour / direction / shape matches the caption and that are continuous (bench/adherence.ts), Δ = worst drop against dense in points' : ''}. Run: ${totalMinutes.toFixed(1)} min, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs, ${threads} intra-op thread(s).`);
say();
const adhCols = denseAdherence ? ' colour | direction | shape | continuity | Δ adherence |' : '';
say(`| budget | method | kind | FLOPs | PSNR dB | SSIM | latent rel-L2 |${adhCols}`);
say(`|---|---|---|---|---|---|---|${denseAdherence ? '---|---|---|---|---|' : ''}`);
if (denseAdherence) say(`| 100% | dense | – | 1.000 | – | – | – | ${ADHERENCE_KEYS.map((k) => denseAdherence[k].toFixed(0)).join(' | ')} | – |`);
for (const r of results) {
  const adh = r.adherence && denseAdherence ? ` ${ADHERENCE_KEYS.map((k) => r.adherence![k].toFixed(0)).join(' | ')} | ${Math.max(...ADHERENCE_KEYS.map((k) => denseAdherence[k] - r.adherence![k])).toFixed(0)} |` : '';
  say(`| ${Math.round(r.budget * 100)}% | ${r.method} | ${r.kind} | ${r.ratio.toFixed(3)} | ${r.psnr === null ? '–' : r.psnr.toFixed(2)} | ${r.ssim === null ? '–' : r.ssim.toFixed(4)} | ${r.relL2.toFixed(4)} |${adh}`);
}
say();
// margins: the learned token-level schedule against the best baseline per budget (PSNR, else rel-L2)
for (const budget of [...new Set(results.map((r) => r.budget))]) {
  const here = results.filter((r) => r.budget === budget);
  const mine = here.find((r) => r.method === 'learned' || r.method === `learned (${variants[0]})`);
  const base = here.filter((r) => r.kind === 'baseline' && r !== mine);
  if (!mine || !base.length) continue;
  const metric = (r: Result): number => (r.psnr ?? -20 * Math.log10(r.relL2));
  // equal FLOPs: the baselines that ran within the learned schedule's FLOPs (+1% of dense); one over it is named apart
  const fair = base.filter((b) => b.ratio <= mine.ratio + 0.01);
  const best = (fair.length ? fair : base).reduce((a, b) => (metric(b) > metric(a) ? b : a));
  const over = base.filter((b) => !fair.includes(b) && metric(b) > metric(best));
  const drop = mine.adherence && denseAdherence ? Math.max(...ADHERENCE_KEYS.map((k) => denseAdherence[k] - mine.adherence![k])) : null;
  say(`- ${Math.round(budget * 100)}%: learned (${mine.kind}, FLOPs ${mine.ratio.toFixed(3)}) ${metric(mine).toFixed(2)} vs best baseline ${best.method} (FLOPs ${best.ratio.toFixed(3)}) ${metric(best).toFixed(2)}: ${(metric(mine) - metric(best) >= 0 ? '+' : '')}${(metric(mine) - metric(best)).toFixed(2)} dB${mine.ssim !== null && best.ssim !== null ? `, SSIM ${mine.ssim.toFixed(4)} vs ${best.ssim.toFixed(4)}` : ''}${drop === null ? '' : `; adherence worst drop vs dense ${drop.toFixed(0)} points`}${over.length ? `; with more FLOPs than learned: ${over.map((b) => `${b.method} (FLOPs ${b.ratio.toFixed(3)}) ${metric(b).toFixed(2)}`).join(', ')}` : ''}${metric(mine) < metric(best) ? ` — ${best.method} is better on the held-out cases: ship the baseline at this budget, not this file` : ''}`);
}
// The rule the shipped files were chosen by: among schedule files of one budget, each searched on
// its own selection cases, the lowest final-latent rel-L2 on cases none of them saw (--eval-*).
for (const budget of [...new Set(results.map((r) => r.budget))]) {
  const files = results.filter((r) => r.budget === budget && fileRows.has(r.method));
  if (files.length < 2) continue;
  const [first, ...rest] = [...files].sort((a, b) => a.relL2 - b.relL2);
  say(`- choice at ${Math.round(budget * 100)}% (lowest latent rel-L2 on these cases): ${first.method} ${first.relL2.toFixed(4)}; then ${rest.map((r) => `${r.method} ${r.relL2.toFixed(4)}`).join(', ')}`);
}
if (learning.length) {
  const cal = [...calibrated.values()].reduce((a, c) => ({ g: a.g + c.generations, m: a.m + c.minutes }), { g: 0, m: 0 });
  say(`- learning cost: dense references ${references.generations} generations, calibration ${cal.g} generations (${cal.m.toFixed(1)} min), per budget ${learning.map((l) => `${l.label} ${Math.round(l.budget * 100)}%: ${l.generations} (${l.minutes.toFixed(1)} min)`).join('; ')}; ${(msPerGeneration / 1000).toFixed(2)} s per dense generation here`);
}
if (saved.length) {
  say(`- schedules written: ${saved.map((s) => s.file).join(', ')}`);
  say(`- to ship them, list them in the pipeline definition's "schedules": ${JSON.stringify(Object.fromEntries(saved.map((s) => [s.key, s.file])))}`);
}
if (values.out) {
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'fidelity.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(values.out, 'fidelity.json'), JSON.stringify({ model, setting: settingText, shape, cases: { calibration: describe(calibCases), selection: describe(selectCases), evaluation: describe(evalCases) }, dense: { adherence: denseAdherence, secondsPerGeneration: msPerGeneration / 1000 }, results, learning, minutes: totalMinutes, load: loadavg(), schedules: saved.map((s) => ({ file: s.file, table: s.schedule.table, provenance: s.schedule.provenance })), scoreMix: LEARNED_SCORE_MIX }, null, 1));
  console.log(`wrote ${join(values.out, 'fidelity.md')} and fidelity.json`);
}
await scorer?.close();
await dit.release();
if (text) await text.encoder.session.release();
if (tmp) rmSync(tmp, { recursive: true, force: true });
