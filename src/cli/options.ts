/** Flags shared by the commands that render: which pipeline (or runner) does the work, and with what settings. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkPipelineArg } from '../batch/pipeline-arg.js';
import { requestFieldProblems } from '../batch/request.js';
import { defaultRunnerSpec, loadRunner } from '../batch/runner-module.js';
import { SOLVERS, type GenerateRequest, type RunnerSpec, type Solver } from '../batch/types.js';
import type { RendererChoice } from '../eval/renderer.js';
import { methodHelp, SPARSITY_METHODS, type SparsityMethod } from '../sparsity/methods/index.js';
import { checkProviders, EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/session.js';
import { UsageError } from './errors.js';
import { boundedInt, fraction, jsonObject, MAX_FRAMES, MAX_STEPS, number, size, threadCount } from './parse.js';

export interface RunnerFlags {
  pipeline?: string;
  threads?: number;
  device?: ExecutionProvider[];
  runner?: string;
  runnerOptions?: Record<string, unknown>;
  lowMemory?: boolean;
}

export function addRunnerOptions(command: Command): Command {
  return command
    .option('--pipeline <name|folder>', 'pipeline name or converted model folder (default: the built-in demo model)')
    .option('--threads <n>', 'onnxruntime threads per model lane (at most the number of CPUs)', threadCount)
    .option('--device <list>', `onnxruntime execution providers, comma-separated in order of preference: ${EXECUTION_PROVIDERS.join(', ')} (default cpu)`, deviceList)
    .option('--low-memory', 'load each DiT block for its turn only (the 14B DiT in a few GB; slower; a one-graph text encoder stays loaded, see convert --text-mode layered). Default: chosen from the available memory')
    .option('--no-low-memory', 'keep every DiT block loaded even when memory looks short')
    .option('--runner <module>', 'render with a custom Renderer: an ES module exporting createRunner(options) (src/core/renderer.ts), instead of the pipeline')
    .addOption(new Option('--runner-options <json>', 'JSON options passed to --runner\'s createRunner').argParser(jsonObject));
}

/**
 * The runner the flags select; a missing model folder fails here, before any thread starts.
 * `decodes`: the runner will decode too (`generate`), so the built-in pipeline starts its decoder early.
 */
export function runnerFrom(flags: RunnerFlags, { decodes = false } = {}): RunnerSpec {
  if (flags.runner) return { module: flags.runner, options: flags.runnerOptions ?? {} };
  checkPipelineArg(flags.pipeline);
  if (flags.device) checkProviders(flags.device); // a provider that is not installed fails here, naming the fix
  return defaultRunnerSpec({ ...(flags.pipeline ? { pipeline: flags.pipeline } : {}), ...(flags.threads ? { threads: flags.threads } : {}), ...(flags.device && { providers: flags.device }), ...(flags.lowMemory !== undefined && { lowMemory: flags.lowMemory }), ...(decodes && { startDecoder: true }) });
}

/** The sparsity methods, from their registry (src/sparsity/methods/). */
export const METHODS = SPARSITY_METHODS;

/** "cuda,cpu" → ['cuda', 'cpu'], each a known provider. */
export function deviceList(value: string): ExecutionProvider[] {
  const list = value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
  const bad = list.filter((v) => !(EXECUTION_PROVIDERS as readonly string[]).includes(v));
  if (list.length === 0 || bad.length > 0) throw new InvalidArgumentError(`use one or more of ${EXECUTION_PROVIDERS.join(', ')}, comma-separated.`);
  return list as ExecutionProvider[];
}

/** Generation settings shared by every video a command renders (prompt, seed and output come from elsewhere). */
export interface GenerationFlags {
  negativePrompt?: string;
  size?: { width: number; height: number };
  frames?: number;
  fps?: number;
  steps?: number;
  shift?: number;
  guidance?: number;
  solver?: Solver;
}

