/**
 * Prompt adherence without a neural network, for the demo model's world of one flat shape
 * moving in a straight line: read the expected colour and motion from the caption, measure
 * them in the generated frames (background from the border, object = the largest blob far
 * from it, colour = palette vote of its core pixels in CIELAB, motion = least-squares slope of
 * the centroid track), and score measured against expected next to chance.
 */
import { LabPalette, rgbToLab } from './adherence-colour.js';
import {
  BACKGROUNDS, BACKGROUND_NAMES, COLOURS, COLOUR_NAMES, DATASET_FRAME_SIZE, DIRECTIONS, SHAPES, SIZE_AREA_THRESHOLD, SIZES,
  SPEED_PX_PER_FRAME, type Background, type Colour, type Direction, type Shape, type Size, type Speed,
} from './adherence-vocabulary.js';

export class AdherenceInputError extends Error {
  override name = 'AdherenceInputError';
}

// ---------------------------------------------------------------------------------------------
// Captions

export interface ExpectedAttributes {
  colour: Colour | null;
  shape: Shape | null;
  direction: Direction | null;
  speed: Speed | null;
  size: Size | null;
  background: Background | null;
  /** Words outside the dataset's vocabulary (the model has never seen them). */
  unknownWords: string[];
}

// words the templates use that carry no attribute
const FILLER = new Set(['a', 'an', 'the', 'moving', 'moves', 'sliding', 'going', 'to', 'on', 'background']);
const SPEED_WORDS = new Map<string, Speed>([['quickly', 'fast'], ['fast', 'fast'], ['slowly', 'slow'], ['slow', 'slow']]);

function member<T extends string>(list: readonly T[], word: string): T | null {
  return (list as readonly string[]).includes(word) ? (word as T) : null;
}

/**
 * Expected attributes from a caption of the dataset's grammar, e.g. `a small blue square moves
 * up quickly on a dark background`. An attribute the caption does not name is null.
 */
