/** Messages between a lane (main thread) and its worker thread (lane-thread.ts). */
import type { DenoisedJob, GenerateRequest, GenerateResult, Progress, RunnerSpec } from './types.js';

export type LaneOp = 'denoise' | 'finish' | 'generate';

export type ToThread =
  | { type: 'preload'; runner: RunnerSpec }
  | { type: 'init'; runner: RunnerSpec }
  | { type: 'run'; id: number; op: 'denoise' | 'generate'; request: GenerateRequest }
  | { type: 'run'; id: number; op: 'finish'; job: DenoisedJob }
  | { type: 'abort'; id: number }
  | { type: 'close' };

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** True for errors the user can fix (see isUserFacingError). */
  userFacing: boolean;
}

export type FromThread =
  | { type: 'ready'; stopGraceMs?: number }
  | { type: 'init-failed'; error: SerializedError }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; op: 'denoise'; value: DenoisedJob }
  | { type: 'result'; id: number; op: 'finish' | 'generate'; value: GenerateResult }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'closed' };
