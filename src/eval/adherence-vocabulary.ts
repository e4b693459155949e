/**
 * The demo model's procedural dataset as the adherence check needs it: the palette, the
 * attribute words of the caption grammar, and the held-out (colour, shape, direction) triples.
 * Ground truth is `training/dataset.py`; these values mirror it (colours are its float RGB
 * values, which the renderer writes straight to pixels, so ×255 gives the byte values).
 */

export const COLOURS = {
  red: [0.92, 0.12, 0.10],
  green: [0.10, 0.78, 0.15],
  blue: [0.15, 0.30, 1.00],
  yellow: [0.98, 0.90, 0.10],
  white: [0.97, 0.97, 0.97],
  purple: [0.62, 0.18, 0.85],
} as const satisfies Record<string, readonly [number, number, number]>;

export const BACKGROUNDS = {
  dark: [0.07, 0.07, 0.10],
  light: [0.78, 0.78, 0.74],
} as const satisfies Record<string, readonly [number, number, number]>;

export type Colour = keyof typeof COLOURS;
export type Background = keyof typeof BACKGROUNDS;
export type Shape = 'circle' | 'square' | 'triangle';
export type Direction = 'left' | 'right' | 'up' | 'down';
export type Size = 'small' | 'large';
export type Speed = 'slow' | 'fast';

export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];
export const BACKGROUND_NAMES = Object.keys(BACKGROUNDS) as Background[];
export const SHAPES: readonly Shape[] = ['circle', 'square', 'triangle'];
export const DIRECTIONS: readonly Direction[] = ['left', 'right', 'up', 'down'];
export const SIZES: readonly Size[] = ['small', 'large'];
export const SPEEDS: readonly Speed[] = ['slow', 'fast'];

/** Unit motion per direction; y grows downwards, as in image rows. */
export const DIRECTION_VECTORS: Record<Direction, readonly [number, number]> = {
  right: [1, 0], left: [-1, 0], up: [0, -1], down: [0, 1],
};

/**
 * The dataset's clip geometries (training/dataset.py GEOMETRIES, selected there by env
 * DEMO_GEOMETRY): 'tiny' is the shipped 64×64 × 9 model's, 'v2' the 128×128 × 17 one with
 * bigger shapes. Object sizes and speeds are in pixels of the geometry's own frame.
 */
export interface DatasetGeometry {
  name: string;
  frameSize: number;
  frames: number;
  /** Object half-extent in pixels. */
  halfExtent: Record<Size, number>;
  /** Pixels per frame. */
  speedPxPerFrame: Record<Speed, number>;
}

export const GEOMETRIES: Readonly<Record<'tiny' | 'v2', DatasetGeometry>> = {
  tiny: { name: 'tiny', frameSize: 64, frames: 9, halfExtent: { small: 6.5, large: 11 }, speedPxPerFrame: { slow: 2, fast: 4 } },
  // speeds as in the tiny geometry: 16 steps of 4 px keep the large shape's whole path inside 128 px
  v2: { name: 'v2', frameSize: 128, frames: 17, halfExtent: { small: 12, large: 18 }, speedPxPerFrame: { slow: 2, fast: 4 } },
};

/**
 * The geometry a clip of this size was most likely made with: the one of the same frame size,
 * else the tiny one (scaled to the frame by the measurement, as a resized tiny clip would be).
 */
export function geometryForFrame(width: number, height: number): DatasetGeometry {
  const side = Math.min(width, height);
  return Object.values(GEOMETRIES).find((g) => g.frameSize === side) ?? GEOMETRIES.tiny;
}

/** Object half-extent in pixels at the dataset's 64×64 (the tiny geometry). */
export const SIZE_HALF_EXTENT: Record<Size, number> = GEOMETRIES.tiny.halfExtent;
/** Pixels per frame (the tiny geometry). */
export const SPEED_PX_PER_FRAME: Record<Speed, number> = GEOMETRIES.tiny.speedPxPerFrame;
/** The tiny geometry's clip size. */
export const DATASET_FRAME_SIZE = GEOMETRIES.tiny.frameSize;

/**
 * Area (in pixels of the geometry's frame) of the three shapes at a half-extent, from the
 * signed distances of dataset.py `_mask`: circle πr², square (1.7r)², triangle ≈ 2.084r².
 */
export function shapeAreas(halfExtent: number): Record<Shape, number> {
  return { circle: Math.PI * halfExtent ** 2, square: (1.7 * halfExtent) ** 2, triangle: 2.084 * halfExtent ** 2 };
}

/**
 * Object area splitting small from large, as a fraction of the frame's area: the geometric mean
 * of the largest small object and the smallest large one of the geometry (at 64×64: ~133 px and
 * ~252 px, split at ~183 px; at 128×128 v2: ~452 px and ~675 px, split at ~552 px).
 */
export function sizeAreaFraction(g: DatasetGeometry): number {
  const small = Math.max(...Object.values(shapeAreas(g.halfExtent.small)));
  const large = Math.min(...Object.values(shapeAreas(g.halfExtent.large)));
  return Math.sqrt(small * large) / (g.frameSize * g.frameSize);
}

/** Object area (pixels at 64×64, tiny geometry) splitting small from large. */
export const SIZE_AREA_THRESHOLD = sizeAreaFraction(GEOMETRIES.tiny) * DATASET_FRAME_SIZE ** 2;

export interface HeldOutTriple {
  colour: Colour;
  shape: Shape;
  direction: Direction;
}

/** Combinations never seen in training (dataset.py HELD_OUT). */
export const HELD_OUT: readonly HeldOutTriple[] = [
  { colour: 'red', shape: 'circle', direction: 'right' },
  { colour: 'green', shape: 'square', direction: 'left' },
  { colour: 'blue', shape: 'triangle', direction: 'up' },
  { colour: 'yellow', shape: 'circle', direction: 'down' },
  { colour: 'white', shape: 'square', direction: 'up' },
  { colour: 'purple', shape: 'triangle', direction: 'right' },
  { colour: 'red', shape: 'triangle', direction: 'down' },
  { colour: 'blue', shape: 'circle', direction: 'left' },
];

/** The plain caption the dataset builds for a triple (`caption(c, s, d)` with no options). */
export function plainCaption(t: HeldOutTriple): string {
  return `a ${t.colour} ${t.shape} moving ${t.direction}`;
}

export function heldOutCaptions(): string[] {
  return HELD_OUT.map(plainCaption);
}
