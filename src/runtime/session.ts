/**
 * The one place onnxruntime sessions are created. Settings measured best on CPU: 2 intra-op
 * threads, sequential execution. Models are loaded by path so external weights resolve next
 * to them. `providers` picks the execution providers (default `cpu`); one that this
 * onnxruntime-node build does not have, or whose libraries are not installed, fails with an
 * `ExecutionProviderError` that names the fix. Rooms use the `Session`/`Tensor` types and the
 * tensor helpers here, not onnxruntime itself.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { UserError } from '../core/errors.js';

export type Session = Ort.InferenceSession;
export type Tensor = Ort.Tensor;
export type Feeds = Record<string, Ort.Tensor>;

let loaded: typeof Ort | null = null;
/**
 * onnxruntime-node, loaded on first use: a thread that only parses and checks a request (the
 * CLI's main thread, whose model runs on a lane thread) does not load the native library.
 */
function ort(): typeof Ort {
  loaded ??= createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
  return loaded;
}

/** Execution providers diffsparse knows how to ask onnxruntime-node for. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface SessionOptions {
  intraOpThreads?: number;
  /** Keep weights mmapped instead of prepacked copies: faster load, less RSS, slightly slower runs. */
  mmapWeights?: boolean;
  /** Execution providers in order of preference (default ['cpu']). */
  providers?: readonly ExecutionProvider[];
  /**
   * Keep bfloat16 weights bfloat16 in memory (issue 17): no constant folding (it would turn each
   * weight's Cast into a float32 initializer) and no memory arena (it would keep every call's cast
   * weights allocated for the session's life); each run casts the weights it needs and frees them.
   */
  keepHalfWeights?: boolean;
  /**
   * Return each run's intermediate buffers when the run ends instead of keeping them in the
   * session's memory arena (issue 17). A model split into many sessions (the DiT: 4 per block)
   * otherwise holds every session's largest intermediates at once: a whole 1.3B step at
   * 832×480 × 5 frames grew to 18.5 GB (killed for memory) with 5.7 GB of weights.
   */
  freeActivations?: boolean;
}

/** A requested execution provider this installation cannot run. */
export class ExecutionProviderError extends UserError {
  override readonly name: string = 'ExecutionProviderError';
}

/** Where onnxruntime-node keeps its native libraries for this platform. */
function nativeDir(): string | null {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(pkg, 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(dir)) return dir;
    }
  } catch {
    // fall through: unknown layout
  }
  return null;
}

const installed = new Map<string, boolean>();

/** Whether the provider's libraries are present (bundled ones always are). */
function providerInstalled(name: string, bundled: boolean): boolean {
  if (bundled) return true;
  let ok = installed.get(name);
  if (ok === undefined) {
    const dir = nativeDir();
    ok = dir !== null && readdirSync(dir).some((f) => f.includes(`providers_${name}`));
    installed.set(name, ok);
  }
  return ok;
}

/** The providers this onnxruntime-node build supports, with whether each is installed. */
export function availableProviders(): { name: string; installed: boolean }[] {
  return ort().listSupportedBackends().map((b) => ({ name: b.name, installed: providerInstalled(b.name, b.bundled) }));
}

const FIX: Record<string, string> = {
  cuda: 'install the CUDA 12 provider libraries with `node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12` (this project\'s .npmrc skips them), on Linux x64 with CUDA 12 and cuDNN 9',
  webgpu: 'WebGPU needs a GPU adapter with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver, and an onnxruntime-node build that bundles it; use --device cpu otherwise',
};

/** Checks a provider list against this installation; throws `ExecutionProviderError` naming the fix. */
export function checkProviders(providers: readonly string[]): ExecutionProvider[] {
  if (providers.length === 0) throw new ExecutionProviderError('no execution provider given; use --device cpu (or cuda, webgpu)');
  const available = availableProviders();
  for (const p of providers) {
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(p)) throw new ExecutionProviderError(`unknown device "${p}"; use one of ${EXECUTION_PROVIDERS.join(', ')}`);
    const a = available.find((b) => b.name === p);
    if (!a) throw new ExecutionProviderError(`device ${p} is not supported by onnxruntime-node ${ort().env.versions.node ?? ''} on ${process.platform}-${process.arch} (it has ${available.map((b) => b.name).join(', ')}); ${FIX[p] ?? 'use --device cpu'}`);
    if (!a.installed) throw new ExecutionProviderError(`device ${p}: onnxruntime-node's ${p} provider is not installed; ${FIX[p] ?? 'use --device cpu'}`);
  }
  return providers as ExecutionProvider[];
}

/** The onnxruntime options createSession uses (exported so tests can inspect what a setting turns off). */
export function sessionOptionsFor(options: SessionOptions = {}): Ort.InferenceSession.SessionOptions {
  const providers = options.providers ?? ['cpu'];
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 2,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (!(providers.length === 1 && providers[0] === 'cpu')) sessionOptions.executionProviders = [...checkProviders(providers)];
  // Intra-op threads sleep as soon as a run's parallel work is done instead of spinning: a model
  // split into many sessions (the DiT: 4 per block) otherwise has the previous sessions' pool
  // threads spinning on the cores the current run needs (a 3-block pass of the 320-token demo
  // model took 99 ms instead of 6 ms on 2 cores); results are the same.
  const extra: Record<string, Record<string, unknown>> = { session: { intra_op: { allow_spinning: '0' } } };
  if (options.mmapWeights) extra.session.disable_prepacking = '1';
  if (options.keepHalfWeights) extra.optimization = { disable_specified_optimizers: 'ConstantFolding' };
  if (options.keepHalfWeights || options.freeActivations) sessionOptions.enableCpuMemArena = false;
  (sessionOptions as { extra?: unknown }).extra = extra;
  return sessionOptions;
}

export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<Session> {
  const providers = options.providers ?? ['cpu'];
  const sessionOptions = sessionOptionsFor(options);
  try {
    return typeof model === 'string' ? await ort().InferenceSession.create(model, sessionOptions) : await ort().InferenceSession.create(model, sessionOptions);
  } catch (e) {
    const p = providers.find((name) => name !== 'cpu' && String((e as Error).message).toLowerCase().includes(name));
    if (p) throw new ExecutionProviderError(`device ${p} failed to start a session: ${(e as Error).message}; ${FIX[p] ?? 'use --device cpu'}`);
    throw e;
  }
}

export function f32Tensor(data: Float32Array, dims: number[]): Tensor {
  return new (ort().Tensor)('float32', data, dims);
}

export function i64Tensor(data: BigInt64Array | number[], dims: number[]): Tensor {
  return new (ort().Tensor)('int64', data instanceof BigInt64Array ? data : BigInt64Array.from(data.map(BigInt)), dims);
}
