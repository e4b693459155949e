/**
 * Synthetic clips for the adherence tests: the dataset's shapes (same signed distances as
 * training/dataset.py) moving in a straight line, then made to look like decoder output with a
 * Gaussian or box blur, a colour cast and seeded pixel noise. `objects` draws broken clips
 * (fades, jumps, two copies, colour changes, missing frames) instead of the one moving shape.
 */
import {
  BACKGROUNDS, COLOURS, DIRECTION_VECTORS, GEOMETRIES, SIZE_HALF_EXTENT, SPEED_PX_PER_FRAME,
  type Background, type Colour, type Direction, type Shape, type Size, type Speed,
} from '../../src/eval/adherence-vocabulary.js';

/** One object drawn in a frame: centre in output pixels, opacity, colour (default the clip's). */
export interface DrawnObject { cx: number; cy: number; alpha?: number; colour?: Colour }

export interface SyntheticClip {
  colour: Colour;
  shape: Shape;
  direction: Direction | 'none';
  size: Size;
  speed: Speed;
  background: Background;
  /** Start centre in dataset pixels (64×64 frame; the geometry's frame when `geometry` is set). */
  start: [number, number];
  frames?: number;
  /** Output side in pixels; geometry is scaled from 64. */
  side?: number;
  /** A dataset geometry: its frame size, frame count, half-extents and speeds, unscaled (overrides `side`). */
  geometry?: keyof typeof GEOMETRIES;
  /** Gaussian blur sigma in output pixels (0 = none). */
  blur?: number;
  /** Box blur: mean over a (2·boxBlur + 1)² square, in output pixels (0 = none). */
  boxBlur?: number;
  /** The objects of frame t, given the clip's own object centre there (default: that one object). */
  objects?: (t: number, cx: number, cy: number) => DrawnObject[];
  /** Std of the additive pixel noise, in 0–255 levels. */
  noise?: number;
  /** Multiplies the object colour (decoders often darken or wash out). */
  colourGain?: number;
  /** Mixes the object colour this far (0–1) toward the grey of the same mean, as washed-out decoders do. */
  washOut?: number;
  seed?: number;
  /** Extra speck: a few pixels of another colour at a fixed spot, to test blob selection. */
  speck?: { x: number; y: number; colour: Colour; radius: number };
}

function coverage(shape: Shape, px: number, py: number, cx: number, cy: number, r: number): number {
  const dx = px - cx, dy = py - cy;
  let d: number;
  if (shape === 'circle') d = Math.hypot(dx, dy) - r;
  else if (shape === 'square') d = Math.max(Math.abs(dx), Math.abs(dy)) - r * 0.85;
  else {
    const ys = dy + r * 0.15;
    d = Math.max(ys - r * 0.8, (-ys * 0.5 + dx * 0.866) - r * 0.55, (-ys * 0.5 - dx * 0.866) - r * 0.55);
  }
  return Math.min(1, Math.max(0, 0.5 - d));
}

/** Box–Muller normal draws from an LCG, so failures reproduce. */
function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function blurPlane(plane: Float32Array, side: number, sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(plane.length), out = new Float32Array(plane.length);
  const clamp = (v: number): number => Math.min(side - 1, Math.max(0, v));
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -radius; i <= radius; i++) s += k[i + radius] * plane[y * side + clamp(x + i)];
    tmp[y * side + x] = s / ks;
  }
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -radius; i <= radius; i++) s += k[i + radius] * tmp[clamp(y + i) * side + x];
    out[y * side + x] = s / ks;
  }
  return out;
}

function boxBlurPlane(plane: Float32Array, side: number, radius: number): Float32Array {
  const tmp = new Float32Array(plane.length), out = new Float32Array(plane.length);
  const clamp = (v: number): number => Math.min(side - 1, Math.max(0, v));
  const k = 2 * radius + 1;
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -radius; i <= radius; i++) s += plane[y * side + clamp(x + i)];
    tmp[y * side + x] = s / k;
  }
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    let s = 0;
    for (let i = -radius; i <= radius; i++) s += tmp[clamp(y + i) * side + x];
    out[y * side + x] = s / k;
  }
  return out;
}