export function parseCaption(caption: string): ExpectedAttributes {
  const words = caption.toLowerCase().split(/[^a-z]+/).filter((w) => w.length > 0);
  const out: ExpectedAttributes = { colour: null, shape: null, direction: null, speed: null, size: null, background: null, unknownWords: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const colour = member(COLOUR_NAMES, w);
    const shape = member(SHAPES, w);
    const direction = member(DIRECTIONS, w);
    const size = member(SIZES, w);
    const background = member(BACKGROUND_NAMES, w);
    if (colour) out.colour ??= colour;
    else if (shape) out.shape ??= shape;
    else if (direction) out.direction ??= direction;
    else if (size) out.size ??= size;
    else if (SPEED_WORDS.has(w)) out.speed ??= SPEED_WORDS.get(w)!;
    // `dark`/`light` only name the background when `background` follows
    else if (background && words[i + 1] === 'background') out.background ??= background;
    else if (!FILLER.has(w)) out.unknownWords.push(w);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Measurement

export type MeasuredDirection = Direction | 'none';
export type Rgb = [number, number, number];

export interface MeasureOptions {
  /** RGB distance from the background (0–1 per channel, Euclidean) above which a pixel is object. Default 0.25. */
  maskThreshold?: number;
  /** Blobs smaller than this many pixels are not an object. Default 4. */
  minObjectPixels?: number;
  /** Core pixels, the ones that vote on colour, are at least this fraction of the blob's 90th-percentile distance. Default 0.6. */
  coreFraction?: number;
  /** Total displacement (px at 64 px width, scaled with the width) below which the motion is 'none'. Default 4. */
  minDisplacement?: number;
  /** Width of the border ring the background is estimated from. Default 2. */
  borderWidth?: number;
}

export interface FrameMeasurement {
  background: Rgb;
  backgroundSpread: number;
  /** Distance-weighted centroid (x, y) in pixels of the largest blob, null when none was found. */
  centroid: [number, number] | null;
  /** Pixels in the blob. */
  area: number;
}

export interface ClipMeasurement {
  width: number;
  height: number;
  frames: FrameMeasurement[];
  /** Median of the per-frame border medians. */
  background: Rgb;
  backgroundName: Background;
  /**
   * How flat the border is: median over frames of the median distance (0–1 RGB units) of border
   * pixels from the background colour. The dataset's backgrounds are flat (≈0); a clip without a
   * flat background (an untrained model) scores high, and its other measurements mean little.
   */
  backgroundSpread: number;
  /** True when a blob was found in at least two frames (in the one frame of a one-frame clip). */
  objectFound: boolean;
  /** Palette colour with the most core-pixel votes; null when no object was found or its core is mostly dark grey. */
  colour: Colour | null;
  /** Mean over frames of the share of core pixels that voted for `colour` (or for dark grey). */
  colourShare: number;
  /** Mean RGB of the core pixels. */
  objectRgb: Rgb | null;
  direction: MeasuredDirection;
  /** Least-squares centroid velocity (px/frame, y down). */
  velocity: [number, number];
  /** Velocity × the tracked span: how far the fitted line moves over the clip. */
  displacement: [number, number];
  /** |velocity| in px/frame, at the clip's own resolution. */
  speedPxPerFrame: number;
  speed: Speed | null;
  /** Median blob area in pixels. */
  area: number;
  size: Size | null;
}

const colourPalette = new LabPalette(COLOURS);
/**
 * Dark greys (Lab chroma and lightness below these) name no palette colour: left to the nearest
 * entry they would vote for whichever colour their faint tint leans to, a free 1-in-6 hit.
 */
const DARK_GREY_MAX_CHROMA = 10;
const DARK_GREY_MAX_LIGHTNESS = 45;
const UNNAMED = COLOUR_NAMES.length;

function colourVote(r: number, g: number, b: number): number {
  const lab = rgbToLab(r, g, b);
  if (lab[0] < DARK_GREY_MAX_LIGHTNESS && Math.hypot(lab[1], lab[2]) < DARK_GREY_MAX_CHROMA) return UNNAMED;
  return colourPalette.nearestIndex(lab);
}
const backgroundPalette = new LabPalette(BACKGROUNDS);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per-channel median of the border ring, and the median distance (0–1 RGB units) of the ring's pixels from it. */
function borderStats(frame: Uint8Array, width: number, height: number, ring: number): { median: Rgb; spread: number } {
  const ch: number[][] = [[], [], []];
  for (let y = 0; y < height; y++) {
    const edgeRow = y < ring || y >= height - ring;
    for (let x = 0; x < width; x++) {
      if (!edgeRow && x >= ring && x < width - ring) continue;
      const o = (y * width + x) * 3;
      ch[0].push(frame[o]); ch[1].push(frame[o + 1]); ch[2].push(frame[o + 2]);
    }
  }
  const m: Rgb = [median(ch[0]), median(ch[1]), median(ch[2])];
  const spread = median(ch[0].map((r, i) => Math.hypot(r - m[0], ch[1][i] - m[1], ch[2][i] - m[2]))) / 255;
  return { median: m, spread };
}

/** Labels 4-connected components of `mask`; returns the pixel indices of the one with the largest summed weight. */
function heaviestComponent(mask: Uint8Array, weight: Float32Array, width: number, height: number): number[] {
  const seen = new Uint8Array(mask.length);
  let best: number[] = [], bestWeight = -1;
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const pixels: number[] = [];
    let sum = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      sum += weight[p];
      const x = p % width, y = (p - x) / width;
      const visit = (q: number): void => {
        if (mask[q] && !seen[q]) { seen[q] = 1; stack.push(q); }
      };
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (y > 0) visit(p - width);
      if (y < height - 1) visit(p + width);
    }
    if (sum > bestWeight) { bestWeight = sum; best = pixels; }
  }
  return best;
}

function checkFrames(frames: readonly Uint8Array[], width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 5 || height < 5) {
    throw new AdherenceInputError(`frame size ${width}×${height} is too small to measure; frames must be at least 5×5 pixels`);
  }
  if (frames.length === 0) throw new AdherenceInputError('the clip has no frames; pass at least two rgb24 frames');
  const bytes = width * height * 3;
  frames.forEach((f, i) => {
    if (f.length !== bytes) {
      throw new AdherenceInputError(`frame ${i} has ${f.length} bytes but ${width}×${height} rgb24 needs ${bytes}; pass frames decoded as rgb24 at the stated size`);
    }
  });
}

