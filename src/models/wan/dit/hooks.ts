/**
 * Hook points of the DiT's one block loop (`WanDiT.forwardWithText`). A cache method is a
 * `ForwardHooks` object: per pass (guidance branch, step) it may serve the whole block stack
 * itself (step skipping), and per block it decides to run the block whole, to reuse (the
 * hook supplies the block output), or to run it on a subset of token rows; it sees every
 * whole block's inputs and stage outputs. Dense generation is the loop with no hooks.
 */
import type { StepInfo } from '../../../core/types.js';
import type { PatchGrid } from './patchify.js';
import type { RopeTables } from './rope.js';
import type { ContextKV, PostOutputs, QKV, TextState } from './runtime.js';

/** One forward pass (one model call) as the hooks see it. */
export interface PassState {
  /** Branch, step and step count of the call (absent when the caller gave none). */
  info: StepInfo | undefined;
  grid: PatchGrid;
  tokens: number;
  /** Time embedding (head) and its 6-way projection (blocks). */
  e: Float32Array;
  e0: Float32Array;
  rope: RopeTables;
  /** Embedded patches: the block stack's input [tokens, D]. */
  x0: Float32Array;
  text: TextState;
}

/** One block call: its index, input [tokens, D] and the prompt's cross-attention K/V. */
export interface BlockCall {
  pass: PassState;
  layer: number;
  x: Float32Array;
  kv: ContextKV;
}

/** Every stage output of a whole block: self-attention q/k/v and raw output, then `post`'s; fresh arrays that hooks may keep. */
export interface WholeBlockOutputs extends PostOutputs, QKV {
  ySa: Float32Array;
}

export type BlockDecision =
  /** Run the block on every token. */
  | { kind: 'whole' }
  /** Do not run it: `x` is the block output. */
  | { kind: 'reuse'; x: Float32Array }
  /**
   * Run `post` on the token rows `rows` only: `selfAttention` gives their raw self-attention
   * output [rows, D], the loop runs `post` on those rows, and `merge` turns its outputs into
   * the block output for every token.
   */
  | { kind: 'rows'; rows: ArrayLike<number>; selfAttention(): Promise<Float32Array>; merge(post: PostOutputs): Float32Array };

export interface ForwardHooks {
  /** Before the blocks: a returned array is the block stack's output, and no block runs. */
  beginPass?(pass: PassState): Float32Array | null | Promise<Float32Array | null>;
  /** How to run one block (default whole). */
  decide?(call: BlockCall): BlockDecision | Promise<BlockDecision>;
  /** Sees a whole block's input (`call`) and every stage output. */
  afterWhole?(call: BlockCall, out: WholeBlockOutputs): void | Promise<void>;
  /** After the blocks (or the served stack output): the stack's output. */
  endPass?(pass: PassState, x: Float32Array, served: boolean): void;
}

export const WHOLE: BlockDecision = { kind: 'whole' };
