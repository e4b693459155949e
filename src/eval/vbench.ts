/**
 * VBench (Vchitect/VBench) compatibility: the prompt suite, the file names the official
 * evaluator looks for, how many samples each prompt needs, the per-video seed rule, and the
 * score arithmetic of `scripts/cal_final_score.py` / `scripts/constant.py`.
 *
 * Naming: VBench's standard mode looks for exactly `f'{prompt}{special_str}-{i}{postfix}'` in
 * one folder, where `postfix` is the extension of the *first* file `os.listdir` returns. So the
 * prompt is used verbatim (no slugging, no truncation: VBench 1 has none), and the folder must
 * hold videos of one extension and nothing else (no sidecars, no hidden work folders).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { jsonErrorMessage } from '../io/input-file.js';

export const DIMENSIONS = [
  'subject_consistency', 'background_consistency', 'temporal_flickering', 'motion_smoothness', 'dynamic_degree',
  'aesthetic_quality', 'imaging_quality', 'object_class', 'multiple_objects', 'human_action', 'color',
  'spatial_relationship', 'scene', 'appearance_style', 'temporal_style', 'overall_consistency',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** `scripts/constant.py`: the quality and semantic groups. */
export const QUALITY_DIMENSIONS: readonly Dimension[] = [
  'subject_consistency', 'background_consistency', 'temporal_flickering', 'motion_smoothness', 'aesthetic_quality',
  'imaging_quality', 'dynamic_degree',
];
export const SEMANTIC_DIMENSIONS: readonly Dimension[] = [
  'object_class', 'multiple_objects', 'human_action', 'color', 'spatial_relationship', 'scene', 'appearance_style',
  'temporal_style', 'overall_consistency',
];

/** `NORMALIZE_DIC` (Min, Max) and `DIM_WEIGHT` from `scripts/constant.py`. */
export const NORMALIZATION: Readonly<Record<Dimension, { min: number; max: number; weight: number }>> = {
  subject_consistency: { min: 0.1462, max: 1.0, weight: 1 },
  background_consistency: { min: 0.2615, max: 1.0, weight: 1 },
  temporal_flickering: { min: 0.6293, max: 1.0, weight: 1 },
  motion_smoothness: { min: 0.706, max: 0.9975, weight: 1 },
  dynamic_degree: { min: 0.0, max: 1.0, weight: 0.5 },
  aesthetic_quality: { min: 0.0, max: 1.0, weight: 1 },
  imaging_quality: { min: 0.0, max: 1.0, weight: 1 },
  object_class: { min: 0.0, max: 1.0, weight: 1 },
  multiple_objects: { min: 0.0, max: 1.0, weight: 1 },
  human_action: { min: 0.0, max: 1.0, weight: 1 },
  color: { min: 0.0, max: 1.0, weight: 1 },
  spatial_relationship: { min: 0.0, max: 1.0, weight: 1 },
  scene: { min: 0.0, max: 0.8222, weight: 1 },
  appearance_style: { min: 0.0009, max: 0.2855, weight: 1 },
  temporal_style: { min: 0.0, max: 0.364, weight: 1 },
  overall_consistency: { min: 0.0, max: 0.364, weight: 1 },
};
/** `QUALITY_WEIGHT` and `SEMANTIC_WEIGHT`: Total = (4·Quality + 1·Semantic) / 5. */
export const QUALITY_WEIGHT = 4;
export const SEMANTIC_WEIGHT = 1;

/** VBench's README: 5 videos per prompt, 25 for temporal flickering (the static filter keeps only some). */
export const SAMPLES_PER_PROMPT = 5;
export const FLICKER_SAMPLES_PER_PROMPT = 25;
/** Seeds of one prompt occupy `[base + ordinal·SEED_STRIDE, … + samples)`, so samples ≤ this. */
export const SEED_STRIDE = 100;
/** Longest file name ext4/APFS/NTFS accept, in bytes. */
export const MAX_FILE_NAME_BYTES = 255;

