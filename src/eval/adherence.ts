/**
 * Prompt adherence without a neural network, for the demo model's world of one flat shape
 * moving in a straight line: read the expected colour and motion from the caption, measure
 * them in the generated frames (background from the border, object = the largest blob far
 * from it, colour = palette vote of its core pixels in CIELAB, motion = least-squares slope of
 * the centroid track), and score measured against expected next to chance.
 */
import { LabPalette, rgbToLab } from './adherence-colour.js';
import {
  BACKGROUNDS, BACKGROUND_NAMES, COLOURS, COLOUR_NAMES, DATASET_FRAME_SIZE, DIRECTIONS, SHAPES, SIZES, geometryForFrame, sizeAreaFraction,
  type Background, type Colour, type DatasetGeometry, type Direction, type Shape, type Size, type Speed,
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
  /** Blobs smaller than this many pixels are not an object. Default ADHERENCE_THRESHOLDS.minObjectFraction of the frame's pixels, at least 4. */
  minObjectPixels?: number;
  /** Core pixels, the ones that vote on colour, are at least this fraction of the blob's 90th-percentile distance. Default 0.6. */
  coreFraction?: number;
  /** Total displacement (px at 64 px width, scaled with the width) below which the motion is 'none'. Default 4. */
  minDisplacement?: number;
  /** Width of the border ring the background is estimated from. Default 2. */
  borderWidth?: number;
  /** The dataset geometry the speed and size words are judged by. Default: geometryForFrame(width, height). */
  geometry?: DatasetGeometry;
}

/**
 * Thresholds of the shape, continuity and colour-stability measurements. training/adherence.py
 * holds the same numbers; test/eval/adherence-python.test.ts checks that the two agree.
 */
export const ADHERENCE_THRESHOLDS = {
  /** Default minimum object size as a fraction of the frame's pixels (4 px at 64×64, 16 at 128×128). */
  minObjectFraction: 0.001,
  /** The shape mask: blob pixels whose 3×3 median distance is at least this fraction of the blob's 90th-percentile distance (the half-contrast contour). */
  shapeContour: 0.5,
  /**
   * Shape-mask asymmetry at or above which a frame's object is a triangle (ideal ¼; 0.08–0.24 on
   * synthetic blurred clips, where circles and squares, ideal 0, stay under 0.05).
   */
  triangleMinAsymmetry: 0.09,
  /**
   * Otherwise: soft fill at or above which it is a square, below a circle (square ideal 1,
   * 0.91–1.02 blurred; circle ideal π/4 ≈ 0.785, 0.77–0.85 blurred, in single frames).
   */
  squareMinFill: 0.88,
  /** A frame's shape mask must span at least this many pixels each way to vote on shape. */
  minShapeExtent: 3,
  /** A frame whose object has less than this fraction of the clip's median object area has lost the object. */
  minAreaOfMedian: 0.25,
  /** Or less than this fraction of the clip's median object contrast (90th-percentile distance): faded out. */
  minContrastOfMedian: 0.5,
  /** A second blob (of at least the minimum object size) weighing this fraction of the object's summed distance makes two objects. */
  secondBlobWeight: 0.25,
  /** A centroid step over this multiple of the median step (or of the floor) is a jump. */
  maxStepOfMedian: 2,
  /** Floor of the median step, as a fraction of the object's equivalent radius √(area/π): jitter of a near-static object is no jump. */
  stepFloorOfRadius: 0.25,
  /** The clip's colour must be the per-frame colour of at least this share of the frames with an object. */
  colourStableShare: 0.85,
} as const;

export interface FrameMeasurement {
  background: Rgb;
  backgroundSpread: number;
  /** Distance-weighted centroid (x, y) in pixels of the largest blob, null when none was found. */
  centroid: [number, number] | null;
  /** Pixels in the blob. */
  area: number;
  /** 90th percentile of the blob's distances from the background (0–255 RGB units), 0 when no object. */
  contrast: number;
  /** Summed distance of the heaviest other blob over the object's (0 when there is none of the minimum size). */
  secondBlob: number;
  /** This frame's colour vote (null when no object, or a dark grey one). */
  colour: Colour | null;
  /** Soft fill of the object (see shapeFeatures), null when no object. */
  fill: number | null;
  /** Asymmetry of the shape mask in its bounding box (see shapeFeatures), null when no object. */
  asymmetry: number | null;
  /** This frame's shape vote: null when no object, or it touches the frame edge or is too small to tell. */
  shape: Shape | null;
}

