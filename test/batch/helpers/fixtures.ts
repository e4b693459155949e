/** Shared helpers for batch tests: temp folders, jobs files, the fast runner spec, PNG checks. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { RunnerSpec } from '../../../src/batch/types.js';
import { expectedPixels, type FastRunnerOptions } from './fast-runner.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function fastRunner(options: FastRunnerOptions = {}): RunnerSpec {
  return { module: new URL('./fast-runner.ts', import.meta.url).href, options: { ...options } };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `ds-${prefix}-`));
}

/** A jobs file of `count` png jobs with fixed seeds 100, 101, ... */
export async function writeJobs(dir: string, count: number, extra: string[] = []): Promise<string> {
  const lines = ['{"defaults": {"format": "png", "steps": 4}}'];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ prompt: `Scene number ${i}: a fox in the snow`, seed: 100 + i }));
  const file = path.join(dir, 'jobs.jsonl');
  await writeFile(file, [...lines, ...extra].join('\n') + '\n');
  return file;
}

/** True when `file` is a complete PNG holding the pixels the fast runner derives from `seed`. */
export async function isValidOutput(file: string, seed: number): Promise<boolean> {
  try {
    const png = PNG.sync.read(await readFile(file));
    return Buffer.compare(png.data, Buffer.from(expectedPixels(seed))) === 0;
  } catch {
    return false;
  }
}
