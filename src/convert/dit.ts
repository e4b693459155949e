/**
 * Wan2.1 DiT checkpoint -> converted model folder: one ONNX model per stage with its
 * weights in an external file, then `manifest.json`. Stages are built one at a time from
 * only the tensors they read, so memory stays at one stage's weights whatever the model
 * size. Accepts the original release layout and the diffusers layout.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { openWeights, type WeightSource } from '../weights/index.js';
import { detectLayout, diffusersToOriginal } from '../weights/keymaps.js';
import { saveModelWithExternalData } from '../onnx/external.js';
import { headDim, headFeatures, parseWanDiTConfig, patchFeatures, type WanDiTConfig } from '../models/wan/dit/config.js';
import { DiTConfigError } from '../models/wan/dit/errors.js';
import { buildStage } from '../models/wan/dit/graphs/build.js';
import { allStages, stageFile } from '../models/wan/dit/graphs/stages.js';
import { ditKeyShapes, stageKeys } from '../models/wan/dit/keys.js';
import { DIT_FORMAT, DIT_FORMAT_VERSION, DIT_MANIFEST, type DiTManifest, type StageFileEntry } from '../models/wan/dit/manifest.js';
import { ropeSplit } from '../models/wan/dit/rope.js';
import { CheckpointError, CheckpointKeyError } from './errors.js';
import { sha256File } from './hash.js';
import { jsonErrorMessage } from '../io/input-file.js';

export const DIT_CONVERTER = `diffsparse-dit-converter/${DIT_FORMAT_VERSION}`;

export interface ConvertOptions {
  /** Storage dtype of the large matrices (compute is float32 either way). Default float32. */
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** Weight-only int8/int4 Linear layers (MatMulNBits); default none. */
  quantize?: 'int8' | 'int4';
  /** Called after each stage is written. */
  onStage?: (stage: string, index: number, total: number) => void;
}

/** Reads and checks a DiT checkpoint's config.json (bounds included) without touching its weights. */
export function readCheckpointConfig(checkpointDir: string): WanDiTConfig {
  const path = join(checkpointDir, 'config.json');
  if (!existsSync(path)) throw new DiTConfigError(`${checkpointDir} has no config.json; point at the DiT checkpoint folder (it holds config.json and diffusion_pytorch_model*.safetensors)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DiTConfigError(`${path} is not valid JSON: ${jsonErrorMessage(e)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DiTConfigError(`${path} must hold a JSON object`);
  try {
    return parseWanDiTConfig(raw as Record<string, unknown>);
  } catch (e) {
    if (e instanceof DiTConfigError) throw new DiTConfigError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Original key -> key in the source file, after checking names and shapes against the config. */
function mapCheckpointKeys(src: WeightSource, config: WanDiTConfig, label: string): { keyMap: Map<string, string>; layout: 'original' | 'diffusers'; parameters: number } {
  const keys = src.keys();
  const layout = detectLayout(keys);
  const naming = layout?.model === 'dit' ? layout.naming : 'original';
  const keyMap = new Map<string, string>();
  for (const k of keys) keyMap.set(naming === 'diffusers' ? diffusersToOriginal('dit', k) : k, k);
  const expected = ditKeyShapes(config);
  const missing = [...expected.keys()].filter((k) => !keyMap.has(k));
  const unexpected = [...keyMap.keys()].filter((k) => !expected.has(k)).map((k) => keyMap.get(k)!);
  if (missing.length || unexpected.length) throw new CheckpointKeyError(label, missing, unexpected);
  let parameters = 0;
  for (const [key, shape] of expected) {
    const info = src.info(keyMap.get(key)!);
    const same = info.shape.length === shape.length && info.shape.every((d, i) => d === shape[i]);
    if (!same) throw new CheckpointError(`${label}: tensor ${info.name} has shape [${info.shape}] but config.json implies [${shape}]; check that config.json belongs to these weights`);
    if (info.dtype === 'I64') throw new CheckpointError(`${label}: tensor ${info.name} is an integer tensor; a DiT checkpoint holds only floating-point weights`);
    parameters += shape.reduce((a, b) => a * b, 1);
  }
  return { keyMap, layout: naming, parameters };
}

async function writeStage(src: WeightSource, keyMap: Map<string, string>, config: WanDiTConfig, stage: string, modelDir: string, dtype: 'float32' | 'float16' | 'bfloat16', quantize?: 'int8' | 'int4'): Promise<StageFileEntry> {
  const tensors = new Map<string, Float32Array>();
  for (const key of stageKeys(stage)) tensors.set(key, await src.readF32(keyMap.get(key)!));
  const graph = buildStage(config, stage, {
    get: (key) => {
      const t = tensors.get(key);
      if (!t) throw new Error(`stage ${stage} read ${key}, which is not in its key list`);
      return t;
    },
  }, { storeAs: dtype, ...(quantize && { quantize }) });
  const file = stageFile(stage);
  const modelPath = join(modelDir, file);
  const { dataFile, bytes } = saveModelWithExternalData(graph.build(), modelPath);
  const entry: StageFileEntry = { file, bytes: statSync(modelPath).size, sha256: await sha256File(modelPath) };
  const dataPath = join(modelDir, dataFile);
  if (bytes > 0) entry.weights = { file: dataFile, bytes: statSync(dataPath).size, sha256: await sha256File(dataPath) };
  else rmSync(dataPath, { force: true });
  return entry;
}

/**
 * Converts the Wan2.1 DiT checkpoint in `checkpointDir` into `modelDir` (created if needed).
 * Any manifest already there is removed first, so an interrupted run never looks complete.
 */
export async function convertCheckpoint(checkpointDir: string, modelDir: string, options: ConvertOptions = {}): Promise<DiTManifest> {
  const dtype = options.dtype ?? 'float32';
  const config = readCheckpointConfig(checkpointDir);
  const src = await openWeights(checkpointDir);
  try {
    const { keyMap, layout, parameters } = mapCheckpointKeys(src, config, checkpointDir);
    mkdirSync(modelDir, { recursive: true });
    const manifestPath = join(modelDir, DIT_MANIFEST);
    rmSync(manifestPath, { force: true });
    const stages: Record<string, StageFileEntry> = {};
    const names = allStages(config.numLayers);
    for (const [i, stage] of names.entries()) {
      stages[stage] = await writeStage(src, keyMap, config, stage, modelDir, dtype, options.quantize);
      options.onStage?.(stage, i, names.length);
    }
    const manifest: DiTManifest = {
      format: DIT_FORMAT,
      formatVersion: DIT_FORMAT_VERSION,
      converter: DIT_CONVERTER,
      createdAt: new Date().toISOString(),
      config,
      storageDtype: dtype,
      ...(options.quantize && { quantized: options.quantize }),
      tokens: {
        patchSize: config.patchSize,
        patchFeatures: patchFeatures(config),
        headFeatures: headFeatures(config),
        headDim: headDim(config),
        ropeSplit: ropeSplit(headDim(config)),
        textLen: config.textLen,
      },
      source: { path: basename(resolve(checkpointDir)), layout, parameters },
      stages,
    };
    writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(`${manifestPath}.tmp`, manifestPath);
    return manifest;
  } finally {
    await src.close();
  }
}
