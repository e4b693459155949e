/** `diffsparse schedule show|draw|resample|solve|learn`: inspect, adapt, solve and learn sparsity schedules. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ATTENTION_VARIANTS, type AttentionVariant, type FlopsShape } from '../../sparsity/flops.js';
import { longestSparseRun, type CostTable } from '../../sparsity/learn.js';
import type { Schedule } from '../../sparsity/schedule.js';
import { printJson, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addGenerationOptions, settingsFromFlags, type GenerationFlags } from '../options.js';
import { collect, fraction, nonNegativeInt, positiveInt, seedValue, text, threadCount } from '../parse.js';
import { formatDuration } from '../progress.js';
import { promptsFromFlags } from '../prompts-file.js';
import type { ScheduleTarget } from '../../pipeline/schedule-target.js';

const ATTENTION = ATTENTION_VARIANTS;

interface SolveFlags extends GenerationFlags {
  pipeline?: string;
  threads?: number;
  budget: number;
  attention: AttentionVariant;
  cost?: string;
  output: string;
  draw?: string;
  json?: boolean;
}

interface LearnFlags extends Omit<SolveFlags, 'cost'> {
  prompt?: string[];
  prompts?: string;
  seeds: number[];
  selectSeeds?: number[];
  /** Absent: one step × all layers. */
  grouping?: { steps: number; layers: number };
  iterations: number;
  generations: number;
  growth: number | 'auto' | 'none';
  forecast: 'none' | 'linear';
  maxRun?: number;
  cost?: string;
  saveCost?: string;
}

/** "1,2,3" → [1, 2, 3]. */
function seedList(value: string): number[] {
  return value.split(',').map((v) => seedValue(v));
}

/** --growth: auto, none, or a non-negative exponent. */
function growthValue(value: string): number | 'auto' | 'none' {
  if (value === 'auto' || value === 'none') return value;
  const g = Number(value);
  if (!(Number.isFinite(g) && g >= 0 && g <= 8)) throw new InvalidArgumentError(`"${value}" is not auto, none or an exponent in [0, 8]`);
  return g;
}

/** "2x1" → cells of 2 steps × 1 layer. */
function grouping(value: string): { steps: number; layers: number } {
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(value);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) throw new InvalidArgumentError('must be STEPSxLAYERS, e.g. 2x1 (calibration cells of 2 steps by 1 layer).');
  return { steps: Number(m[1]), layers: Number(m[2]) };
}

/** Flags both solve and learn take: the pipeline and setting the schedule is for, the budget, the output. */
function addTargetOptions(command: Command): Command {
  command
    .option('--pipeline <name|folder>', 'pipeline name or converted model folder (default: the built-in demo model)')
    .option('--threads <n>', 'onnxruntime threads (at most the number of CPUs)', threadCount)
    .requiredOption('--budget <fraction>', 'generation FLOPs budget as a fraction of dense, e.g. 0.5', fraction)
    .addOption(new Option('--attention <variant>', 'how sparse blocks treat self-attention: fresh-kv, the recomputed tokens\' queries against fresh keys and values of all tokens (what the shipped wan-demo schedules use); reuse, their cached self-attention output (ToCa); cached-kv, cached keys and values of the others').choices(ATTENTION).default('fresh-kv'))
    .requiredOption('-o, --output <file>', 'schedule JSON to write')
    .option('--draw <png>', 'also draw the schedule as a PNG heatmap')
    .option('--json', 'print the schedule summary as JSON');
  return addGenerationOptions(command, { video: false });
}

/** The --cost table, checked against the target's model, steps and --attention. */
async function costTableFor(target: ScheduleTarget, flags: { cost?: string; attention: AttentionVariant }): Promise<{ table: CostTable; levels: number[] } | undefined> {
  if (!flags.cost) return undefined;
  const { loadCostTable } = await import('../../sparsity/cost-table-file.js');
  const { modelFingerprint } = await import('../../sparsity/modelInfo.js');
  const loaded = await loadCostTable(flags.cost, { fingerprint: modelFingerprint(target.dit), steps: target.sampling.steps, layers: target.shape.layers });
  if (loaded.doc.attention !== flags.attention) throw new UsageError(`cost table ${flags.cost} was measured with --attention ${loaded.doc.attention}; pass the same`);
  return { table: loaded.cost, levels: loaded.doc.levels };
}

