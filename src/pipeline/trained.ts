/**
 * What a model was trained to draw: the frame sizes and frame counts of its training clips,
 * read from the `trained` block of a pipeline definition (written by `convert` from the
 * checkpoint's `diffsparse.json`, or from the release's known sizes). `generate` warns when a
 * request leaves it: a 64×64 model asked for 256×256 draws grey mush, and it should say so.
 */

export interface TrainedRange {
  /** Frame sizes of the training clips, "WxH" (e.g. "832x480"). */
  sizes: string[];
  /** Frame counts of the training clips (4k+1). */
  frames: number[];
  /** Where these numbers come from (model card, release config). */
  source?: string;
}

const SIZE = /^(\d+)x(\d+)$/;

/** Problems with a `trained` block as read from JSON (empty when it is well formed). */
export function trainedRangeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['must be an object with "sizes" and "frames"'];
  const t = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!Array.isArray(t.sizes) || t.sizes.length === 0 || !t.sizes.every((s) => typeof s === 'string' && SIZE.test(s))) problems.push('"sizes" must be a non-empty list of "WxH" strings, e.g. ["832x480"]');
  if (!Array.isArray(t.frames) || t.frames.length === 0 || !t.frames.every((f) => Number.isInteger(f) && (f as number) > 0)) problems.push('"frames" must be a non-empty list of positive integers, e.g. [81]');
  if (t.source !== undefined && typeof t.source !== 'string') problems.push('"source" must be a string');
  return problems;
}

/**
 * Warnings for a request outside what the model was trained on: a size not among the
 * trained sizes, or a frame count outside the trained counts' range. Empty when inside, or
 * when the model does not say.
 */
export function trainedRangeWarnings(trained: TrainedRange | undefined, r: { width: number; height: number; frames: number }, modelName = 'the model'): string[] {
  if (!trained) return [];
  const warnings: string[] = [];
  const size = `${r.width}x${r.height}`;
  if (!trained.sizes.includes(size)) {
    warnings.push(`${size} is not a size ${modelName} was trained on (${trained.sizes.join(', ')}); expect blurred or meaningless frames, or use --size ${trained.sizes[0]}`);
  }
  const lo = Math.min(...trained.frames);
  const hi = Math.max(...trained.frames);
  if (r.frames < lo || r.frames > hi) {
    const counts = lo === hi ? `${lo} frames` : `${lo} to ${hi} frames`;
    warnings.push(`${r.frames} frames is outside what ${modelName} was trained on (${counts}); motion may break up, or use --frames ${r.frames > hi ? hi : lo}`);
  }
  return warnings;
}

/** The sizes the official Wan2.1 text-to-video release supports (generate.py's SUPPORTED_SIZES). */
export function wan21TrainedRange(ditDim: number): TrainedRange {
  const is14B = ditDim >= 5120;
  return {
    sizes: is14B ? ['1280x720', '720x1280', '832x480', '480x832'] : ['832x480', '480x832'],
    frames: [81],
    source: `Wan2.1 T2V-${is14B ? '14B' : '1.3B'} release: generate.py SUPPORTED_SIZES, 81 frames at 16 fps`,
  };
}