/** How a render is sped up: a schedule file, or a budget met by a method. */
export interface SparsityFlags {
  schedule?: string;
  budget?: number;
  method?: SparsityMethod;
  forecast?: 'none' | 'linear';
}

/** `video: false` leaves out what only matters to a written video (--fps), for commands that only denoise. */
export function addGenerationOptions(command: Command, { video = true }: { video?: boolean } = {}): Command {
  command
    .option('-n, --negative-prompt <text>', 'what the video should avoid')
    .option('--size <WxH>', 'frame size in pixels: WxH or W*H (e.g. 128x128 for the demo, 64x64 for wan-demo-tiny, 832*480), or 480p (832x480) / 720p (1280x720); `diffsparse info` lists the sizes a model was trained on', size)
    .option('--frames <n>', `number of video frames (4k+1, e.g. 17, 33, 81; at most ${MAX_FRAMES})`, boundedInt(MAX_FRAMES, 'longer clips do not fit in memory'));
  if (video) command.option('--fps <n>', 'frames per second of the video', number);
  return command
    .option('--steps <n>', 'denoising steps', boundedInt(MAX_STEPS, 'the sampling schedule has 1000 timesteps'))
    .option('--shift <x>', 'flow-matching timestep shift', number)
    .option('--guidance <x>', 'classifier-free guidance scale', number)
    .addOption(new Option('--solver <name>', 'sampler').choices(SOLVERS));
}

export function addSparsityOptions(command: Command): Command {
  return command
    .addOption(new Option('--schedule <file>', 'sparsity schedule JSON').conflicts('budget'))
    .addOption(new Option('--budget <fraction>', 'FLOPs budget as a fraction of dense, e.g. 0.5').argParser(fraction).conflicts('schedule'))
    .addOption(new Option('--method <name>', `how to meet --budget (default learned) — ${methodHelp()}`).choices(METHODS))
    .addOption(new Option('--forecast <mode>', 'reused module outputs: held constant (none, default) or extrapolated from their last two computations (linear, TaylorSeer-like)').choices(['none', 'linear']));
}

/** The request fields the flags set, checked like a jobs-file line (a problem is a usage error). */
export function settingsFromFlags(flags: GenerationFlags, sparsity: SparsityFlags = {}): Partial<GenerateRequest> {
  const settings: Partial<GenerateRequest> = {
    ...(flags.negativePrompt !== undefined && { negativePrompt: flags.negativePrompt }),
    ...(flags.size && { width: flags.size.width, height: flags.size.height }),
    ...(flags.frames !== undefined && { frames: flags.frames }),
    ...(flags.fps !== undefined && { fps: flags.fps }),
    ...(flags.steps !== undefined && { steps: flags.steps }),
    ...(flags.shift !== undefined && { shift: flags.shift }),
    ...(flags.guidance !== undefined && { guidance: flags.guidance }),
    ...(flags.solver !== undefined && { solver: flags.solver }),
    ...(sparsity.schedule !== undefined && { schedule: sparsity.schedule }),
    ...(sparsity.budget !== undefined && { budget: sparsity.budget }),
    ...(sparsity.method !== undefined && { method: sparsity.method }),
    ...(sparsity.forecast !== undefined && { forecast: sparsity.forecast }),
  };
  const problems = requestFieldProblems(settings as Record<string, unknown>);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return settings;
}

/**
 * For commands that render in this process (eval, compare): what to render with. A --runner
 * module is loaded here and released after `body`; a pipeline is loaded by the library.
 */
export async function withRendererChoice<T>(flags: RunnerFlags, body: (choice: RendererChoice) => Promise<T>): Promise<T> {
  const spec = runnerFrom(flags);
  if (!flags.runner) return body({ ...(flags.pipeline !== undefined && { pipeline: flags.pipeline }), ...(flags.threads !== undefined && { threads: flags.threads }), ...(flags.device !== undefined && { providers: flags.device }) });
  const runner = await loadRunner(spec);
  try {
    return await body({ runner });
  } finally {
    await runner.release?.();
  }
}
