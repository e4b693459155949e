/**
 * Shape, continuity and colour stability of the adherence measurement, on clips rendered with the
 * dataset's signed-distance shapes in both geometries (tiny 64×64 × 9, v2 128×128 × 17), clean,
 * blurred and broken the ways issue 14 saw the demo model break (a blob fading out while a copy
 * fades in further along, two blobs, a colour change, frames without the object).
 */
import { describe, expect, it } from 'vitest';
import { measureClip, parseCaption, scoreAdherence, type ClipMeasurement } from '../../src/eval/adherence.js';
import {
  COLOUR_NAMES, DIRECTIONS, GEOMETRIES, SHAPES, type Size, type Speed,
} from '../../src/eval/adherence-vocabulary.js';
import { centredStart, renderClip, type SyntheticClip } from './adherence-render.js';

type GeometryName = keyof typeof GEOMETRIES;
const GEOMETRY_NAMES = Object.keys(GEOMETRIES) as GeometryName[];

function measure(c: SyntheticClip): ClipMeasurement {
  const { frames, width, height } = renderClip(c);
  return measureClip(frames, width, height);
}

/** A moving clip of `shape` in a geometry, centred like the DiT's training clips. */
function moving(geometry: GeometryName, over: Partial<SyntheticClip> = {}): SyntheticClip {
  const direction = over.direction ?? 'right';
  const size = over.size ?? 'large', speed = over.speed ?? 'slow';
  return {
    colour: 'blue', shape: 'circle', background: 'dark', geometry, size, speed, direction,
    start: centredStart(direction, size, speed, over.frames, geometry), ...over,
  };
}

/** Every shape × direction × size × speed of a geometry, colours and backgrounds in turn, nudged off the pixel grid. */
function grid(geometry: GeometryName, extra: Partial<SyntheticClip>): SyntheticClip[] {
  const out: SyntheticClip[] = [];
  let k = 0;
  for (const shape of SHAPES) for (const direction of DIRECTIONS) for (const size of ['small', 'large'] as Size[]) {
    const speed: Speed = k % 2 ? 'fast' : 'slow';
    const colour = COLOUR_NAMES[k % COLOUR_NAMES.length];
    const background = colour === 'white' || k % 3 ? 'dark' : 'light';
    const [x, y] = centredStart(direction, size, speed, undefined, geometry);
    out.push({ colour, shape, direction, size, speed, background, geometry, start: [x + (k * 0.37) % 1, y + (k * 0.61) % 1], seed: 7 + k, ...extra });
    k++;
  }
  return out;
}

function describeClip(c: SyntheticClip): string {
  return `${c.geometry} ${c.size} ${c.colour} ${c.shape} ${c.direction} ${c.speed} on ${c.background}`;
}

