/**
 * What a path holds, for `diffsparse info`: a converted model folder (its manifests), a sparsity
 * schedule, a batch manifest or a jobs file. Returns plain data; the CLI formats it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DIT_FORMAT, readDiTManifest } from '../models/wan/dit/manifest.js';
import { levelHistogram, parseSchedule, SCHEDULE_FORMAT } from '../sparsity/schedule.js';
import { UserError } from './errors.js';
import { describePipeline, type PipelineDescription } from './describe-pipeline.js';
import { builtInPipelines, PIPELINE_FORMAT } from '../pipeline/definition.js';
import { loadJobs } from './jobs.js';
import { readManifest } from './manifest.js';

export type PathInfo =
  | { kind: 'model-folder'; path: string; components: ComponentInfo[]; files: { name: string; bytes: number }[]; pipeline?: PipelineDescription }
  | { kind: 'schedule'; path: string; model: string; layers: number; steps: number; solver: string; levels: Record<string, number>; flopsRatio: number; provenance: string; budget?: number }
  | { kind: 'batch-manifest'; path: string; jobsFile: string; total: number; byStatus: Record<string, number> }
  | { kind: 'jobs-file'; path: string; jobs: number; firstPrompts: string[] };

export interface ComponentInfo {
  /** Sub-folder holding the component ('.' for the folder itself). */
  folder: string;
  format: string;
  details: Record<string, string | number>;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function component(dir: string, folder: string): Promise<ComponentInfo | undefined> {
  const manifest = (await readJson(path.join(dir, 'manifest.json'))) as { format?: unknown } | undefined;
  if (!manifest || typeof manifest.format !== 'string') return undefined;
  if (manifest.format === DIT_FORMAT) {
    const m = readDiTManifest(dir);
    const bytes = Object.values(m.stages).reduce((sum, s) => sum + s.bytes + (s.weights?.bytes ?? 0), 0);
    return {
      folder, format: m.format,
      details: {
        layers: m.config.numLayers, dim: m.config.dim, heads: m.config.numHeads, parameters: m.source.parameters,
        storageDtype: m.storageDtype, stages: Object.keys(m.stages).length, bytes, converter: m.converter, createdAt: m.createdAt,
      },
    };
  }
  const details: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(manifest)) if (typeof v === 'string' || typeof v === 'number') details[k] = v;
  return { folder, format: manifest.format, details };
}

async function describeFolder(dir: string): Promise<PathInfo> {
  const entries = await readdir(dir, { withFileTypes: true });
  const components: ComponentInfo[] = [];
  const own = await component(dir, '.');
  if (own) components.push(own);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const c = await component(path.join(dir, e.name), e.name);
    if (c) components.push(c);
  }
  const files = await Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => ({ name: e.name, bytes: (await stat(path.join(dir, e.name))).size })),
  );
  if (components.length === 0) {
    const batch = await readManifest(path.join(dir, 'manifest.json')).catch(() => undefined);
    if (batch) return describeFile(path.join(dir, 'manifest.json'));
    throw new UserError(`${dir} holds no converted model (no manifest.json with a "format" in it or its sub-folders); convert a checkpoint into it with "diffsparse convert"`);
  }
  const pipeline = files.some((f) => f.name === 'pipeline.json') ? await describePipeline(dir).catch(() => undefined) : undefined;
  return { kind: 'model-folder', path: dir, components, files, ...(pipeline && { pipeline }) };
}

/** A pipeline given by a built-in name or a definition file: its parts come from the definition. */
async function describeDefinition(target: string): Promise<PathInfo> {
  const pipeline = await describePipeline(target);
  const dit = await component(pipeline.parts[0].path, 'dit');
  return { kind: 'model-folder', path: pipeline.definition, components: dit ? [dit] : [], files: [], pipeline };
}

async function describeFile(file: string): Promise<PathInfo> {
  if (file.endsWith('.jsonl')) {
    const jobs = await loadJobs(file);
    return { kind: 'jobs-file', path: file, jobs: jobs.jobs.length, firstPrompts: jobs.jobs.slice(0, 5).map((j) => j.request.prompt) };
  }
  const raw = (await readJson(file)) as Record<string, unknown> | undefined;
  if (raw === undefined) throw new UserError(`${file} is not JSON; info reads model folders, schedules (.json), batch manifests and jobs files (.jsonl)`);
  if (raw.format === PIPELINE_FORMAT) return describeDefinition(file);
  if (raw.format === SCHEDULE_FORMAT) {
    const s = parseSchedule(raw, file);
    const levels: Record<string, number> = {};
    for (const [level, count] of levelHistogram(s)) levels[String(level)] = count;
    return {
      kind: 'schedule', path: file, model: s.model.id, layers: s.model.layers, steps: s.sampling.steps, solver: s.sampling.solver,
      levels, flopsRatio: s.flopsRatio, provenance: `${s.provenance.kind} (${s.provenance.method})`,
      ...(s.provenance.budget !== undefined ? { budget: s.provenance.budget } : {}),
    };
  }
  const batch = await readManifest(file).catch(() => undefined);
  if (batch) {
    const byStatus: Record<string, number> = {};
    for (const j of batch.jobs) byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
    return { kind: 'batch-manifest', path: file, jobsFile: batch.jobsFile, total: batch.jobs.length, byStatus };
  }
  throw new UserError(`${file} is neither a sparsity schedule nor a batch manifest`);
}

export async function describePath(target: string): Promise<PathInfo> {
  let info;
  try {
    info = await stat(target);
  } catch {
    if (builtInPipelines().includes(target)) return describeDefinition(target);
    throw new UserError(`${target} does not exist; pass a model folder, a schedule, a batch manifest or a jobs file`);
  }
  return info.isDirectory() ? describeFolder(target) : describeFile(target);
}