export class VBenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VBenchError';
  }
}

export interface SuiteEntry {
  prompt_en: string;
  dimension: Dimension[];
  auxiliary_info?: Record<string, unknown>;
}

/** A prompt of the suite with every dimension it serves (two prompts appear twice in the file). */
export interface SuitePrompt {
  prompt: string;
  dimensions: Dimension[];
  /** Position of the prompt's first entry in the suite file: the stable base of its seeds. */
  ordinal: number;
  auxiliaryInfo?: Record<string, unknown>;
}

export function isDimension(name: string): name is Dimension {
  return (DIMENSIONS as readonly string[]).includes(name);
}

/** The vendored copy of `vbench/VBench_full_info.json` (946 entries, Apache-2.0). */
export function defaultSuitePath(): string {
  const candidates = ['./data/vbench_full_info.json', '../../src/eval/data/vbench_full_info.json'];
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new VBenchError('the VBench prompt suite (src/eval/data/vbench_full_info.json) is missing from this installation; pass the path of VBench_full_info.json explicitly');
}

/** Validates a parsed `VBench_full_info.json`. */
export function parseSuite(raw: unknown, file = 'VBench_full_info.json'): SuiteEntry[] {
  if (!Array.isArray(raw)) throw new VBenchError(`${file}: expected a JSON array of {"prompt_en", "dimension"} entries`);
  return raw.map((e, i) => {
    const entry = e as Partial<SuiteEntry> | null;
    if (!entry || typeof entry.prompt_en !== 'string' || entry.prompt_en === '' || !Array.isArray(entry.dimension)) {
      throw new VBenchError(`${file}: entry ${i} needs a non-empty "prompt_en" string and a "dimension" list`);
    }
    const unknown = entry.dimension.filter((d) => typeof d !== 'string' || !isDimension(d));
    if (unknown.length > 0) throw new VBenchError(`${file}: entry ${i} names unknown dimension(s) ${unknown.join(', ')}; known: ${DIMENSIONS.join(', ')}`);
    return entry as SuiteEntry;
  });
}

export async function loadSuite(file = defaultSuitePath()): Promise<SuiteEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new VBenchError(`cannot read the VBench prompt suite ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new VBenchError(`${file} is not valid JSON: ${jsonErrorMessage(e)}`);
  }
  return parseSuite(raw, file);
}

/** Suite entries merged by prompt (VBench finds both entries' videos under the same names). */
export function suitePrompts(suite: readonly SuiteEntry[], dimensions?: readonly Dimension[]): SuitePrompt[] {
  const byPrompt = new Map<string, SuitePrompt>();
  suite.forEach((e, i) => {
    const have = byPrompt.get(e.prompt_en);
    if (have) {
      for (const d of e.dimension) if (!have.dimensions.includes(d)) have.dimensions.push(d);
      if (e.auxiliary_info) have.auxiliaryInfo = { ...have.auxiliaryInfo, ...e.auxiliary_info };
    } else {
      byPrompt.set(e.prompt_en, { prompt: e.prompt_en, dimensions: [...e.dimension], ordinal: i, ...(e.auxiliary_info ? { auxiliaryInfo: e.auxiliary_info } : {}) });
    }
  });
  const all = [...byPrompt.values()];
  if (!dimensions || dimensions.length === 0) return all;
  return all.filter((p) => p.dimensions.some((d) => dimensions.includes(d)));
}

/**
 * The exact name VBench looks for: `{prompt}{specialStr}-{index}.{extension}`. Refused (not
 * altered) when the prompt cannot be a file name: a '/' or NUL in it, or more than 255 bytes,
 * because a changed name would no longer be found; such prompts need VBench's custom_input
 * mode with `--prompt_file` (VBench issue #79).
 */
export function vbenchFileName(prompt: string, index: number, extension = 'mp4', specialStr = ''): string {
  if (!Number.isInteger(index) || index < 0) throw new VBenchError(`sample index must be a non-negative integer, got ${index}`);
  if (!/^[a-z0-9]+$/.test(extension)) throw new VBenchError(`bad extension "${extension}"; VBench reads .mp4 or .gif`);
  if (/[/\u0000]/.test(prompt)) {
    throw new VBenchError(`the prompt "${prompt}" contains '/' or NUL and cannot be a VBench file name; evaluate it with VBench's custom_input mode and --prompt_file`);
  }
  const name = `${prompt}${specialStr}-${index}.${extension}`;
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) {
    throw new VBenchError(`the VBench file name for "${prompt.slice(0, 60)}…" would be ${Buffer.byteLength(name, 'utf8')} bytes (limit ${MAX_FILE_NAME_BYTES}); shorten the prompt or use VBench's custom_input mode with --prompt_file`);
  }
  return name;
}

