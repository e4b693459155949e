/** `diffsparse compare`: dense vs accelerated renders of the same prompts and seeds, with a quality gate. */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CompareEvent, CompareResult, CompareVariant, QualityGate } from '../../eval/compare.js';
import type { SeedRule } from '../../eval/vbench.js';
import { printJson, type CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import {
  addGenerationOptions, addRunnerOptions, METHODS, settingsFromFlags, withRendererChoice,
  type GenerationFlags, type RunnerFlags,
} from '../options.js';
import { boundedInt, collect, fraction, number, seedValue, text } from '../parse.js';
import { formatDuration, ProgressReporter } from '../progress.js';
import { promptsFromFlags } from '../prompts-file.js';

type Method = (typeof METHODS)[number];

interface CompareFlags extends RunnerFlags, GenerationFlags {
  prompt?: string[];
  prompts?: string;
  budget?: number[];
  method?: Method[];
  schedule?: string[];
  samples?: number;
  seedRule: SeedRule;
  baseSeed: number;
  minPsnr?: number;
  minSsim?: number;
  warmup?: boolean;
  outDir: string;
  report?: string;
  json?: boolean;
}

function method(value: string): Method {
  if (!(METHODS as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${METHODS.join(', ')}.`);
  return value as Method;
}

/** Every --budget with every --method (the pipeline's learned schedules when no method is given), then every --schedule. */
export function variantsFromFlags(flags: Pick<CompareFlags, 'budget' | 'method' | 'schedule'>): CompareVariant[] {
  if (flags.method && !flags.budget) throw new UsageError('--method says how to meet a --budget; give one or more --budget values too');
  if (!flags.budget && !flags.schedule) throw new UsageError('nothing to compare against dense: give --budget F (repeatable) and/or --schedule FILE');
  const methods = flags.method ?? [undefined];
  return [
    ...(flags.budget ?? []).flatMap((budget) => methods.map((m) => ({ budget, ...(m ? { method: m } : {}) }))),
    ...(flags.schedule ?? []).map((schedule) => ({ schedule })),
  ];
}

async function promptsOf(flags: CompareFlags): Promise<string[]> {
  const prompts = await promptsFromFlags(flags);
  if (prompts) return prompts;
  throw new UsageError('no prompts: give --prompt TEXT (repeatable) or --prompts FILE');
}

function gateFailures(result: CompareResult): string {
  return result.variants.filter((v) => !v.gate.passed).map((v) => `${v.label}: ${v.gate.failures.join(', ')}`).join('; ');
}

export function compareCommand(ctx: CliContext): Command {
  const command = new Command('compare')
    .description('render prompts densely and with each accelerated variant, measure PSNR/SSIM/flicker and speed-up, gate on quality')
    .option('--prompt <text>', 'a prompt (repeatable)', collect(text))
    .option('--prompts <file>', 'prompts: one a line, or a JSON array of strings')
    .option('--budget <fraction>', 'a FLOPs budget to compare, as a fraction of dense (repeatable)', collect(fraction))
    .addOption(new Option('--method <name>', `how to meet each --budget (repeatable; default learned): ${METHODS.join(', ')}`).argParser(collect(method)))
    .option('--schedule <file>', 'a schedule file to compare (repeatable)', collect(text))
    .option('--samples <n>', 'videos per prompt', boundedInt(100, 'a comparison needs a handful'))
    .addOption(new Option('--seed-rule <rule>', 'how seeds follow from --base-seed').choices(['distinct', 'index']).default('distinct'))
    .option('--base-seed <n>', 'first seed', seedValue, 0)
    .option('--min-psnr <dB>', 'quality gate: every variant needs at least this mean PSNR', number)
    .option('--min-ssim <x>', 'quality gate: every variant needs at least this mean SSIM', number)
    .option('--warmup', 'render one extra dense video first so model warm-up is not timed')
    .requiredOption('-o, --out-dir <folder>', 'folder for the videos, compare.json and frames')
    .option('--report <file>', 'also write a self-contained HTML report')
    .option('--json', 'print the comparison as one JSON object on stdout');
  addGenerationOptions(command);
  addRunnerOptions(command);
  command.addHelpText(
    'after',
    `
Exits 1 when a variant misses the quality gate (--min-psnr/--min-ssim), after printing the table.

Examples:
  $ diffsparse compare --prompt "a red circle moving right" --budget 0.5 --budget 0.3 --method step-skip -o cmp
  $ diffsparse compare --prompts prompts.txt --pipeline wan-demo-tiny --budget 0.5 --method learned --method step-skip --min-psnr 25 -o cmp --report cmp/report.html
  $ diffsparse compare --prompts prompts.txt --schedule my-schedule.json --warmup -o cmp`,
  );
  command.action(async (flags: CompareFlags) => {
    const variants = variantsFromFlags(flags);
    const prompts = await promptsOf(flags);
    const settings = settingsFromFlags(flags);
    const gate: QualityGate = { ...(flags.minPsnr !== undefined && { minPsnr: flags.minPsnr }), ...(flags.minSsim !== undefined && { minSsim: flags.minSsim }) };
    const progress = new ProgressReporter(ctx.stderr);
    const started = Date.now();
    const onEvent = (e: CompareEvent): void => {
      if (e.type === 'render') progress.line(`[${e.done + 1}/${e.total}] ${e.side}: ${e.job.fileName} (seed ${e.job.seed})`);
      else progress.line(`  ${e.side}: PSNR ${e.psnr.toFixed(2)} dB, SSIM ${e.ssim.toFixed(4)}`);
    };
    const { compare, formatCompareTable } = await import('../../eval/compare.js');
    const result = await withRendererChoice(flags, (choice) => compare({
      ...choice, prompts, variants, settings, gate, outDir: flags.outDir, seedRule: flags.seedRule, baseSeed: flags.baseSeed,
      ...(flags.samples !== undefined && { samples: flags.samples }), ...(flags.warmup && { warmup: true }),
      signal: ctx.signal, onEvent,
    }));
    if (flags.report) {
      const { writeReport } = await import('../../eval/report.js');
      await writeReport({ compare: [result], title: 'diffsparse compare' }, flags.report);
    }
    const resultsFile = path.join(flags.outDir, 'compare.json');
    if (flags.json) printJson(ctx, { ok: result.passed, resultsFile, ...(flags.report && { report: flags.report }), ...result });
    else ctx.stdout.write(`${formatCompareTable(result)}\nresults: ${resultsFile}${flags.report ? `, report: ${flags.report}` : ''} (${formatDuration(Date.now() - started)})\n`);
    if (!result.passed) {
      ctx.stderr.write(`diffsparse: quality gate failed: ${gateFailures(result)}\n`);
      ctx.exitCode = EXIT.failure;
    }
  });
  return command;
}