export function renderClip(c: SyntheticClip): { frames: Uint8Array[]; width: number; height: number } {
  const g = c.geometry ? GEOMETRIES[c.geometry] : null;
  const side = g ? g.frameSize : c.side ?? 64;
  const scale = g ? 1 : side / 64;
  const count = c.frames ?? g?.frames ?? 9;
  const r = (g ? g.halfExtent[c.size] : SIZE_HALF_EXTENT[c.size]) * scale;
  const v = (g ? g.speedPxPerFrame[c.speed] : SPEED_PX_PER_FRAME[c.speed]) * scale;
  const [dx, dy] = c.direction === 'none' ? [0, 0] : DIRECTION_VECTORS[c.direction];
  const gain = c.colourGain ?? 1;
  const base = COLOURS[c.colour];
  const wash = c.washOut ?? 0;
  const tint = (rgb: readonly number[]): number[] => {
    const grey = (rgb[0] + rgb[1] + rgb[2]) / 3;
    return rgb.map((x) => Math.min(1, (x * (1 - wash) + grey * wash) * gain));
  };
  const fg = tint(base);
  const bg = BACKGROUNDS[c.background];
  const noise = normals(c.seed ?? 1);
  const frames: Uint8Array[] = [];
  for (let t = 0; t < count; t++) {
    const cx = c.start[0] * scale + dx * v * t, cy = c.start[1] * scale + dy * v * t;
    const drawn = c.objects ? c.objects(t, cx, cy) : [{ cx, cy }];
    const colours = drawn.map((o) => (o.colour ? tint(COLOURS[o.colour]) : fg));
    const planes = [0, 1, 2].map(() => new Float32Array(side * side));
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
      let col: readonly number[] = fg;
      let cov = 0;
      drawn.forEach((o, i) => {
        const m = coverage(c.shape, x + 0.5, y + 0.5, o.cx, o.cy, r) * (o.alpha ?? 1);
        if (m > cov) { cov = m; col = colours[i]; }
      });
      if (c.speck) {
        const ms = coverage('circle', x + 0.5, y + 0.5, c.speck.x * scale, c.speck.y * scale, c.speck.radius * scale);
        if (ms > cov) { cov = ms; col = COLOURS[c.speck.colour]; }
      }
      for (let ch = 0; ch < 3; ch++) planes[ch][y * side + x] = bg[ch] * (1 - cov) + col[ch] * cov;
    }
    const blurred = c.blur ? planes.map((p) => blurPlane(p, side, c.blur!)) : planes;
    const finished = c.boxBlur ? blurred.map((p) => boxBlurPlane(p, side, c.boxBlur!)) : blurred;
    const frame = new Uint8Array(side * side * 3);
    for (let p = 0; p < side * side; p++) for (let ch = 0; ch < 3; ch++) {
      const val = finished[ch][p] * 255 + (c.noise ?? 0) * noise();
      frame[p * 3 + ch] = Math.max(0, Math.min(255, Math.round(val)));
    }
    frames.push(frame);
  }
  return { frames, width: side, height: side };
}

/**
 * A start point that keeps the object inside the frame for the whole clip (mirrors
 * dataset.start_position, centred): in the 64×64 frame, or in the geometry's own frame.
 */
export function centredStart(direction: Direction | 'none', size: Size, speed: Speed, frames?: number, geometry: keyof typeof GEOMETRIES = 'tiny'): [number, number] {
  const g = GEOMETRIES[geometry];
  const r = g.halfExtent[size] + 1.5;
  const travel = g.speedPxPerFrame[speed] * ((frames ?? g.frames) - 1);
  const [dx, dy] = direction === 'none' ? [0, 0] : DIRECTION_VECTORS[direction];
  const axis = (d: number): number => {
    let lo = r, hi = g.frameSize - r;
    if (d > 0) hi -= travel;
    else if (d < 0) lo += travel;
    return (lo + hi) / 2;
  };
  return [axis(dx), axis(dy)];
}
