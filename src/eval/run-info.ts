/**
 * What a comparison or evaluation ran with, for the reports' settings block (issue 19, item 6):
 * the settings the pipeline actually used (read back from a rendered video's sidecar, so the
 * pipeline's defaults are filled in), the samples and seeds, the machine and the diffsparse version.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../pipeline/definition.js';

export interface RunInfo {
  pipeline?: string;
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
  steps?: number;
  shift?: number;
  guidance?: number;
  solver?: string;
  negativePrompt?: string;
  /** Videos per prompt, and the distinct prompts. */
  samples?: number;
  prompts?: number;
  seeds: number[];
  machine: string;
  diffsparse: string;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? 'unknown CPU'} (${cpus.length} logical CPUs), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.arch()}, Node ${process.version}`;
}

export function diffsparseVersion(): string {
  try {
    return String((JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

const SETTING_KEYS = ['pipeline', 'width', 'height', 'frames', 'fps', 'steps', 'shift', 'guidance', 'solver', 'negativePrompt'] as const;

/** The settings of the first sidecar found in `dir` (a `sidecars/` folder), or undefined. */
export async function firstSidecarSettings(dir: string): Promise<Record<string, unknown> | undefined> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  for (const n of names) {
    try {
      const doc = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as { settings?: Record<string, unknown> };
      if (doc.settings && typeof doc.settings === 'object') return doc.settings;
    } catch {
      // not a sidecar; try the next
    }
  }
  return undefined;
}

/** The run's settings: what was asked, completed from a sidecar of a rendered video. */
export function runInfo(asked: Record<string, unknown>, rendered: Record<string, unknown> | undefined, jobs: { prompt: string; seed: number }[], samples?: number): RunInfo {
  const info: RunInfo = { seeds: [...new Set(jobs.map((j) => j.seed))], machine: machineDescription(), diffsparse: diffsparseVersion() };
  for (const k of SETTING_KEYS) {
    const v = rendered?.[k] ?? asked[k];
    if (v !== undefined && v !== null) (info as unknown as Record<string, unknown>)[k] = v;
  }
  info.prompts = new Set(jobs.map((j) => j.prompt)).size;
  if (samples !== undefined) info.samples = samples;
  return info;
}
