/**
 * Whole release folder -> converted model folder: the DiT, the VAE decoder and the text
 * encoder each converted into their own subfolder, then `pipeline.json` written last, so a
 * folder with a pipeline.json is always complete. Both release layouts are recognised:
 * the original Wan2.1 one (files at the top level) and the diffusers one (subfolders).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { convertT5EncoderFile } from '../models/wan/t5/convert.js';
import { convertVaeCheckpoint } from '../models/wan/vae/convert.js';
import type { VaeDecoderConfig } from '../models/wan/vae/config.js';
import { PIPELINE_FORMAT, PIPELINE_VERSION, type PipelineDefaults, type PipelineDefinition } from '../pipeline/definition.js';
import { DEFAULT_NEGATIVE_PROMPT } from '../text/context.js';
import { convertCheckpoint, readCheckpointConfig } from './dit.js';
import { requestFieldProblems } from '../pipeline/request-fields.js';
import { T5_LIMITS, rangeProblems } from '../models/wan/limits.js';
import { vaeConfigProblems, WAN21_VAE_DEFAULTS } from '../models/wan/vae/config.js';
import { CheckpointError } from './errors.js';
import { trainedRangeProblems, wan21TrainedRange, type TrainedRange } from '../pipeline/trained.js';
import { jsonErrorMessage } from '../io/input-file.js';

/** The official Wan2.1 t2v defaults (generate.py / configs), used unless the checkpoint says otherwise. */
export const WAN21_T2V_DEFAULTS: PipelineDefaults = {
  width: 832, height: 480, frames: 81, steps: 50, shift: 5, guidance: 5, solver: 'unipc', fps: 16, negativePrompt: DEFAULT_NEGATIVE_PROMPT,
};

/**
 * What a checkpoint folder may say about itself beyond the release files, for models that
 * differ from the release (the built-in demo): `diffsparse.json` (pipeline name and
 * defaults), `vae_config.json` (latent `mean`/`std`) and `t5_config.json` (`num_heads`,
 * `text_len`, `negative_prompt`).
 */
export interface CheckpointExtras {
  name?: string;
  description?: string;
  defaults?: Partial<PipelineDefaults>;
  vae?: Partial<Pick<VaeDecoderConfig, 'latentMean' | 'latentStd'>>;
  text?: { numHeads?: number; textLen?: number };
  /** Sizes and frame counts the model was trained on (src/pipeline/trained.ts). */
  trained?: TrainedRange;
}

export interface ModelConvertOptions {
  /** Storage of the large matrices; bfloat16 applies to the DiT (kept half in memory), the text encoder then stays float32. */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  onProgress?: (part: 'dit' | 'vae' | 'text', message: string) => void;
  /** Weight-only int8/int4 DiT Linear layers (MatMulNBits). */
  quantize?: 'int8' | 'int4';
  /** Run the text encoder layer by layer from the release .pth instead of converting it (default: when over 8 GB in float32). */
  textLayered?: boolean;
}

interface ReleaseFiles {
  dit: string;
  vae: string;
  t5: string;
  tokenizer: string;
}

function findFirst(dir: string, candidates: string[]): string | undefined {
  return candidates.map((c) => join(dir, c)).find((p) => existsSync(p));
}

