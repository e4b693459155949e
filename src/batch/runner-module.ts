/** Loading a runner from its module inside whichever thread or process will use it. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunnerLoadError } from './errors.js';
import type { PipelineRunnerOptions } from './pipeline-runner.js';
import type { Renderer, RunnerSpec } from './types.js';

/** The runner that renders with the real pipeline (see pipeline-runner.ts). */
export function defaultRunnerSpec(options: PipelineRunnerOptions = {}): RunnerSpec {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return { module: new URL(`./pipeline-runner${extension}`, import.meta.url).href, options: { ...options } };
}

/** A module specifier as a URL: file paths are taken relative to the working directory. */
export function runnerModuleUrl(spec: string): string {
  if (/^(file|data|node):/.test(spec)) return spec;
  return pathToFileURL(path.resolve(spec)).href;
}

/**
 * Import a runner module. Built diffsparse runs plain JavaScript, so a runner written in
 * TypeScript is loaded through tsx (a dev dependency) when tsx is installed.
 */
async function importModule(url: string): Promise<unknown> {
  const typescript = /\.[cm]?ts$/.test(new URL(url).pathname);
  if (!typescript || import.meta.url.endsWith('.ts')) return import(url);
  let tsx: { tsImport(specifier: string, parent: string): Promise<unknown> };
  try {
    tsx = (await import('tsx/esm/api')) as typeof tsx;
  } catch {
    throw new Error('it is TypeScript and tsx is not installed; compile it to JavaScript or `npm install tsx`');
  }
  return tsx.tsImport(url, import.meta.url);
}

/** Import a runner's module ahead of `loadRunner` (its code, no model); an error waits for loadRunner to report it. */
export async function preloadRunner(spec: RunnerSpec): Promise<void> {
  try {
    await importModule(runnerModuleUrl(spec.module));
  } catch {
    // loadRunner imports it again and says what is wrong
  }
}

export async function loadRunner(spec: RunnerSpec): Promise<Renderer> {
  let mod: { createRunner?: unknown };
  const url = runnerModuleUrl(spec.module);
  try {
    mod = (await importModule(url)) as { createRunner?: unknown };
  } catch (err) {
    throw new RunnerLoadError(`cannot load runner module ${spec.module}: ${(err as Error).message}`);
  }
  if (typeof mod.createRunner !== 'function') {
    throw new RunnerLoadError(`runner module ${spec.module} does not export a createRunner(options) function`);
  }
  const create = mod.createRunner as (options: Record<string, unknown>) => Promise<Renderer>;
  return create(spec.options ?? {});
}
