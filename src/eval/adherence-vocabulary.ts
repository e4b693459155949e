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

/** Object half-extent in pixels at the dataset's 64×64. */
export const SIZE_HALF_EXTENT: Record<Size, number> = { small: 6.5, large: 11 };
/** Pixels per frame. */
export const SPEED_PX_PER_FRAME: Record<Speed, number> = { slow: 2, fast: 4 };
/** The dataset's clip size; the size thresholds below are in pixels of this frame. */
export const DATASET_FRAME_SIZE = 64;
/**
 * Object area (pixels at 64×64) splitting small from large: the largest small object (circle,
 * ~133 px) and the smallest large one (triangle, ~252 px) are on either side of it.
 */
export const SIZE_AREA_THRESHOLD = 185;

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