export interface ContinuityMeasurement {
  /** Frames without an object, or with one under minAreaOfMedian of the median area or minContrastOfMedian of the median contrast (faded out). */
  missingFrames: number[];
  /** Frames with a second blob of secondBlobWeight of the object's weight or more. */
  multiObjectFrames: number[];
  /** Centroid step from frame t to t + 1, null where either frame has no object. */
  steps: Array<number | null>;
  medianStep: number;
  /** Largest allowed step: maxStepOfMedian × max(medianStep, the floor). */
  maxStep: number;
  /** Frames t whose step to t + 1 exceeds maxStep. */
  jumps: number[];
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
  /** True when `colour` is the per-frame colour of at least colourStableShare of the frames with an object. */
  colourStable: boolean;
  /** Mean RGB of the core pixels. */
  objectRgb: Rgb | null;
  /** Majority of the per-frame shape votes (ties: the shape of the median fill and asymmetry); null when no frame voted. */
  shape: Shape | null;
  /** Median soft fill of the frames that voted on shape. */
  fill: number | null;
  /** Median asymmetry of the frames that voted on shape. */
  asymmetry: number | null;
  /** One object, in every frame, moving without jumps. */
  continuous: boolean;
  continuity: ContinuityMeasurement;
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
  /** The geometry speed and size were judged by. */
  geometry: string;
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

interface Component { pixels: number[]; weight: number }

/** The 4-connected components of `mask`, heaviest (largest summed weight) first; equal weights keep scan order. */
function components(mask: Uint8Array, weight: Float32Array, width: number, height: number): Component[] {
  const seen = new Uint8Array(mask.length);
  const out: Component[] = [];
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
    out.push({ pixels, weight: sum });
  }
  return out.sort((a, b) => b.weight - a.weight);
}

/** The shape that a blob's soft fill and asymmetry name (see shapeFeatures). */
export function shapeOf(fill: number, asymmetry: number): Shape {
  if (asymmetry >= ADHERENCE_THRESHOLDS.triangleMinAsymmetry) return 'triangle';
  return fill >= ADHERENCE_THRESHOLDS.squareMinFill ? 'square' : 'circle';
}

/**
 * Shape features of a blob. The dataset's shapes are axis-aligned: square, circle and an upward
 * triangle. Fill: the blob's soft coverage (min(1, distance / 90th-percentile distance), summed)
 * over the product of its widest row's and tallest column's coverage: square 1, circle π/4,
 * triangle ½. A blur moves coverage between pixels but keeps these sums, and pixel noise
 * averages out of them, where a thresholded mask's bounding box gains a whole frayed row.
 * Asymmetry: in the half-contrast mask (pixels whose 3×3 median distance is at least
 * shapeContour of the 90th-percentile distance), how far the share of pixels in the bounding
 * box's upper half, or in its left half, is from ½, the larger of the two: circle and square 0,
 * the upward triangle ¼ (a quarter of its area is in the upper half). A blur rounds the square's
 * corners and the triangle's tips, moving both toward the circle; the thresholds sit between. A
 * frame votes only when the mask is clear of the frame edge and at least minShapeExtent pixels each way.
 */
