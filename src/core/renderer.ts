/**
 * The renderer interface every room that renders videos drives (the CLI, batch lanes, eval),
 * with its request, progress and result types. A `Pipeline` (src/pipeline/generate.ts) is a
 * `Renderer`; a test can supply a small one that writes real files without loading a model.
 * `denoise` and `finish` are separate so batch runners can overlap one job's decoding with
 * the next job's denoising.
 */
import type { Latent, SolverName, VideoFormat } from './types.js';

/** How a generation is sped up (see src/sparsity/methods/). */
export interface SparsityRequest {
  /** A schedule file, or the name of a schedule shipped with the pipeline. */
  schedule?: string;
  /** Target generation FLOPs as a fraction of dense, in (0, 1]. */
  budget?: number;
  /** How to meet `budget`: a registered cache method (src/sparsity/methods/index.ts); default learned. */
  method?: string;
  /** Reused module outputs held constant ('none', default) or extrapolated from their last two computations ('linear', TaylorSeer-like). */
  forecast?: 'none' | 'linear';
}

export interface GenerateRequest extends SparsityRequest {
  prompt: string;
  negativePrompt?: string;
  width?: number;
  height?: number;
  /** Video frames; must be 4k+1 (the VAE's temporal stride). */
  frames?: number;
  steps?: number;
  shift?: number;
  guidance?: number;
  /** 32-bit seed; a random one is drawn (and reported) when absent. */
  seed?: number;
  solver?: SolverName;
  output: string;
  format?: VideoFormat;
  fps?: number;
  /** Also write the final latent as `<output>.latent.npy`. */
  saveLatent?: boolean;
  /** Start from this noise (.npy, C×F×H×W) instead of seeded noise. */
  noise?: string;
  /**
   * Write a cheap preview of the current clean-latent prediction every `previewEvery` steps:
   * a `.png` file (replaced each time) or a folder (one `step-NNNN.png` each time). Needs the
   * model's latent-to-RGB projection (`latent_rgb.json` in its VAE folder). Not in jobs files.
   */
  preview?: string;
  /** Steps between previews (default 5; the last step always gets one). */
  previewEvery?: number;
}

/** A request with every default filled in. */
export type ResolvedRequest = Required<Omit<GenerateRequest, 'noise' | 'schedule' | 'budget' | 'method' | 'forecast' | 'format' | 'preview' | 'previewEvery'>> &
  Pick<GenerateRequest, 'noise' | 'schedule' | 'budget' | 'method' | 'forecast' | 'preview' | 'previewEvery'> & { format: VideoFormat };

export type Phase = 'encode-text' | 'denoise' | 'decode' | 'encode-video';

export interface Progress {
  phase: Phase;
  done: number;
  total: number;
  /** Something the user should know about this phase (e.g. a prompt cut to the encoder's length). */
  warning?: string;
  /** A line to show once with this update (e.g. which sparsity method runs). */
  detail?: string;
}

/** What sped up a generation (sidecar `sparsity`): the method's description and the schedule file run. */
export interface SparsityRecord {
  description: string;
  flopsRatio: number;
  schedule?: { file: string; name?: string; provenance: { kind: string; method: string } };
}

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  /** Sees the latent after every denoising step (read-only: the loop reuses it). */
  onStep?: (latent: Float32Array, step: number) => void;
  signal?: AbortSignal;
}

export interface DenoisedJob {
  request: ResolvedRequest;
  latent: Latent;
  timings: Record<string, number>;
  /** FLOPs of the DiT run relative to dense (1 for dense). */
  flopsRatio: number;
  /** What ran instead of the dense model (absent for dense): method, FLOPs and the schedule file run (also when a --budget picked it), for the sidecar. */
  sparsity?: SparsityRecord;
}

export interface GenerateResult {
  output: string;
  sidecar: string | null;
  latent: string | null;
  seed: number;
  frames: number;
  timings: Record<string, number>;
  flopsRatio: number;
}

/** What renders a video: denoising and finishing (decode + encode) as two separable halves. */
export interface Renderer {
  denoise(req: GenerateRequest, opts?: RunOptions): Promise<DenoisedJob>;
  finish(job: DenoisedJob, opts?: RunOptions): Promise<GenerateResult>;
  /** Both in one call, where the renderer can overlap them (the pipeline loads its VAE decoder while it denoises). */
  generate?(req: GenerateRequest, opts?: RunOptions): Promise<GenerateResult>;
  /** Frees the renderer's sessions. */
  release?(): Promise<void>;
  /**
   * How long, after its signal is aborted, the renderer may take to stop before its lane thread is
   * ended anyway (default 1.5 s). A renderer working inside native code that cannot be interrupted
   * sets it long: ending a thread while onnxruntime runs in it aborts the whole process.
   */
  readonly stopGraceMs?: number;
}
