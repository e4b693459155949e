/** `diffsparse generate PROMPT`: one video from a prompt. */
import { Command, Option } from 'commander';
import { jobOutputName } from '../../batch/naming.js';
import { randomSeed, requestFieldProblems } from '../../batch/request.js';
import { FORMATS, type GenerateRequest, type OutputFormat } from '../../batch/types.js';
import { formatOf } from '../../video/format.js';
import { DEFAULT_PIPELINE, resolvePipeline } from '../../pipeline/definition.js';
import { printJson, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import {
  addGenerationOptions, addRunnerOptions, addSparsityOptions, runnerFrom, settingsFromFlags,
  type GenerationFlags, type RunnerFlags, type SparsityFlags,
} from '../options.js';
import { boundedInt, MAX_STEPS, seedValue } from '../parse.js';
import { formatDuration, ProgressReporter } from '../progress.js';

interface GenerateFlags extends RunnerFlags, GenerationFlags, SparsityFlags {
  seed?: number;
  output?: string;
  format?: OutputFormat;
  saveLatent?: boolean;
  noise?: string;
  preview?: string;
  previewEvery?: number;
  json?: boolean;
  overwrite?: boolean;
  dryRun?: boolean;
}

/** The output format: the one rule (src/video/format.ts) for a given name, else --format or mp4. */
function outputFormat(flags: GenerateFlags): OutputFormat {
  if (!flags.output) return flags.format ?? 'mp4';
  try {
    return formatOf(flags.output, flags.format);
  } catch (e) {
    throw new UsageError(`-o ${(e as Error).message}`);
  }
}

/** The request the flags describe; the seed is chosen here when not given so it can be reported. */
export function requestFromFlags(prompt: string, flags: GenerateFlags): GenerateRequest {
  const seed = flags.seed ?? randomSeed();
  const format = outputFormat(flags);
  const output = flags.output ?? jobOutputName({ index: 0, prompt, seed, extension: format }).replace(/^0000-/, '');
  const request: GenerateRequest = {
    prompt, seed, format, output,
    ...settingsFromFlags(flags, flags),
    ...(flags.saveLatent && { saveLatent: true }),
    ...(flags.noise !== undefined && { noise: flags.noise }),
    ...(flags.preview !== undefined && { preview: flags.preview, previewEvery: flags.previewEvery ?? 5 }),
  };
  if (flags.previewEvery !== undefined && flags.preview === undefined) throw new UsageError('--preview-every needs --preview FILE.png or --preview FOLDER');
  const problems = requestFieldProblems({ prompt, seed, output, format } as Record<string, unknown>);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return request;
}

/** What the default pipeline draws, for the help's examples (they must be sizes it can draw). */
function defaultModelSize(): { name: string; size: string; frames: number } {
  try {
    const p = resolvePipeline(DEFAULT_PIPELINE);
    return { name: p.name, size: p.trained?.sizes[0] ?? `${p.defaults.width}x${p.defaults.height}`, frames: p.trained?.frames[0] ?? p.defaults.frames };
  } catch {
    return { name: DEFAULT_PIPELINE, size: '128x128', frames: 17 };
  }
}

export function generateCommand(ctx: CliContext): Command {
  const command = new Command('generate')
    .description('render one video from a text prompt')
    .argument('<prompt>', 'what the video shows');
  addGenerationOptions(command).option('--seed <n>', 'random seed (a random one is chosen and printed if omitted)', seedValue);
  addSparsityOptions(command)
    .option('-o, --output <file>', 'output video path (default: <prompt-slug>-s<seed>.<format>)')
    .option('--overwrite', 'replace the output (and its sidecar) if they already exist')
    .addOption(new Option('--format <fmt>', 'container (default: from the output name, where a name without an extension is a folder of PNG frames; mp4 without -o)').choices(FORMATS))
    .option('--save-latent', 'also save the final latent as <output>.latent.npy; `diffsparse decode` decodes it again alone')
    .option('--noise <file>', 'initial noise as a .npy file instead of a seeded draw')
    .option('--preview <file.png|folder>', 'while denoising, write a cheap preview of the predicted video (latent-to-RGB projection, no VAE): a .png replaced each time, or a folder of step-NNNN.png; off by default')
    .option('--preview-every <n>', 'steps between previews (default 5; the last step always gets one)', boundedInt(MAX_STEPS, 'there are at most that many steps'))
    .option('--json', 'print one JSON object with the result on stdout')
    .option('--dry-run', 'check the request (sizes, schedule, budget) and print size, frames, steps, memory and estimated time; run nothing');
  addRunnerOptions(command);
  const demo = defaultModelSize();
  command.addHelpText(
    'after',
    `
Examples:
  $ diffsparse generate "a red circle moving right" -o circle.mp4
  $ diffsparse generate "a blue square moving up" --size ${demo.size} --frames ${demo.frames} --steps 30 --seed 42
  $ diffsparse generate "a green triangle moving left" --budget 0.5 --method step-skip --json > result.json
  $ diffsparse generate "a red circle moving right" --pipeline wan-demo-tiny --budget 0.5   # its shipped schedules
  $ diffsparse generate "a yellow circle moving down" --save-latent --preview preview.png -o circle.mp4
  $ diffsparse generate "a lighthouse at dusk, waves" --pipeline models/wan21-1.3b --size 480p --frames 81

The default model (${demo.name}) was trained on ${demo.size}, ${demo.frames} frames; \`diffsparse info <pipeline>\` lists what a model was
trained on, and generate warns outside it.`,
  );
  command.action(async (prompt: string, flags: GenerateFlags) => {
    const runner = runnerFrom(flags, { decodes: true });
    const request = requestFromFlags(prompt, flags);
    const progress = new ProgressReporter(ctx.stderr);
    // Every check that needs no model work runs here, before a model is loaded (issue 17); the lane
    // thread only loads its code meanwhile. A custom --runner renders with its own model, so only
    // the built-in pipeline is checked.
    if (flags.runner && flags.dryRun) throw new UsageError('--dry-run checks and estimates the built-in pipeline; drop --runner');
    const started = Date.now();
    const { renderOne, startLaneEarly } = await import('../../batch/render-one.js');
    // The thread starts while the checks run; a request they stop never reaches it.
    const lane = flags.dryRun ? undefined : startLaneEarly(runner);
    if (!flags.runner) {
      const { checkBeforeRun } = await import('./generate-estimate.js');
      let done: boolean;
      try {
        done = await checkBeforeRun(ctx, progress, flags.pipeline, request, { threads: flags.threads, dryRun: flags.dryRun === true, json: flags.json === true, ...(flags.lowMemory !== undefined && { lowMemory: flags.lowMemory }) });
      } catch (err) {
        await lane?.cancel();
        throw err;
      }
      if (done) {
        await lane?.cancel();
        return;
      }
    }
    const result = await renderOne({
      request, runner, signal: ctx.signal, onProgress: (p) => progress.update(p), overwrite: flags.overwrite === true, ...(lane && { lane }),
      // The seed is printed before the (long) render, so it is known even if the run is stopped.
      onStart: () => progress.line(`seed ${request.seed}${flags.seed === undefined ? ' (random)' : ''} -> ${request.output}`),
    });
    progress.endBar();
    if (flags.json) printJson(ctx, { ok: true, prompt, ...result });
    else ctx.stdout.write(`wrote ${result.output} (seed ${result.seed}, ${formatDuration(Date.now() - started)}, FLOPs ${(result.flopsRatio * 100).toFixed(0)}% of dense)\n`);
  });
  return command;
}