function shapeFeatures(blob: number[], dist: Float32Array, p90: number, width: number, height: number): { fill: number; asymmetry: number; votes: boolean } {
  const cut = ADHERENCE_THRESHOLDS.shapeContour * p90;
  const xs: number[] = [], ys: number[] = [];
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  const near = new Float32Array(9);
  for (const p of blob) {
    const x = p % width, y = (p - x) / width;
    // the 3×3 median of the distance (edge pixels repeated): pixel noise does not fray the
    // contour of a blurred edge, which would add whole rows to the bounding box
    let k = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      near[k++] = dist[Math.min(height - 1, Math.max(0, y + dy)) * width + Math.min(width - 1, Math.max(0, x + dx))];
    }
    near.sort();
    if (near[4] < cut) continue;
    xs.push(x); ys.push(y);
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (xs.length === 0) return { fill: 0, asymmetry: 0, votes: false };
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  // pixels on the middle row (column) of an odd-sized box count half to each side
  const share = (v: number[], lo: number, hi: number): number => {
    const mid = (lo + hi) / 2;
    return v.reduce((a, c) => a + (c < mid ? 1 : c === mid ? 0.5 : 0), 0) / v.length;
  };
  const asymmetry = Math.max(Math.abs(share(ys, y0, y1) - 0.5), Math.abs(share(xs, x0, x1) - 0.5));
  const touches = x0 === 0 || y0 === 0 || x1 === width - 1 || y1 === height - 1;
  // fill from soft coverage, min(1, distance / p90), which a blur moves but does not add to and
  // pixel noise averages out of: its total over the widest row's and the tallest column's
  const rows = new Float64Array(height), cols = new Float64Array(width);
  let soft = 0;
  for (const p of blob) {
    const c = Math.min(1, dist[p] / p90);
    const x = p % width, y = (p - x) / width;
    rows[y] += c; cols[x] += c; soft += c;
  }
  let widest = 0, tallest = 0;
  for (let y = 0; y < height; y++) if (rows[y] > widest) widest = rows[y];
  for (let x = 0; x < width; x++) if (cols[x] > tallest) tallest = cols[x];
  return { fill: soft / (widest * tallest), asymmetry, votes: !touches && Math.min(bw, bh) >= ADHERENCE_THRESHOLDS.minShapeExtent };
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

/** Continuity of the per-frame object track (see ADHERENCE_THRESHOLDS). */
function measureContinuity(perFrame: FrameMeasurement[]): ContinuityMeasurement {
  const T = ADHERENCE_THRESHOLDS;
  const found = perFrame.filter((f) => f.centroid !== null);
  const medianArea = found.length ? median(found.map((f) => f.area)) : 0;
  const medianContrast = found.length ? median(found.map((f) => f.contrast)) : 0;
  const present = perFrame.map((f) => f.centroid !== null && f.area >= T.minAreaOfMedian * medianArea && f.contrast >= T.minContrastOfMedian * medianContrast);
  const missingFrames = present.flatMap((p, t) => (p ? [] : [t]));
  const multiObjectFrames = perFrame.flatMap((f, t) => (f.centroid !== null && f.secondBlob >= T.secondBlobWeight ? [t] : []));
  const steps = perFrame.slice(1).map((f, i) => {
    const a = perFrame[i].centroid, b = f.centroid;
    return present[i] && present[i + 1] && a && b ? Math.hypot(b[0] - a[0], b[1] - a[1]) : null;
  });
  const measured = steps.filter((s): s is number => s !== null);
  const medianStep = measured.length ? median(measured) : 0;
  const floor = T.stepFloorOfRadius * Math.sqrt(medianArea / Math.PI);
  const maxStep = T.maxStepOfMedian * Math.max(medianStep, floor);
  const jumps = steps.flatMap((s, t) => (s !== null && s > maxStep ? [t] : []));
  return { missingFrames, multiObjectFrames, steps, medianStep, maxStep, jumps };
}

/** Measures background, object colour, shape, continuity and motion of a clip of rgb24 frames. */
export function measureClip(frames: readonly Uint8Array[], width: number, height: number, options: MeasureOptions = {}): ClipMeasurement {
  checkFrames(frames, width, height);
  const threshold = (options.maskThreshold ?? 0.25) * 255;
  const minPixels = options.minObjectPixels ?? Math.max(4, Math.round(ADHERENCE_THRESHOLDS.minObjectFraction * width * height));
  const coreFraction = options.coreFraction ?? 0.6;
  const ring = Math.max(1, Math.min(options.borderWidth ?? 2, Math.floor(Math.min(width, height) / 4)));
  const scale = width / DATASET_FRAME_SIZE;
  const minDisplacement = (options.minDisplacement ?? 4) * scale;
  const geometry = options.geometry ?? geometryForFrame(width, height);

  const n = width * height;
  const dist = new Float32Array(n);
  const mask = new Uint8Array(n);
  // each frame's core pixels vote; frames then count equally, so one frame with a large smeared
  // blob (decoders often get the first frame worst) cannot outvote the rest
  const votes = new Array<number>(COLOUR_NAMES.length + 1).fill(0); // + UNNAMED
  const frameColours: number[] = [];
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
    const blobs = components(mask, dist, width, height);
    const blob = blobs.length ? blobs[0].pixels : [];
    if (blob.length < minPixels) {
      perFrame.push({ background: bg, backgroundSpread: spread, centroid: null, area: 0, contrast: 0, secondBlob: 0, colour: null, fill: null, asymmetry: null, shape: null });
      continue;
    }
    const second = blobs.slice(1).find((b) => b.pixels.length >= minPixels);
    let sw = 0, sx = 0, sy = 0;
    for (const p of blob) {
      const w = dist[p];
      sw += w; sx += w * ((p % width) + 0.5); sy += w * (Math.floor(p / width) + 0.5);
    }

    // the core: pixels well inside the object, so edge blends with the background do not vote
    const ds = blob.map((p) => dist[p]).sort((a, b) => a - b);
    const p90 = ds[Math.min(ds.length - 1, Math.floor(0.9 * ds.length))];
    const coreMin = coreFraction * p90;
    const frameVotes = new Array<number>(votes.length).fill(0);
    let frameCore = 0;
    for (const p of blob) {
      if (dist[p] < coreMin) continue;
      const o = p * 3;
      frameVotes[colourVote(frame[o], frame[o + 1], frame[o + 2])]++;
      coreSum[0] += frame[o]; coreSum[1] += frame[o + 1]; coreSum[2] += frame[o + 2];
      frameCore++;
    }
    let frameTop = 0;
    for (let i = 0; i < votes.length; i++) {
      votes[i] += frameVotes[i] / frameCore;
      if (frameVotes[i] > frameVotes[frameTop]) frameTop = i;
    }
    frameColours.push(frameTop);
    coreCount += frameCore;
    votingFrames++;

    const { fill, asymmetry, votes: shapeVotes } = shapeFeatures(blob, dist, p90, width, height);
    perFrame.push({
      background: bg, backgroundSpread: spread, centroid: [sx / sw, sy / sw], area: blob.length, contrast: p90,
      secondBlob: second ? second.weight / blobs[0].weight : 0,
      colour: frameTop === UNNAMED ? null : COLOUR_NAMES[frameTop], fill, asymmetry, shape: shapeVotes ? shapeOf(fill, asymmetry) : null,
    });
  }

  const background: Rgb = [0, 1, 2].map((c) => median(perFrame.map((f) => f.background[c]))) as Rgb;
  const backgroundName = backgroundPalette.nearest(...background).name;
  const tracked = perFrame.map((f, t) => ({ t, c: f.centroid })).filter((e): e is { t: number; c: [number, number] } => e.c !== null);
  const backgroundSpread = median(perFrame.map((f) => f.backgroundSpread));
  const continuity = measureContinuity(perFrame);
  const base = { width, height, frames: perFrame, background, backgroundName, backgroundSpread, continuity, geometry: geometry.name };
  // motion needs two tracked frames; a one-frame clip (an image) still gets its colour
  if (tracked.length < Math.min(2, frames.length) || coreCount === 0) {
    return {
      ...base, objectFound: false, colour: null, colourShare: 0, colourStable: false, objectRgb: null, shape: null, fill: null, asymmetry: null,
      continuous: false, direction: 'none', velocity: [0, 0], displacement: [0, 0], speedPxPerFrame: 0, speed: null, area: 0, size: null,
    };
  }

  let top = 0;
  for (let i = 1; i < votes.length; i++) if (votes[i] > votes[top]) top = i;
  const colourStable = frameColours.filter((c) => c === top).length >= ADHERENCE_THRESHOLDS.colourStableShare * frameColours.length;

  const shapeFrames = perFrame.filter((f) => f.shape !== null);
  let shape: Shape | null = null, fill: number | null = null, asymmetry: number | null = null;
  if (shapeFrames.length) {
    fill = median(shapeFrames.map((f) => f.fill!));
    asymmetry = median(shapeFrames.map((f) => f.asymmetry!));
    const counts = SHAPES.map((s) => shapeFrames.filter((f) => f.shape === s).length);
    const most = Math.max(...counts);
    const leaders = SHAPES.filter((_, i) => counts[i] === most);
    shape = leaders.length === 1 ? leaders[0] : shapeOf(fill, asymmetry);
  }
  const continuous = continuity.missingFrames.length === 0 && continuity.multiObjectFrames.length === 0 && continuity.jumps.length === 0;

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
  // speed and size in the geometry's own pixels
  const geometryScale = width / geometry.frameSize;
  const speedThreshold = (geometry.speedPxPerFrame.slow + geometry.speedPxPerFrame.fast) / 2;
  const area = median(tracked.map((e) => perFrame[e.t].area));
  return {
    ...base,
    objectFound: true,
    colour: top === UNNAMED ? null : COLOUR_NAMES[top],
    colourShare: votes[top] / votingFrames,
    colourStable,
    objectRgb: coreSum.map((s) => s / coreCount) as Rgb,
    shape,
    fill,
    asymmetry,
    continuous,
    direction,
    velocity,
    displacement,
    speedPxPerFrame,
    speed: direction === 'none' ? null : speedPxPerFrame / geometryScale >= speedThreshold ? 'fast' : 'slow',
    area,
    size: area / (width * height) >= sizeAreaFraction(geometry) ? 'large' : 'small',
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
  /** Accuracy of a uniform random guess; null for continuity and colour stability, which no caption names. */
  chance: number | null;
}

export interface AdherenceScore {
  clips: number;
  colour: Accuracy;
  direction: Accuracy;
  /** Colour and direction both right. */
  joint: Accuracy;
  shape: Accuracy;
  /** One object in every frame, moving without jumps (every clip is expected to be continuous). */
  continuity: Accuracy;
  /** The same colour in (nearly) every frame. */
  colourStable: Accuracy;
  /**
   * Every attribute right: colour, direction and shape as captioned, continuous and colour-stable;
   * over the clips whose caption names colour, direction and shape. Its chance is that of the
   * three caption attributes, an upper bound (a guess must also be continuous and stable).
   */
  all: Accuracy;
  speed: Accuracy;
  size: Accuracy;
  background: Accuracy;
  /** Clips where no object was found. */
  noObject: number;
  /** Clips where an object was found but did not move. */
  static: number;
}

function accuracy(pairs: Array<[expected: string | null, measured: string | null]>, chance: number | null): Accuracy {
  const scored = pairs.filter(([e]) => e !== null);
  const correct = scored.filter(([e, m]) => e === m).length;
  return { correct, total: scored.length, accuracy: scored.length ? correct / scored.length : null, chance };
}

/** Measured against expected over many clips, with the chance level of each attribute. */
export function scoreAdherence(results: readonly AdherenceResult[]): AdherenceScore {
  const nColours = COLOUR_NAMES.length, nDirections = DIRECTIONS.length, nShapes = SHAPES.length;
  return {
    clips: results.length,
    colour: accuracy(results.map((r) => [r.expected.colour, r.measured.colour]), 1 / nColours),
    direction: accuracy(results.map((r) => [r.expected.direction, r.measured.direction]), 1 / nDirections),
    joint: accuracy(results.map((r) => {
      const e = r.expected;
      if (e.colour === null || e.direction === null) return [null, null];
      return ['both', e.colour === r.measured.colour && e.direction === r.measured.direction ? 'both' : 'not'];
    }), 1 / (nColours * nDirections)),
    shape: accuracy(results.map((r) => [r.expected.shape, r.measured.shape]), 1 / nShapes),
    continuity: accuracy(results.map((r) => ['yes', r.measured.continuous ? 'yes' : 'no']), null),
    colourStable: accuracy(results.map((r) => ['yes', r.measured.colourStable ? 'yes' : 'no']), null),
    all: accuracy(results.map((r) => {
      const e = r.expected, m = r.measured;
      if (e.colour === null || e.direction === null || e.shape === null) return [null, null];
      const right = e.colour === m.colour && e.direction === m.direction && e.shape === m.shape && m.continuous && m.colourStable;
      return ['all', right ? 'all' : 'not'];
    }), 1 / (nColours * nDirections * nShapes)),
    speed: accuracy(results.map((r) => [r.expected.speed, r.measured.speed]), 1 / 2),
    size: accuracy(results.map((r) => [r.expected.size, r.measured.size]), 1 / 2),
    background: accuracy(results.map((r) => [r.expected.background, r.measured.backgroundName]), 1 / 2),
    noObject: results.filter((r) => !r.measured.objectFound).length,
    static: results.filter((r) => r.measured.objectFound && r.measured.direction === 'none').length,
  };
}