/** Least-squares slope of v against t. */
function slope(t: number[], v: number[]): number {
  const n = t.length;
  const tm = t.reduce((a, b) => a + b, 0) / n, vm = v.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (t[i] - tm) * (v[i] - vm); den += (t[i] - tm) ** 2; }
  return den > 0 ? num / den : 0;
}

/** Measures background, object colour and motion of a clip of rgb24 frames. */
export function measureClip(frames: readonly Uint8Array[], width: number, height: number, options: MeasureOptions = {}): ClipMeasurement {
  checkFrames(frames, width, height);
  const threshold = (options.maskThreshold ?? 0.25) * 255;
  const minPixels = options.minObjectPixels ?? 4;
  const coreFraction = options.coreFraction ?? 0.6;
  const ring = Math.max(1, Math.min(options.borderWidth ?? 2, Math.floor(Math.min(width, height) / 4)));
  const scale = width / DATASET_FRAME_SIZE;
  const minDisplacement = (options.minDisplacement ?? 4) * scale;

  const n = width * height;
  const dist = new Float32Array(n);
  const mask = new Uint8Array(n);
  // each frame's core pixels vote; frames then count equally, so one frame with a large smeared
  // blob (decoders often get the first frame worst) cannot outvote the rest
  const votes = new Array<number>(COLOUR_NAMES.length + 1).fill(0); // + UNNAMED
  let votingFrames = 0;
  const coreSum: Rgb = [0, 0, 0];
  let coreCount = 0;
  const perFrame: FrameMeasurement[] = [];

  for (const frame of frames) {
    const { median: bg, spread } = borderStats(frame, width, height, ring);
    for (let p = 0; p < n; p++) {
      const o = p * 3;
      const d = Math.hypot(frame[o] - bg[0], frame[o + 1] - bg[1], frame[o + 2] - bg[2]);
      dist[p] = d;
      mask[p] = d > threshold ? 1 : 0;
    }
    const blob = heaviestComponent(mask, dist, width, height);
    if (blob.length < minPixels) {
      perFrame.push({ background: bg, backgroundSpread: spread, centroid: null, area: 0 });
      continue;
    }
    let sw = 0, sx = 0, sy = 0;
    for (const p of blob) {
      const w = dist[p];
      sw += w; sx += w * ((p % width) + 0.5); sy += w * (Math.floor(p / width) + 0.5);
    }
    perFrame.push({ background: bg, backgroundSpread: spread, centroid: [sx / sw, sy / sw], area: blob.length });

    // the core: pixels well inside the object, so edge blends with the background do not vote
    const ds = blob.map((p) => dist[p]).sort((a, b) => a - b);
    const coreMin = coreFraction * ds[Math.min(ds.length - 1, Math.floor(0.9 * ds.length))];
    const frameVotes = new Array<number>(votes.length).fill(0);
    let frameCore = 0;
    for (const p of blob) {
      if (dist[p] < coreMin) continue;
      const o = p * 3;
      frameVotes[colourVote(frame[o], frame[o + 1], frame[o + 2])]++;
      coreSum[0] += frame[o]; coreSum[1] += frame[o + 1]; coreSum[2] += frame[o + 2];
      frameCore++;
    }
    for (let i = 0; i < votes.length; i++) votes[i] += frameVotes[i] / frameCore;
    coreCount += frameCore;
    votingFrames++;
  }

  const background: Rgb = [0, 1, 2].map((c) => median(perFrame.map((f) => f.background[c]))) as Rgb;
  const backgroundName = backgroundPalette.nearest(...background).name;
  const tracked = perFrame.map((f, t) => ({ t, c: f.centroid })).filter((e): e is { t: number; c: [number, number] } => e.c !== null);
  const backgroundSpread = median(perFrame.map((f) => f.backgroundSpread));
  const base = { width, height, frames: perFrame, background, backgroundName, backgroundSpread };
  // motion needs two tracked frames; a one-frame clip (an image) still gets its colour
  if (tracked.length < Math.min(2, frames.length) || coreCount === 0) {
    return {
      ...base, objectFound: false, colour: null, colourShare: 0, objectRgb: null, direction: 'none',
      velocity: [0, 0], displacement: [0, 0], speedPxPerFrame: 0, speed: null, area: 0, size: null,
    };
  }

  let top = 0;
  for (let i = 1; i < votes.length; i++) if (votes[i] > votes[top]) top = i;
  const ts = tracked.map((e) => e.t);
  const velocity: [number, number] = [slope(ts, tracked.map((e) => e.c[0])), slope(ts, tracked.map((e) => e.c[1]))];
  const span = ts[ts.length - 1] - ts[0];
  const displacement: [number, number] = [velocity[0] * span, velocity[1] * span];
  let direction: MeasuredDirection = 'none';
  if (tracked.length >= 2 && Math.hypot(...displacement) >= minDisplacement) {
    direction = Math.abs(displacement[0]) >= Math.abs(displacement[1])
      ? (displacement[0] > 0 ? 'right' : 'left')
      : (displacement[1] > 0 ? 'down' : 'up');
  }
  const speedPxPerFrame = Math.hypot(...velocity);
  const speedThreshold = (SPEED_PX_PER_FRAME.slow + SPEED_PX_PER_FRAME.fast) / 2;
  const area = median(tracked.map((e) => perFrame[e.t].area));
  return {
    ...base,
    objectFound: true,
    colour: top === UNNAMED ? null : COLOUR_NAMES[top],
    colourShare: votes[top] / votingFrames,
    objectRgb: coreSum.map((s) => s / coreCount) as Rgb,
    direction,
    velocity,
    displacement,
    speedPxPerFrame,
    speed: direction === 'none' ? null : speedPxPerFrame / scale >= speedThreshold ? 'fast' : 'slow',
    area,
    size: area / (scale * scale) >= SIZE_AREA_THRESHOLD ? 'large' : 'small',
  };
}