async function writeSchedule(ctx: CliContext, schedule: Schedule, flags: { output: string; draw?: string; json?: boolean }, extra: Record<string, unknown>): Promise<void> {
  const { saveSchedule } = await import('../../sparsity/schedule.js');
  await saveSchedule(schedule, flags.output);
  if (flags.draw) {
    const { drawSchedule } = await import('../../sparsity/scheduleDraw.js');
    await drawSchedule(schedule, flags.draw);
  }
  if (flags.json) return printJson(ctx, { ok: true, output: flags.output, ...(flags.draw && { draw: flags.draw }), flopsRatio: schedule.flopsRatio, provenance: schedule.provenance, fidelity: schedule.fidelity, ...extra });
  const relL2 = schedule.fidelity?.latentRelL2;
  const fidelity = relL2 !== undefined ? `, final-latent rel-L2 ${relL2.toFixed(4)}` : '';
  ctx.stdout.write(`wrote ${flags.output}: ${schedule.sampling.steps} steps × ${schedule.model.layers} layers, FLOPs ${(schedule.flopsRatio * 100).toFixed(1)}% of dense${fidelity} (${schedule.provenance.kind})\n`);
}

/** The FLOPs shape a schedule runs at (its model's sizes at its token grid), or undefined when the model is not found or differs. */
async function scheduleFlopsShape(schedule: Schedule, pipeline?: string): Promise<FlopsShape | undefined> {
  const { resolvePipeline } = await import('../../pipeline/definition.js');
  const { readDiTManifest } = await import('../../models/wan/dit/manifest.js');
  let manifest: ReturnType<typeof readDiTManifest>;
  try {
    manifest = readDiTManifest(resolvePipeline(pipeline ?? schedule.model.id).models.dit);
  } catch (err) {
    if (pipeline !== undefined) throw err;
    return undefined;
  }
  const c = manifest.config;
  if (c.numLayers !== schedule.model.layers || c.dim !== schedule.model.dim || c.numHeads !== schedule.model.heads) {
    if (pipeline !== undefined) throw new UsageError(`--pipeline ${pipeline} has ${c.numLayers} layers of width ${c.dim}, but the schedule was made for ${schedule.model.layers} of width ${schedule.model.dim}`);
    return undefined;
  }
  const g = schedule.tokenGrid;
  return {
    dim: c.dim, ffnDim: c.ffnDim, textLen: c.textLen, textDim: c.textDim, layers: c.numLayers, tokens: g.frames * g.height * g.width,
    patchFeatures: manifest.tokens.patchFeatures, headFeatures: manifest.tokens.headFeatures, freqDim: c.freqDim,
  };
}