/** VBench's `get_prompt_from_filename`: the stem without a trailing `-<digits>`. */
export function promptFromFileName(name: string): string {
  const base = name.replace(/^.*[\\/]/, '');
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  return stem.replace(/-\d+$/, '');
}

/**
 * Seed rules, both recorded per video:
 * - 'distinct' (default): `baseSeed + ordinal·SEED_STRIDE + index`. Every video of a run gets
 *   its own seed (VBench asks for a different seed per video), and a prompt keeps its seeds
 *   whichever subset of the suite is rendered, because `ordinal` is its position in the suite
 *   file (or in the custom prompt list).
 * - 'index': `baseSeed + index`, TeaCache's eval rule (seed = l for `{prompt}-{l}.mp4`): seeds
 *   are distinct within a prompt and repeat across prompts.
 */
export type SeedRule = 'distinct' | 'index';

export function videoSeed(rule: SeedRule, baseSeed: number, ordinal: number, index: number): number {
  return rule === 'index' ? baseSeed + index : baseSeed + ordinal * SEED_STRIDE + index;
}

export interface EvalJob {
  prompt: string;
  /** 0-based sample index: the `-{index}` of the file name. */
  index: number;
  seed: number;
  /** VBench file name (no folder). */
  fileName: string;
  /** Suite dimensions the prompt serves (empty for custom prompts). */
  dimensions: Dimension[];
}

export interface PlanOptions {
  /** Prompts from the suite that serve any of these dimensions (all of the suite when empty). */
  dimensions?: readonly Dimension[];
  /** A custom prompt list instead of the suite. */
  prompts?: readonly string[];
  /** Samples per prompt (default 5). */
  samples?: number;
  /** Samples per temporal-flickering prompt (default 25; custom prompts use `samples`). */
  flickerSamples?: number;
  seedRule?: SeedRule;
  baseSeed?: number;
  extension?: string;
  /** Only the first N prompts (quick runs). */
  limit?: number;
}

function checkSamples(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > SEED_STRIDE) throw new VBenchError(`${what} must be an integer from 1 to ${SEED_STRIDE}, got ${n}`);
  return n;
}