describe.each(GEOMETRY_NAMES)('the %s geometry', (geometry) => {
  it('measures shape, colour and direction of every clean clip right, continuous and colour-stable', () => {
    const wrong: string[] = [];
    const clips = grid(geometry, {});
    for (const c of clips) {
      const m = measure(c);
      const got = [m.shape, m.colour, m.direction, m.continuous, m.colourStable].join(' ');
      const want = [c.shape, c.colour, c.direction, true, true].join(' ');
      if (got !== want) wrong.push(`${describeClip(c)} -> ${got}`);
    }
    expect(clips).toHaveLength(24);
    expect(wrong).toEqual([]);
  });

  it.each([
    ['a 3×3 box blur', { boxBlur: 1, noise: 4 }, 1],
    ['a 5×5 box blur', { boxBlur: 2, noise: 4 }, 0.9],
    ['a Gaussian blur of σ 1.5 and a darker colour', { blur: 1.5, noise: 6, colourGain: 0.85 }, 0.9],
  ] as Array<[string, Partial<SyntheticClip>, number]>)('names the shape of clips under %s (at least the stated share), still continuous', (_, extra, share) => {
    const clips = grid(geometry, extra);
    const wrong: string[] = [];
    for (const c of clips) {
      const m = measure(c);
      if (m.shape !== c.shape) wrong.push(`${describeClip(c)} -> ${m.shape} (fill ${m.fill?.toFixed(2)}, asymmetry ${m.asymmetry?.toFixed(2)})`);
      expect(m.continuous, describeClip(c)).toBe(true);
      expect(m.colourStable, describeClip(c)).toBe(true);
    }
    expect(wrong.length, wrong.join('\n')).toBeLessThanOrEqual(Math.floor((1 - share) * clips.length));
  });

  const g = GEOMETRIES[geometry];
  const mid = g.frames >> 1;
  // a jump of one object size along the path: the copy appears ahead of where the first one faded
  const jump = 2 * g.halfExtent.large;

  it('fails continuity for a blob that fades out while a copy fades in further along, which colour and direction still call right', () => {
    const m = measure(moving(geometry, {
      colour: 'purple', shape: 'triangle', blur: 1, noise: 4,
      objects: (t, cx, cy) => (t < mid ? [{ cx, cy, alpha: t === mid - 1 ? 0.55 : 1 }] : [{ cx: cx + jump, cy, alpha: t === mid ? 0.55 : 1 }]),
    }));
    expect([m.colour, m.direction]).toEqual(['purple', 'right']);
    expect(m.continuous).toBe(false);
    expect(m.continuity.jumps).toEqual([mid - 1]);
    expect(m.continuity.missingFrames).toEqual([]);
  });

  it('fails continuity for a cross-fade: both copies partly there in one frame', () => {
    // a still object and a copy three half-extents to its right: apart, so two blobs (copies that
    // overlap are one blob, and only the centroid jump shows)
    const offset = 3 * g.halfExtent.small;
    const m = measure(moving(geometry, {
      colour: 'red', direction: 'none', size: 'small', blur: 1, noise: 4,
      objects: (t, cx, cy) => {
        if (t < mid) return [{ cx, cy }];
        if (t > mid) return [{ cx: cx + offset, cy }];
        return [{ cx, cy, alpha: 0.6 }, { cx: cx + offset, cy, alpha: 0.6 }];
      },
    }));
    expect(m.continuous).toBe(false);
    expect(m.continuity.multiObjectFrames).toEqual([mid]);
    expect(m.continuity.missingFrames).toEqual([]);
  });

  it('fails continuity for two blobs', () => {
    const m = measure(moving(geometry, {
      colour: 'green', size: 'small', blur: 1, noise: 4,
      objects: (_, cx, cy) => [{ cx, cy }, { cx, cy: cy + 3 * g.halfExtent.small }],
    }));
    expect(m.continuous).toBe(false);
    expect(m.continuity.multiObjectFrames).toHaveLength(g.frames);
  });

  it('fails continuity when frames have no object, or only a faded remnant of it', () => {
    const gone = measure(moving(geometry, { colour: 'yellow', background: 'light', blur: 1, noise: 4, objects: (t, cx, cy) => (t === 2 || t === 3 ? [] : [{ cx, cy }]) }));
    expect(gone.continuous).toBe(false);
    expect(gone.continuity.missingFrames).toEqual([2, 3]);
    expect(gone.direction).toBe('right');
    const faded = measure(moving(geometry, { colour: 'white', blur: 1, noise: 4, objects: (t, cx, cy) => [{ cx, cy, alpha: t === mid ? 0.2 : 1 }] }));
    expect(faded.continuity.missingFrames).toEqual([mid]);
    expect(faded.continuous).toBe(false);
  });

  it('fails colour stability for a purple object that turns red, and passes one odd frame in nine', () => {
    const turns = measure(moving(geometry, { colour: 'purple', blur: 1, noise: 4, objects: (t, cx, cy) => [{ cx, cy, colour: t >= mid ? 'red' : 'purple' }] }));
    expect(turns.continuous).toBe(true);
    expect(turns.colourStable).toBe(false);
    expect(turns.frames.map((f) => f.colour)).toEqual(Array.from({ length: g.frames }, (_, t) => (t >= mid ? 'red' : 'purple')));
    const oneOff = measure(moving(geometry, { colour: 'purple', blur: 1, noise: 4, frames: 9, objects: (t, cx, cy) => [{ cx, cy, colour: t === 0 ? 'blue' : 'purple' }] }));
    expect(oneOff.colourStable).toBe(true);
  });

  it('passes a static object with pixel noise (the step floor), and a fast one', () => {
    const still = measure(moving(geometry, { colour: 'red', direction: 'none', blur: 1, noise: 10 }));
    expect([still.direction, still.continuous]).toEqual(['none', true]);
    const fast = measure(moving(geometry, { colour: 'white', speed: 'fast', blur: 1, noise: 6 }));
    expect([fast.direction, fast.continuous, fast.continuity.jumps]).toEqual(['right', true, []]);
  });
});

describe('shape votes', () => {
  it('abstain while the object touches the frame edge, and the clip shape comes from the other frames', () => {
    // a square sliding in from the left edge
    const m = measure(moving('tiny', { shape: 'square', colour: 'yellow', size: 'large', speed: 'fast', start: [4, 32], blur: 1, noise: 4 }));
    expect(m.frames[0].shape).toBeNull();
    expect(m.shape).toBe('square');
  });
});

describe('scoreAdherence with shape, continuity and colour stability', () => {
  it('counts every attribute and "all" against chance', () => {
    const caption = 'a red circle moving right';
    const m = (over: Partial<ClipMeasurement>): ClipMeasurement => ({
      colour: 'red', direction: 'right', shape: 'circle', continuous: true, colourStable: true, objectFound: true,
      speed: null, size: null, backgroundName: 'dark', ...over,
    } as ClipMeasurement);
    const results = [
      m({}),
      m({ shape: 'square' }),
      m({ continuous: false }),
      m({ colourStable: false, colour: 'purple' }),
    ].map((measured) => ({ caption, expected: parseCaption(caption), measured }));
    const s = scoreAdherence(results);
    expect(s.shape).toEqual({ correct: 3, total: 4, accuracy: 0.75, chance: 1 / 3 });
    expect(s.continuity).toEqual({ correct: 3, total: 4, accuracy: 0.75, chance: null });
    expect(s.colourStable).toEqual({ correct: 3, total: 4, accuracy: 0.75, chance: null });
    expect(s.all).toEqual({ correct: 1, total: 4, accuracy: 0.25, chance: 1 / 72 });
    expect(s.joint).toMatchObject({ correct: 3, total: 4 });
    const shapeless = scoreAdherence([{ caption: 'a red thing moving right', expected: parseCaption('a red thing moving right'), measured: m({}) }]);
    expect(shapeless.all.total).toBe(0);
    expect(shapeless.shape.total).toBe(0);
  });
});
