/** `diffsparse eval`: a VBench-style run (suite, dimensions or a custom prompt list) with results JSON. */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RendererChoice } from '../../eval/renderer.js';
import { DIMENSIONS, isDimension, type Dimension, type SeedRule } from '../../eval/vbench.js';
import type { EvalEvent, EvalFormat, EvaluateOptions } from '../../eval/run.js';
import { printJson, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import {
  addGenerationOptions, addRunnerOptions, addSparsityOptions, runnerFrom, settingsFromFlags, withRendererChoice,
  type GenerationFlags, type RunnerFlags, type SparsityFlags,
} from '../options.js';
import { boundedInt, collect, positiveInt, seedValue, text } from '../parse.js';
import { formatDuration, ProgressReporter } from '../progress.js';
import { promptsFromFlags } from '../prompts-file.js';

interface EvalFlags extends RunnerFlags, GenerationFlags, SparsityFlags {
  prompt?: string[];
  prompts?: string;
  dimension?: Dimension[];
  outDir: string;
  samples?: number;
  flickerSamples?: number;
  seedRule: SeedRule;
  baseSeed: number;
  limit?: number;
  format: EvalFormat;
  metrics: NonNullable<EvaluateOptions['metrics']>;
  vbenchResults?: string[];
  batch?: boolean;
  dryRun?: boolean;
  report?: string;
  json?: boolean;
}

/** A run that renders more videos than this says so before it starts. */
const LARGE_RUN = 100;

function dimension(value: string): Dimension {
  if (!isDimension(value)) throw new InvalidArgumentError(`unknown VBench dimension; one of ${DIMENSIONS.join(', ')}.`);
  return value;
}

/** Custom prompts from --prompt or --prompts (not both); undefined means the suite. */
async function customPrompts(flags: EvalFlags): Promise<string[] | undefined> {
  if ((flags.prompts !== undefined || flags.prompt !== undefined) && flags.dimension !== undefined) {
    throw new UsageError('--dimension picks prompts from the VBench suite; it cannot be combined with custom prompts (--prompt/--prompts)');
  }
  return promptsFromFlags(flags);
}

export function evalCommand(ctx: CliContext): Command {
  const command = new Command('eval')
    .description('render prompts with VBench file names and recorded seeds, measure temporal flickering, write results.json')
    .option('--prompt <text>', 'a custom prompt (repeatable)', collect(text))
    .option('--prompts <file>', 'custom prompts: one a line, or a JSON array of strings')
    .option('--dimension <name>', 'only suite prompts serving this VBench dimension (repeatable), e.g. temporal_flickering', collect(dimension))
    .requiredOption('-o, --out-dir <folder>', 'evaluation folder (videos/ is what VBench scores); rerun to resume')
    .option('--samples <n>', 'videos per prompt (VBench: 5)', boundedInt(100, 'VBench uses 5'))
    .option('--flicker-samples <n>', 'videos per temporal_flickering suite prompt (VBench: 25)', boundedInt(100, 'VBench uses 25'))
    .addOption(new Option('--seed-rule <rule>', 'distinct: base + 100·prompt + index; index: base + index (VBench\'s own scripts)').choices(['distinct', 'index']).default('distinct'))
    .option('--base-seed <n>', 'first seed', seedValue, 0)
    .option('--limit <n>', 'only the first N prompts (quick runs)', positiveInt)
    .addOption(new Option('--format <fmt>', 'video container').choices(['mp4', 'gif']).default('mp4'))
    .addOption(new Option('--metrics <which>', 'videos that get temporal flickering computed').choices(['scored', 'all', 'none']).default('scored'))
    .option('--vbench-results <file>', 'official VBench *_eval_results.json to fold into the scores (repeatable)', collect(text))
    .option('--batch', 'render through the local batch engine (overlaps denoising with decoding)')
    .option('--dry-run', 'plan and report what is already there; render nothing')
    .option('--report <file>', 'also write a self-contained HTML report')
    .option('--json', 'print the results as one JSON object on stdout');
  addGenerationOptions(command);
  addSparsityOptions(command);
  addRunnerOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  $ diffsparse eval --prompts my-prompts.txt -o eval/dense --samples 2 --steps 30
  $ diffsparse eval --dimension temporal_flickering --limit 10 -o eval/flicker --budget 0.5 --method step-skip
  $ diffsparse eval -o eval/full --batch   # the whole VBench suite, resumable
  $ diffsparse eval -o eval/full --vbench-results vbench/results_eval_results.json --report eval/full/report.html`,
  );
  command.action(async (flags: EvalFlags) => {
    const prompts = await customPrompts(flags);
    const settings = settingsFromFlags(flags, flags);
    const runner = runnerFrom(flags);
    const progress = new ProgressReporter(ctx.stderr);
    const started = Date.now();
    let measuring = false;
    const onEvent = (e: EvalEvent): void => {
      if (e.type === 'plan') {
        // Say where the count comes from (issue 18: --dimension temporal_flickering planned 1,875 videos without a word).
        const flicker = e.flickerSamples !== undefined ? `; ${e.flickerSamples} per temporal_flickering prompt (--flicker-samples)` : '';
        progress.line(`${e.total} video(s) planned (${e.prompts} prompt(s), ${e.samples} sample(s) each (--samples)${flicker}), ${e.present} already in ${path.join(flags.outDir, 'videos')}`);
        const todo = e.total - e.present;
        if (todo > LARGE_RUN && !flags.dryRun) progress.line(`warning: this renders ${todo} videos; use --limit N (first N prompts), fewer --samples/--flicker-samples, or --dry-run to see the plan first`);
      }
      else if (e.type === 'render') progress.line(`[${e.done + 1}/${e.todo}] ${e.job.fileName} (seed ${e.job.seed})`);
      else if (e.type === 'progress') progress.update(e.progress, progressLabel(e.job.fileName));
      else if (e.type === 'rendered') progress.line(`${e.job.fileName}: done in ${formatDuration(e.wallMs)}`);
      else if (e.type === 'failed') progress.line(`${e.job.fileName}: FAILED: ${e.error.message}`);
      else if (e.type === 'metrics' && !measuring) {
        measuring = true;
        progress.line('measuring temporal flickering');
      }
    };
    const { evaluate } = await import('../../eval/run.js');
    const options: Omit<EvaluateOptions, keyof RendererChoice> = {
      outDir: flags.outDir, settings, seedRule: flags.seedRule, baseSeed: flags.baseSeed, format: flags.format, metrics: flags.metrics,
      ...(prompts ? { prompts } : {}), ...(flags.dimension ? { dimensions: flags.dimension } : {}),
      ...(flags.samples !== undefined && { samples: flags.samples }), ...(flags.flickerSamples !== undefined && { flickerSamples: flags.flickerSamples }),
      ...(flags.limit !== undefined && { limit: flags.limit }), ...(flags.vbenchResults && { vbenchResults: flags.vbenchResults }),
      ...(flags.dryRun && { dryRun: true }), ...(flags.batch && { batch: { runner } }),
      signal: ctx.signal, onEvent,
    };
    const results = flags.batch ? await evaluate(options) : await withRendererChoice(flags, (choice) => evaluate({ ...options, ...choice }));
    if (flags.report) {
      const { writeReport } = await import('../../eval/report.js');
      await writeReport({ eval: results, title: `diffsparse eval: ${flags.outDir}` }, flags.report);
    }
    if (results.failures.length > 0) ctx.exitCode = EXIT.failure;
    const resultsFile = path.join(flags.outDir, 'results.json');
    if (flags.json) return printJson(ctx, { ok: results.failures.length === 0, resultsFile, ...(flags.report && { report: flags.report }), ...results });
    const c = results.counts;
    const lines = [`${c.present}/${c.planned} videos in ${results.videosDir} (${c.rendered} rendered, ${c.skipped} already there, ${c.failed} failed) in ${formatDuration(Date.now() - started)}`];
    for (const [dimension, score] of Object.entries(results.scores)) lines.push(`  ${dimension}: ${score.value.toFixed(4)} (${score.source}${score.standard ? '' : ', not VBench-standard'})`);
    for (const f of results.failures) lines.push(`  FAILED ${f.fileName}: ${f.error}`);
    lines.push(`results: ${resultsFile}${flags.report ? `, report: ${flags.report}` : ''}`);
    ctx.stdout.write(`${lines.join('\n')}\n`);
  });
  return command;
}

/** VBench file names run to 200+ characters; a progress line shows their start. */
function progressLabel(fileName: string): string {
  return fileName.length <= 40 ? fileName : `${fileName.slice(0, 39)}…`;
}