/** Every video of an evaluation run, in suite order, with its VBench name and seed. */
export function planJobs(suite: readonly SuiteEntry[], options: PlanOptions = {}): EvalJob[] {
  const samples = checkSamples(options.samples ?? SAMPLES_PER_PROMPT, 'samples');
  const flickerSamples = checkSamples(options.flickerSamples ?? FLICKER_SAMPLES_PER_PROMPT, 'flicker samples');
  const rule = options.seedRule ?? 'distinct';
  const baseSeed = options.baseSeed ?? 0;
  if (!Number.isSafeInteger(baseSeed) || baseSeed < 0) throw new VBenchError(`base seed must be a non-negative integer, got ${baseSeed}`);
  const extension = options.extension ?? 'mp4';
  let prompts: SuitePrompt[];
  if (options.prompts) {
    const seen = new Set<string>();
    prompts = options.prompts.map((p, ordinal) => {
      if (p.trim() === '') throw new VBenchError(`custom prompt ${ordinal + 1} is empty`);
      if (seen.has(p)) throw new VBenchError(`the prompt "${p}" is listed twice; VBench names videos by prompt, so each prompt may appear once (raise --samples for more videos)`);
      seen.add(p);
      return { prompt: p, dimensions: [], ordinal };
    });
  } else {
    prompts = suitePrompts(suite, options.dimensions);
    if (prompts.length === 0) throw new VBenchError(`no suite prompt serves ${options.dimensions?.join(', ')}`);
  }
  if (options.limit !== undefined) prompts = prompts.slice(0, Math.max(0, options.limit));
  const jobs: EvalJob[] = [];
  for (const p of prompts) {
    const n = p.dimensions.includes('temporal_flickering') ? flickerSamples : samples;
    for (let index = 0; index < n; index++) {
      jobs.push({
        prompt: p.prompt, index, seed: videoSeed(rule, baseSeed, p.ordinal, index),
        fileName: vbenchFileName(p.prompt, index, extension), dimensions: p.dimensions,
      });
    }
  }
  return jobs;
}

// ---------------------------------------------------------------------------------------------
// Scores

/**
 * Where a dimension score comes from. 'vbench': the official evaluator's results file.
 * 'diffsparse': computed here; `standard` says whether it is what VBench would report for the
 * same videos (e.g. temporal flickering without VBench's RAFT static filter is not).
 */
export interface DimensionScore {
  value: number;
  source: 'vbench' | 'diffsparse';
  standard: boolean;
  /** Why a score is not standard, or how it was computed. */
  note?: string;
}

export type DimensionScores = Partial<Record<Dimension, DimensionScore>>;

export interface NormalizedDimension {
  raw: number;
  /** (raw − Min)/(Max − Min)·W, unclamped as in cal_final_score.py. */
  weighted: number;
  weight: number;
  source: DimensionScore['source'];
  standard: boolean;
}

export interface Totals {
  quality: number;
  semantic: number;
  total: number;
}

export interface ScoreSummary {
  dimensions: Partial<Record<Dimension, NormalizedDimension>>;
  /**
   * cal_final_score.py exactly: a missing dimension counts as 0 and the group sums are divided
   * by the full group weights (6.5 and 9). Comparable with the leaderboard only when complete.
   */
  official: Totals;
  /** The same weighted means over the dimensions present only (NaN for an empty group). */
  available: Totals;
  complete: boolean;
  missing: Dimension[];
  /** Dimensions whose scores are not what the official VBench would report. */
  nonstandard: Dimension[];
  /** True when official VBench numbers and numbers computed here are combined. */
  mixedSources: boolean;
  /** One line saying what the totals are made of. */
  label: string;
}

export function normalizeScore(dimension: Dimension, raw: number): number {
  const { min, max, weight } = NORMALIZATION[dimension];
  return ((raw - min) / (max - min)) * weight;
}

function groupTotal(group: readonly Dimension[], dims: ScoreSummary['dimensions'], onlyPresent: boolean): number {
  let sum = 0;
  let weights = 0;
  for (const d of group) {
    const n = dims[d];
    if (n) sum += n.weighted;
    if (n || !onlyPresent) weights += NORMALIZATION[d].weight;
  }
  return weights === 0 ? NaN : sum / weights;
}

function totalOf(quality: number, semantic: number): number {
  if (Number.isNaN(semantic)) return quality;
  if (Number.isNaN(quality)) return semantic;
  return (QUALITY_WEIGHT * quality + SEMANTIC_WEIGHT * semantic) / (QUALITY_WEIGHT + SEMANTIC_WEIGHT);
}