/** Locates the parts of a release folder, naming what is missing. */
export function findReleaseFiles(dir: string): ReleaseFiles {
  if (!existsSync(dir)) throw new CheckpointError(`${dir} does not exist; point at a Wan2.1 release folder (the one holding Wan2.1_VAE.pth and config.json)`);
  const hasDiT = (d: string): boolean => existsSync(join(d, 'config.json')) && readdirSync(d).some((f) => /^diffusion_pytorch_model.*\.safetensors(\.index\.json)?$/.test(f));
  const dit = [dir, join(dir, 'transformer')].find((d) => existsSync(d) && hasDiT(d));
  const vae = findFirst(dir, ['Wan2.1_VAE.pth', 'vae/diffusion_pytorch_model.safetensors', 'vae']);
  const t5 = findFirst(dir, ['models_t5_umt5-xxl-enc-bf16.pth', 'text_encoder']);
  const tokenizer = findFirst(dir, ['google/umt5-xxl/tokenizer.json', 'tokenizer/tokenizer.json', 'tokenizer.json']);
  const missing = [
    !dit && 'the DiT (config.json + diffusion_pytorch_model*.safetensors)',
    !vae && 'the VAE (Wan2.1_VAE.pth)',
    !t5 && 'the text encoder (models_t5_umt5-xxl-enc-bf16.pth)',
    !tokenizer && 'the tokenizer (google/umt5-xxl/tokenizer.json)',
  ].filter(Boolean);
  if (missing.length) throw new CheckpointError(`${dir} is missing ${missing.join(', ')}; download the complete release folder`);
  return { dit: dit!, vae: vae!, t5: t5!, tokenizer: tokenizer! };
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON (${jsonErrorMessage(e)}); fix or remove it`);
  }
}

function readExtras(dir: string): CheckpointExtras {
  const extras = readJson<CheckpointExtras>(join(dir, 'diffsparse.json')) ?? {};
  const vae = readJson<{ mean?: number[]; std?: number[] }>(join(dir, 'vae_config.json'));
  if (vae?.mean && vae.std) extras.vae = { latentMean: vae.mean, latentStd: vae.std, ...extras.vae };
  const t5 = readJson<{ num_heads?: number; text_len?: number; negative_prompt?: string }>(join(dir, 't5_config.json'));
  if (t5) {
    extras.text = { numHeads: t5.num_heads, textLen: t5.text_len, ...extras.text };
    if (t5.negative_prompt !== undefined) extras.defaults = { negativePrompt: t5.negative_prompt, ...extras.defaults };
  }
  return extras;
}

/**
 * Every config value the conversion will use, checked against its bounds before any work
 * (issue 18): the DiT's config.json, t5_config.json, vae_config.json and diffsparse.json.
 * The VAE's and the text encoder's widths come from their tensor shapes and are checked
 * when those are read.
 */
function checkBeforeConverting(dir: string, files: ReleaseFiles, extras: CheckpointExtras): void {
  const dit = readCheckpointConfig(files.dit);
  const text = rangeProblems([
    ...(extras.text?.numHeads === undefined ? [] : [['num_heads', extras.text.numHeads, T5_LIMITS.num_heads] as const]),
    ['text_len', extras.text?.textLen ?? dit.textLen, T5_LIMITS.text_len],
  ] as [string, unknown, (typeof T5_LIMITS)['text_len']][]);
  if (text.length) throw new CheckpointError(`${join(dir, 't5_config.json')}: ${text.join('; ')}; fix it`);
  if (extras.vae) {
    const vae = vaeConfigProblems({ ...WAN21_VAE_DEFAULTS, ...extras.vae, zDim: Array.isArray(extras.vae.latentMean) ? extras.vae.latentMean.length : WAN21_VAE_DEFAULTS.zDim });
    if (vae.length) throw new CheckpointError(`${join(dir, 'vae_config.json')}: ${vae.join('; ')}; fix it`);
  }
  if (extras.defaults !== undefined) {
    const defaults = typeof extras.defaults === 'object' && extras.defaults !== null ? requestFieldProblems(extras.defaults) : ['"defaults" must be an object'];
    if (defaults.length) throw new CheckpointError(`${join(dir, 'diffsparse.json')}: defaults: ${defaults.join('; ')}; fix it`);
  }
  if (extras.trained !== undefined) {
    const trained = trainedRangeProblems(extras.trained);
    if (trained.length) throw new CheckpointError(`${join(dir, 'diffsparse.json')}: trained: ${trained.join('; ')}; fix it`);
  }
}

/**
 * What the model was trained on: the checkpoint's own `trained` block, else the release's
 * sizes when the DiT has a release width (1536: 1.3B, 5120: 14B), else unknown.
 */
function trainedRangeOf(extras: CheckpointExtras, ditDim: number): TrainedRange | undefined {
  if (extras.trained) return extras.trained;
  return ditDim === 1536 || ditDim === 5120 ? wan21TrainedRange(ditDim) : undefined;
}

/** Converts a whole release folder into `outDir` and returns the pipeline definition written there. */
export async function convertModel(checkpointDir: string, outDir: string, options: ModelConvertOptions = {}): Promise<PipelineDefinition> {
  const files = findReleaseFiles(checkpointDir);
  const extras = readExtras(checkpointDir);
  checkBeforeConverting(checkpointDir, files, extras);
  const dtype = options.dtype ?? 'float32';
  const say = options.onProgress ?? (() => undefined);
  mkdirSync(outDir, { recursive: true });
  const dirs = { dit: join(outDir, 'dit'), vae: join(outDir, 'vae'), text: join(outDir, 'text') };

  say('dit', `converting ${relative(checkpointDir, files.dit) || '.'}`);
  const dit = await convertCheckpoint(files.dit, dirs.dit, { dtype, ...(options.quantize && { quantize: options.quantize }), onStage: (stage, i, n) => say('dit', `stage ${i + 1}/${n} ${stage}`) });
  say('vae', `converting ${relative(checkpointDir, files.vae)}`);
  await convertVaeCheckpoint(files.vae, dirs.vae, { config: extras.vae });
  say('text', `converting ${relative(checkpointDir, files.t5)}`);
  await convertT5EncoderFile(files.t5, dirs.text, {
    tokenizerPath: files.tokenizer,
    storeAs: dtype === 'bfloat16' ? 'float32' : dtype,
    numHeads: extras.text?.numHeads ?? (dit.config.textDim === 4096 ? 64 : undefined),
    textLen: extras.text?.textLen ?? dit.config.textLen,
    ...(options.textLayered !== undefined && { layered: options.textLayered }),
  });

  const definition: PipelineDefinition = {
    format: PIPELINE_FORMAT,
    version: PIPELINE_VERSION,
    name: extras.name ?? 'wan21-t2v',
    description: extras.description,
    models: { dit: 'dit', vae: 'vae', text: 'text' },
    defaults: { ...WAN21_T2V_DEFAULTS, ...extras.defaults },
  };
  const trained = trainedRangeOf(extras, dit.config.dim);
  if (trained) definition.trained = trained;
  const tmp = join(outDir, 'pipeline.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(definition, null, 2)}\n`);
  renameSync(tmp, join(outDir, 'pipeline.json'));
  // The latent-to-RGB preview projection (src/video/preview.ts), when the checkpoint ships one.
  if (existsSync(join(checkpointDir, 'latent_rgb.json'))) copyFileSync(join(checkpointDir, 'latent_rgb.json'), join(dirs.vae, 'latent_rgb.json'));
  if (existsSync(join(checkpointDir, 'model_card.md'))) copyFileSync(join(checkpointDir, 'model_card.md'), join(outDir, 'model_card.md'));
  return definition;
}
