/**
 * Synthetic clips for the adherence tests: the dataset's shapes (same signed distances as
 * training/dataset.py) moving in a straight line, then made to look like decoder output with a
 * Gaussian blur, a colour cast and seeded pixel noise.
 */
import {
  BACKGROUNDS, COLOURS, DIRECTION_VECTORS, SIZE_HALF_EXTENT, SPEED_PX_PER_FRAME,
  type Background, type Colour, type Direction, type Shape, type Size, type Speed,
} from '../../src/eval/adherence-vocabulary.js';

export interface SyntheticClip {
  colour: Colour;
  shape: Shape;
  direction: Direction | 'none';
  size: Size;
  speed: Speed;
  background: Background;
  /** Start centre in dataset pixels (64×64 frame). */
  start: [number, number];
  frames?: number;
  /** Output side in pixels; geometry is scaled from 64. */
  side?: number;
  /** Gaussian blur sigma in output pixels (0 = none). */
  blur?: number;
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

export function renderClip(c: SyntheticClip): { frames: Uint8Array[]; width: number; height: number } {
  const side = c.side ?? 64;
  const scale = side / 64;
  const count = c.frames ?? 9;
  const r = SIZE_HALF_EXTENT[c.size] * scale;
  const v = SPEED_PX_PER_FRAME[c.speed] * scale;
  const [dx, dy] = c.direction === 'none' ? [0, 0] : DIRECTION_VECTORS[c.direction];
  const gain = c.colourGain ?? 1;
  const base = COLOURS[c.colour];
  const grey = (base[0] + base[1] + base[2]) / 3, wash = c.washOut ?? 0;
  const fg = base.map((x) => Math.min(1, (x * (1 - wash) + grey * wash) * gain));
  const bg = BACKGROUNDS[c.background];
  const noise = normals(c.seed ?? 1);
  const frames: Uint8Array[] = [];
  for (let t = 0; t < count; t++) {
    const cx = c.start[0] * scale + dx * v * t, cy = c.start[1] * scale + dy * v * t;
    const planes = [0, 1, 2].map(() => new Float32Array(side * side));
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
      const m = coverage(c.shape, x + 0.5, y + 0.5, cx, cy, r);
      let col: readonly number[] = fg;
      let cov = m;
      if (c.speck) {
        const ms = coverage('circle', x + 0.5, y + 0.5, c.speck.x * scale, c.speck.y * scale, c.speck.radius * scale);
        if (ms > cov) { cov = ms; col = COLOURS[c.speck.colour]; }
      }
      for (let ch = 0; ch < 3; ch++) planes[ch][y * side + x] = bg[ch] * (1 - cov) + col[ch] * cov;
    }
    const finished = c.blur ? planes.map((p) => blurPlane(p, side, c.blur!)) : planes;
    const frame = new Uint8Array(side * side * 3);
    for (let p = 0; p < side * side; p++) for (let ch = 0; ch < 3; ch++) {
      const val = finished[ch][p] * 255 + (c.noise ?? 0) * noise();
      frame[p * 3 + ch] = Math.max(0, Math.min(255, Math.round(val)));
    }
    frames.push(frame);
  }
  return { frames, width: side, height: side };
}

/** A start point that keeps the object inside the 64×64 frame for the whole clip (mirrors dataset.start_position, centred). */
export function centredStart(direction: Direction | 'none', size: Size, speed: Speed, frames = 9): [number, number] {
  const r = SIZE_HALF_EXTENT[size] + 1.5;
  const travel = SPEED_PX_PER_FRAME[speed] * (frames - 1);
  const [dx, dy] = direction === 'none' ? [0, 0] : DIRECTION_VECTORS[direction];
  const axis = (d: number): number => {
    let lo = r, hi = 64 - r;
    if (d > 0) hi -= travel;
    else if (d < 0) lo += travel;
    return (lo + hi) / 2;
  };
  return [axis(dx), axis(dy)];
}
