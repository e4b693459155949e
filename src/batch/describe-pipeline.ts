/**
 * What a converted pipeline is, for `diffsparse info` (issue 19): its parts (DiT, VAE decoder,
 * text encoder, tokenizer) with their sizes on disk, the defaults, what the model was trained
 * on, the schedules shipped with it and their provenance, and the memory its weights take.
 * Plain data; the CLI formats it with `pipelineInfoLines`. Memory and time estimates for a
 * particular request live elsewhere (issue 17); this only adds up what is on disk.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { resolvePipeline, type PipelineDefaults, type ResolvedPipeline } from '../pipeline/definition.js';
import type { TrainedRange } from '../pipeline/trained.js';
import { parseSchedule } from '../sparsity/schedule.js';
import { attentionNote, type AttentionVariant } from '../sparsity/flops.js';

export interface PipelinePart {
  part: 'dit' | 'vae' | 'text-encoder' | 'tokenizer';
  /** Folder or file, absolute. */
  path: string;
  format: string;
  /** Bytes on disk (graphs and weights). */
  bytes: number;
  /** One line on what it is (layers, widths, parameters). */
  summary: string;
}

export interface ShippedSchedule {
  name: string;
  file: string;
  steps?: number;
  solver?: string;
  flopsRatio?: number;
  provenance?: string;
  budget?: number;
  created?: string;
  psnr?: number;
  /** 'linear' when the schedule runs with reused outputs forecast. */
  forecast?: 'linear';
  /** The self-attention variant of its partially recomputed blocks. */
  attention?: AttentionVariant;
  /** Why the file could not be read, if it could not. */
  problem?: string;
}

export interface PipelineDescription {
  name: string;
  description?: string;
  definition: string;
  parts: PipelinePart[];
  defaults: PipelineDefaults;
  trained?: TrainedRange;
  schedules: ShippedSchedule[];
  /** Bytes of weights loaded at once by a generation (DiT + VAE decoder + text encoder); activations come on top. */
  weightsBytes: number;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

async function json(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

async function parts(p: ResolvedPipeline): Promise<PipelinePart[]> {
  const out: PipelinePart[] = [];
  const dit = await json(path.join(p.models.dit, 'manifest.json'));
  const dc = obj(dit?.config);
  out.push({
    part: 'dit', path: p.models.dit, format: String(dit?.format ?? 'unknown'), bytes: await folderBytes(p.models.dit),
    summary: `${dc.numLayers} layers, dim ${dc.dim}, ${dc.numHeads} heads, ${obj(dit?.source).parameters ?? '?'} parameters, stored ${dit?.storageDtype ?? '?'}`,
  });
  const vae = await json(path.join(p.models.vae, 'vae-decoder.json'));
  const vc = obj(vae?.config);
  out.push({
    part: 'vae', path: p.models.vae, format: String(vae?.format ?? 'unknown'), bytes: await folderBytes(p.models.vae),
    summary: `decoder, ${vc.zDim} latent channels, ${vc.spatialScale}× spatial and ${vc.temporalScale}× temporal upsampling`,
  });
  const text = await json(path.join(p.models.text, 'text_encoder.json'));
  const tc = obj(text?.config);
  const tokenizerFile = path.join(p.models.text, 'tokenizer.json');
  const tokenizerBytes = (await stat(tokenizerFile).catch(() => undefined))?.size ?? 0;
  out.push({
    part: 'text-encoder', path: p.models.text, format: String(text?.format ?? 'unknown'), bytes: (await folderBytes(p.models.text)) - tokenizerBytes,
    summary: `umT5 encoder, ${tc.numLayers} layers, dim ${tc.dim}, ${tc.textLen} tokens, stored ${text?.storedAs ?? '?'}`,
  });
  if (tokenizerBytes > 0) {
    const tok = await json(tokenizerFile);
    const vocab = obj(obj(tok?.model).vocab);
    const size = Array.isArray(obj(tok?.model).vocab) ? (obj(tok?.model).vocab as unknown[]).length : Object.keys(vocab).length;
    out.push({ part: 'tokenizer', path: tokenizerFile, format: 'tokenizer.json', bytes: tokenizerBytes, summary: `${String(obj(tok?.model).type ?? 'tokenizer')}, ${size} entries` });
  }
  return out;
}

async function schedules(p: ResolvedPipeline): Promise<ShippedSchedule[]> {
  const out: ShippedSchedule[] = [];
  for (const [name, file] of Object.entries(p.schedules ?? {})) {
    try {
      const s = parseSchedule(JSON.parse(await readFile(file, 'utf8')), file);
      out.push({
        name, file, steps: s.sampling.steps, solver: s.sampling.solver, flopsRatio: s.flopsRatio,
        provenance: s.provenance.kind, created: s.provenance.created,
        ...(s.provenance.budget !== undefined && { budget: s.provenance.budget }),
        ...(typeof s.fidelity?.psnr === 'number' && { psnr: s.fidelity.psnr }),
        ...(s.forecast && { forecast: s.forecast }),
        attention: s.attention,
      });
    } catch (e) {
      out.push({ name, file, problem: (e as Error).message });
    }
  }
  return out;
}

/** Describes a pipeline: a built-in name, a converted model folder or a definition file. */
export async function describePipeline(nameOrPath: string): Promise<PipelineDescription> {
  const p = resolvePipeline(nameOrPath);
  const ps = await parts(p);
  return {
    name: p.name, ...(p.description && { description: p.description }), definition: p.file,
    parts: ps, defaults: p.defaults, ...(p.trained && { trained: p.trained }), schedules: await schedules(p),
    weightsBytes: ps.filter((x) => x.part !== 'tokenizer').reduce((n, x) => n + x.bytes, 0),
  };
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return `${n} B`;
}

/** The description as the text `diffsparse info` prints. */
export function pipelineInfoLines(d: PipelineDescription): string[] {
  const L: string[] = [`  pipeline ${d.name}${d.description ? `: ${d.description}` : ''}`, '  parts:'];
  for (const p of d.parts) L.push(`    ${p.part.padEnd(12)} ${formatBytes(p.bytes).padStart(9)}  ${p.summary} (${p.format})`);
  const x = d.defaults;
  L.push(`  defaults: ${x.width}x${x.height}, ${x.frames} frames at ${x.fps} fps, ${x.steps} steps ${x.solver}, shift ${x.shift}, guidance ${x.guidance}`);
  if (d.trained) L.push(`  trained on: ${d.trained.sizes.join(', ')}; ${d.trained.frames.join(', ')} frames${d.trained.source ? ` (${d.trained.source})` : ''}`);
  else L.push('  trained on: not recorded (generate cannot warn about sizes outside it)');
  if (d.schedules.length === 0) L.push('  schedules: none shipped');
  else {
    L.push('  schedules:');
    for (const s of d.schedules) {
      if (s.problem) L.push(`    ${s.name}: unreadable (${s.problem})`);
      else L.push(`    ${s.name}: ${s.steps} steps ${s.solver}, FLOPs ${((s.flopsRatio ?? 1) * 100).toFixed(1)}% of dense, ${s.provenance}${s.budget !== undefined ? ` at budget ${s.budget}` : ''}${s.forecast ? ', reused outputs forecast' : ''}${attentionNote(s.attention) && `, ${attentionNote(s.attention)}`}${s.psnr !== undefined ? `, PSNR ${s.psnr.toFixed(1)} dB vs dense` : ''}, ${s.created?.slice(0, 10)}`);
    }
  }
  L.push(`  memory: ${formatBytes(d.weightsBytes)} of weights loaded by a generation (DiT + VAE decoder + text encoder), activations on top`);
  return L;
}