export function scheduleCommand(ctx: CliContext): Command {
  const command = new Command('schedule').description('inspect, draw and resample sparsity schedules');
  command
    .command('show')
    .description('summarise a schedule: model, steps, level counts, FLOPs ratio, provenance')
    .argument('<schedule>', 'schedule JSON file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const { describePath } = await import('../../batch/inspect.js');
      const info = await describePath(file);
      if (flags.json) return printJson(ctx, { ok: true, ...info });
      if (info.kind !== 'schedule') throw new Error(`${file} is not a schedule`);
      const levels = Object.entries(info.levels).map(([l, n]) => `${Math.round(Number(l) * 100)}%:${n}`).join(' ');
      ctx.stdout.write(
        `${file}: model ${info.model} (${info.layers} layers), ${info.steps} steps (${info.solver}), ` +
          `FLOPs ${(info.flopsRatio * 100).toFixed(1)}% of dense\n  levels ${levels}\n  ${info.provenance}\n`,
      );
    });
  command
    .command('draw')
    .description('draw a schedule as a PNG: title (model, steps, solver, provenance, FLOPs ratio), heatmap with step and layer axes, colour legend')
    .argument('<schedule>', 'schedule JSON file')
    .requiredOption('-o, --output <png>', 'PNG file to write')
    .action(async (file: string, flags: { output: string }) => {
      const { loadSchedule } = await import('../../sparsity/schedule.js');
      const { drawSchedule } = await import('../../sparsity/scheduleDraw.js');
      await drawSchedule(await loadSchedule(file), flags.output);
      ctx.stdout.write(`wrote ${flags.output}\n`);
    });
  command
    .command('resample')
    .description('adapt a schedule to another number of denoising steps')
    .argument('<schedule>', 'schedule JSON file')
    .requiredOption('--steps <n>', 'new step count', positiveInt)
    .requiredOption('-o, --output <file>', 'schedule JSON to write')
    .option('--pipeline <name|folder>', 'the model the schedule is for, to compute its FLOPs exactly (default: the pipeline named by the schedule\'s model id)')
    .action(async (file: string, flags: { steps: number; output: string; pipeline?: string }) => {
      const { loadSchedule, saveSchedule } = await import('../../sparsity/schedule.js');
      const { resampleSchedule } = await import('../../sparsity/scheduleResample.js');
      const schedule = await loadSchedule(file);
      // Exact FLOPs from the model's sizes, as generate computes them (issue 18: without them the
      // resampled file kept the source's ratio, and show said 47.4% where generate ran at 42%).
      const flops = await scheduleFlopsShape(schedule, flags.pipeline);
      const resampled = resampleSchedule(schedule, flags.steps, flops ? { flops } : {});
      await saveSchedule(resampled, flags.output);
      const note = flops ? '' : `; FLOPs ratio kept from ${file} (no model "${schedule.model.id}" found to compute it exactly: pass --pipeline)`;
      ctx.stdout.write(`wrote ${flags.output} (${flags.steps} steps, FLOPs ${(resampled.flopsRatio * 100).toFixed(1)}% of dense${note})\n`);
    });
  const solve = command
    .command('solve')
    .description('solve a schedule for a FLOPs budget without running the model (prior cost table, or one saved by learn --save-cost)')
    .option('--cost <file>', 'calibrated cost table from `schedule learn --save-cost`');
  addTargetOptions(solve).action(async (flags: SolveFlags) => {
    const settings = settingsFromFlags(flags);
    const { openScheduleTarget, solveForTarget } = await import('../../pipeline/schedule-target.js');
    const target = await openScheduleTarget(flags.pipeline, settings, flags.threads);
    try {
      const cost = await costTableFor(target, flags);
      const schedule = solveForTarget(target, { budget: flags.budget, attention: flags.attention, ...(cost && { cost }) });
      await writeSchedule(ctx, schedule, flags, {});
    } finally {
      await target.dit.release();
    }
  });

  const learn = command
    .command('learn')
    .description('learn a schedule on the model: calibrate a cost table on prompts and seeds, solve for the budget, refine')
    .option('--prompt <text>', 'a calibration prompt (repeatable)', collect(text))
    .option('--prompts <file>', 'calibration prompts: one a line, or a JSON array of strings')
    .addOption(new Option('--seeds <list>', 'calibration seeds, comma-separated (every prompt runs with every seed)').argParser(seedList).default([0], '0'))
    .addOption(new Option('--select-seeds <list>', 'other seeds that choose the final schedule among the solved one and the structured ones (judging on the calibration seeds favours the solved one)').argParser(seedList))
    .addOption(new Option('--grouping <SxL>', 'calibration cell size in steps x layers (bigger cells: fewer runs, coarser table; default one step × all layers)').argParser(grouping))
    .option('--iterations <n>', 'solver-in-the-loop refinement iterations', nonNegativeInt, 3)
    .option('--generations <n>', 'local-search generations on the chosen table (each one run on the selection seeds; a move is kept if the final-sample error drops)', nonNegativeInt, 0)
    .addOption(new Option('--growth <auto|none|γ>', 'solver error model for reusing caches over consecutive steps: auto fits γ from up to 4 runs (the i-th sparse step of a run costs i^γ × its single-step cost), none is the additive model').default('auto').argParser(growthValue))
    .addOption(new Option('--forecast <mode>', 'linear: every measured run extrapolates reused module outputs from their last two computations (TaylorSeer-like), and the schedule records it and always runs so; a --cost table must come from a run with the same --forecast').choices(['none', 'linear']).default('linear'))
    .option('--max-run <n>', 'at most n consecutive steps with sparse blocks (the solver with --growth; 1: every sparse step is followed by a whole one)', positiveInt)
    .option('--cost <file>', 'start from this calibrated cost table instead of measuring one')
    .option('--save-cost <file>', 'save the calibrated cost table, for `schedule solve --cost` at other budgets');
  addTargetOptions(learn).action(async (flags: LearnFlags) => {
    const prompts = await promptsFromFlags(flags);
    if (!prompts) throw new UsageError('learning needs calibration prompts: give --prompt TEXT (repeatable) or --prompts FILE');
    if (flags.maxRun !== undefined && flags.growth === 'none') throw new UsageError('--max-run limits the solver that models error growth; add --growth auto (or an exponent)');
    const settings = settingsFromFlags(flags);
    const started = Date.now();
    const say = (line: string): void => void ctx.stderr.write(`${line}\n`);
    const { openScheduleTarget, learnForTarget } = await import('../../pipeline/schedule-target.js');
    const target = await openScheduleTarget(flags.pipeline, settings, flags.threads);
    try {
      const calibrated = await costTableFor(target, flags);
      const s = target.sampling;
      say(`learning for ${target.pipelineName}: ${s.steps} ${s.solver} steps, latent ${target.latentShape.join('x')}, budget ${(flags.budget * 100).toFixed(1)}%, ${prompts.length} prompt(s) × ${flags.seeds.length} seed(s)`);
      let lastQuarter = -1;
      let lastPhase = '';
      const learned = await learnForTarget(target, {
        budget: flags.budget, prompts, seeds: flags.seeds, ...(flags.selectSeeds && { selectSeeds: flags.selectSeeds }), attention: flags.attention, grouping: flags.grouping ?? { steps: 1, layers: target.shape.layers }, iterations: flags.iterations,
        ...(calibrated && { calibrated }),
        generations: flags.generations,
        ...(flags.growth !== 'none' && { growth: flags.growth }),
        ...(flags.forecast === 'linear' && { forecast: 'linear' as const }),
        ...(flags.maxRun !== undefined && { maxRun: flags.maxRun }),
        onPlan: (p) =>
          say(`plan: at most ${p.total} generations (calibrate ${p.calibrate}, refine ${p.refine}, select ${p.select}, local search ${p.search})${p.etaMs === undefined ? '' : `, ETA ${formatDuration(p.etaMs)}`}`),
        onProgress: (phase, done, total) => {
          if (ctx.signal.aborted) throw Object.assign(new Error('stopped while learning'), { name: 'AbortError' });
          if (phase !== lastPhase) [lastPhase, lastQuarter] = [phase, -1];
          const quarter = Math.floor((done / Math.max(total, 1)) * 4);
          if (quarter === lastQuarter) return;
          lastQuarter = quarter;
          say(`${phase} ${done}/${total} (${formatDuration(Date.now() - started)})`);
          if (phase === 'calibrate' && done === total && flags.iterations > 0) say(`refining: ${flags.iterations} solver-in-the-loop iteration(s)`);
        },
      });
      if (flags.saveCost) {
        const { saveCostTable } = await import('../../sparsity/cost-table-file.js');
        await saveCostTable(flags.saveCost, {
          model: { id: learned.schedule.model.id, ...(learned.schedule.model.fingerprint && { fingerprint: learned.schedule.model.fingerprint }) },
          steps: s.steps, layers: target.shape.layers, levels: learned.schedule.levels, attention: flags.attention,
        }, learned.calibrated);
      }
      if (flags.maxRun !== undefined && longestSparseRun(learned.schedule.table) > flags.maxRun)
        say(`warning: no table with runs of at most ${flags.maxRun} sparse steps meets a budget of ${flags.budget} at ${s.steps} steps, so the runs are longer; raise the budget or --max-run`);
      await writeSchedule(ctx, learned.schedule, flags, { runs: learned.runs, history: learned.history, ...(flags.saveCost && { cost: flags.saveCost }) });
      say(`${learned.runs} generations in ${formatDuration(Date.now() - started)}`);
    } finally {
      await target.dit.release();
    }
  });

  command.addHelpText(
    'after',
    `
Examples:
  $ diffsparse schedule learn --pipeline models/wan21-1.3b --prompts calib.txt --seeds 1,2 --budget 0.5 --steps 30 --grouping 3x5 -o s50.json --save-cost cost.json
  $ diffsparse schedule solve --pipeline models/wan21-1.3b --steps 30 --budget 0.35 --cost cost.json -o s35.json
  $ diffsparse schedule show schedule.json
  $ diffsparse schedule draw schedule.json -o schedule.png
  $ diffsparse schedule resample schedule.json --steps 30 -o schedule-30steps.json`,
  );
  return command;
}