// ---------------------------------------------------------------------------------------------
// Scoring

export interface AdherenceResult {
  caption: string;
  seed?: number;
  expected: ExpectedAttributes;
  measured: ClipMeasurement;
}

export interface Accuracy {
  correct: number;
  /** Clips whose caption names the attribute (the others are not scored on it). */
  total: number;
  /** correct / total, null when total is 0. */
  accuracy: number | null;
  /** Accuracy of a uniform random guess. */
  chance: number;
}

export interface AdherenceScore {
  clips: number;
  colour: Accuracy;
  direction: Accuracy;
  /** Colour and direction both right. */
  joint: Accuracy;
  speed: Accuracy;
  size: Accuracy;
  background: Accuracy;
  /** Clips where no object was found. */
  noObject: number;
  /** Clips where an object was found but did not move. */
  static: number;
}

function accuracy(pairs: Array<[expected: string | null, measured: string | null]>, chance: number): Accuracy {
  const scored = pairs.filter(([e]) => e !== null);
  const correct = scored.filter(([e, m]) => e === m).length;
  return { correct, total: scored.length, accuracy: scored.length ? correct / scored.length : null, chance };
}

/** Measured against expected over many clips, with the chance level of each attribute. */
export function scoreAdherence(results: readonly AdherenceResult[]): AdherenceScore {
  const nColours = COLOUR_NAMES.length, nDirections = DIRECTIONS.length;
  return {
    clips: results.length,
    colour: accuracy(results.map((r) => [r.expected.colour, r.measured.colour]), 1 / nColours),
    direction: accuracy(results.map((r) => [r.expected.direction, r.measured.direction]), 1 / nDirections),
    joint: accuracy(results.map((r) => {
      const e = r.expected;
      if (e.colour === null || e.direction === null) return [null, null];
      return ['both', e.colour === r.measured.colour && e.direction === r.measured.direction ? 'both' : 'not'];
    }), 1 / (nColours * nDirections)),
    speed: accuracy(results.map((r) => [r.expected.speed, r.measured.speed]), 1 / 2),
    size: accuracy(results.map((r) => [r.expected.size, r.measured.size]), 1 / 2),
    background: accuracy(results.map((r) => [r.expected.background, r.measured.backgroundName]), 1 / 2),
    noObject: results.filter((r) => !r.measured.objectFound).length,
    static: results.filter((r) => r.measured.objectFound && r.measured.direction === 'none').length,
  };
}