/** VBench's normalisation and weighted Quality / Semantic / Total over the scores given. */
export function summarizeScores(scores: DimensionScores): ScoreSummary {
  const dims: ScoreSummary['dimensions'] = {};
  for (const d of DIMENSIONS) {
    const s = scores[d];
    if (!s) continue;
    if (!Number.isFinite(s.value)) throw new VBenchError(`the ${d} score is ${s.value}; only finite scores can be summarised`);
    dims[d] = { raw: s.value, weighted: normalizeScore(d, s.value), weight: NORMALIZATION[d].weight, source: s.source, standard: s.standard };
  }
  const present = DIMENSIONS.filter((d) => dims[d]);
  const missing = DIMENSIONS.filter((d) => !dims[d]);
  const nonstandard = present.filter((d) => !dims[d]!.standard);
  const sources = new Set(present.map((d) => dims[d]!.source));
  const official: Totals = {
    quality: groupTotal(QUALITY_DIMENSIONS, dims, false),
    semantic: groupTotal(SEMANTIC_DIMENSIONS, dims, false),
    total: 0,
  };
  official.total = totalOf(official.quality, official.semantic);
  const aq = groupTotal(QUALITY_DIMENSIONS, dims, true);
  const as = groupTotal(SEMANTIC_DIMENSIONS, dims, true);
  const available: Totals = { quality: aq, semantic: as, total: totalOf(aq, as) };
  const parts: string[] = [];
  parts.push(missing.length === 0 ? 'all 16 dimensions' : `${present.length} of 16 dimensions (missing count as 0 in "official")`);
  if (sources.size > 1) parts.push('MIXED sources: official VBench results combined with scores computed by diffsparse');
  else if (sources.has('diffsparse')) parts.push('computed by diffsparse, not by the official VBench');
  else if (sources.has('vbench')) parts.push('official VBench results');
  if (nonstandard.length > 0) parts.push(`non-standard: ${nonstandard.join(', ')}`);
  return {
    dimensions: dims, official, available, complete: missing.length === 0, missing, nonstandard,
    mixedSources: sources.size > 1, label: parts.join('; '),
  };
}

/** One dimension's entry of an official `*_eval_results.json`: `[aggregate, per-video list]`. */
export type VBenchResultEntry = [number | boolean, Record<string, unknown>[]];
export type VBenchResultsFile = Record<string, VBenchResultEntry>;

/**
 * Dimension scores from official VBench results (`{name}_eval_results.json`). Keys may use '_'
 * or ' ' (cal_final_score.py replaces one with the other); the aggregate is element [0].
 */
export function scoresFromVBenchResults(raw: unknown, file = 'eval_results.json'): DimensionScores {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VBenchError(`${file}: expected the JSON object VBench writes to *_eval_results.json`);
  const out: DimensionScores = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = key.trim().replace(/ /g, '_');
    if (!isDimension(name)) continue; // VBench-2.0 / custom dimensions are not part of these totals
    const agg = Array.isArray(value) ? value[0] : value;
    const v = typeof agg === 'boolean' ? Number(agg) : agg;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new VBenchError(`${file}: "${key}" has no numeric aggregate (expected [score, [...]])`);
    out[name] = { value: v, source: 'vbench', standard: true };
  }
  return out;
}

export async function readVBenchResults(files: readonly string[]): Promise<DimensionScores> {
  const merged: DimensionScores = {};
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new VBenchError(`cannot read VBench results ${file}: ${(e as Error).message}`);
    }
    Object.assign(merged, scoresFromVBenchResults(raw, file));
  }
  return merged;
}

/**
 * Combines score sets. Official VBench numbers win over ones computed here for the same
 * dimension; whatever is combined stays labelled by its source.
 */
export function mergeScores(...sets: DimensionScores[]): DimensionScores {
  const out: DimensionScores = {};
  for (const set of sets) {
    for (const d of DIMENSIONS) {
      const s = set[d];
      if (!s) continue;
      const have = out[d];
      if (!have || (have.source !== 'vbench' && s.source === 'vbench')) out[d] = s;
    }
  }
  return out;
}
