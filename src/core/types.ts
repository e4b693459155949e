/**
 * Shapes shared by every room (src/core/ is the bottom layer: it imports nothing from the
 * project). The denoising loop and the models it drives meet here. A model only has to turn
 * (latent, timestep, context) into a velocity; dense DiT, sparse DiT and test replays all
 * implement the same interface, so the samplers never know which one they are driving.
 */

/** A video latent in (C, F, H, W) order, float32, C-contiguous. */
export interface Latent {
  data: Float32Array;
  shape: [channels: number, frames: number, height: number, width: number];
}

/** Text context rows (L, textDim) as the text encoder returns them (trimmed, not yet padded). */
export interface TextContext {
  data: Float32Array;
  shape: [tokens: number, width: number];
}

export type GuidanceBranch = 'cond' | 'uncond';

export interface StepInfo {
  /** Index of the denoising step, 0-based. */
  step: number;
  /** Total number of steps. */
  steps: number;
  branch: GuidanceBranch;
  /**
   * The generation's stop signal: the DiT checks it between blocks, so a stop does not wait for
   * a whole pass of a large model (minutes on a CPU) and no thread has to be ended inside onnxruntime.
   */
  signal?: AbortSignal;
}

/** Anything that predicts the flow-matching velocity for a latent at a timestep. */
export interface VelocityModel {
  predict(latent: Latent, timestep: number, context: TextContext, info: StepInfo): Promise<Float32Array>;
}

/** Samplers (their implementations are registered in src/sampling/solvers.ts). */
export type SolverName = 'unipc' | 'dpm++' | 'euler';

/** Output containers (written by src/video/encode.ts). */
export type VideoFormat = 'mp4' | 'webm' | 'gif' | 'png';
