import { describe, expect, it } from 'vitest';
import {
  AdherenceInputError, measureClip, parseCaption, scoreAdherence, type AdherenceResult, type ClipMeasurement,
} from '../../src/eval/adherence.js';
import { LabPalette, rgbToLab } from '../../src/eval/adherence-colour.js';
import {
  BACKGROUND_NAMES, COLOURS, COLOUR_NAMES, DIRECTIONS, GEOMETRIES, HELD_OUT, SHAPES, heldOutCaptions,
  type Background, type Colour, type Direction, type Size, type Speed,
} from '../../src/eval/adherence-vocabulary.js';
import { centredStart, renderClip, type SyntheticClip } from './adherence-render.js';

function clip(over: Partial<SyntheticClip> & Pick<SyntheticClip, 'colour' | 'direction' | 'background'>): SyntheticClip {
  const size = over.size ?? 'large', speed = over.speed ?? 'slow';
  return { shape: 'circle', size, speed, start: centredStart(over.direction, size, speed), ...over };
}

function measure(c: SyntheticClip): ClipMeasurement {
  const { frames, width, height } = renderClip(c);
  return measureClip(frames, width, height);
}

describe('rgbToLab', () => {
  it('matches published CIELAB values for sRGB primaries and white', () => {
    const cases: Array<[[number, number, number], [number, number, number]]> = [
      [[255, 255, 255], [100, 0, 0]],
      [[255, 0, 0], [53.24, 80.09, 67.2]],
      [[0, 255, 0], [87.73, -86.18, 83.18]],
      [[0, 0, 255], [32.3, 79.19, -107.86]],
      [[0, 0, 0], [0, 0, 0]],
    ];
    for (const [rgb, lab] of cases) {
      const got = rgbToLab(...rgb);
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(lab[i], 0);
    }
  });

  it('names every palette colour as itself, and a darkened purple still purple', () => {
    const palette = new LabPalette(COLOURS);
    for (const name of COLOUR_NAMES) {
      const [r, g, b] = COLOURS[name];
      expect(palette.nearest(r * 255, g * 255, b * 255)).toEqual({ name, deltaE94: expect.closeTo(0, 6) });
    }
    expect(palette.nearest(0.62 * 180, 0.18 * 180, 0.85 * 180).name).toBe('purple');
  });
});

describe('measureClip on synthetic decoder-like clips', () => {
  const speeds: Speed[] = ['slow', 'fast'];
  const sizes: Size[] = ['small', 'large'];
  const cases: SyntheticClip[] = [];
  let k = 0;
  for (const colour of COLOUR_NAMES) for (const direction of DIRECTIONS) for (const background of BACKGROUND_NAMES) {
    if (colour === 'white' && background === 'light') continue; // never in the dataset
    const size = sizes[k % 2], speed = speeds[(k >> 1) % 2];
    cases.push({
      colour, direction, background, size, speed, shape: SHAPES[k % 3], start: centredStart(direction, size, speed),
      blur: 1.0, noise: 6, colourGain: k % 3 === 0 ? 0.85 : 1, seed: 100 + k,
    });
    k++;
  }

  it(`measures colour, direction, speed, size and background of all ${cases.length} combinations`, () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const m = measure(c);
      const got = [m.colour, m.direction, m.speed, m.size, m.backgroundName].join(' ');
      const want = [c.colour, c.direction, c.speed, c.size, c.background].join(' ');
      if (got !== want) wrong.push(`${want} (${c.shape}) -> ${got}`);
    }
    expect(wrong).toEqual([]);
  });

  it('recovers the centroid track and speed in pixels per frame', () => {
    const c = clip({ colour: 'blue', direction: 'right', background: 'dark', speed: 'fast', blur: 1, noise: 4 });
    const m = measure(c);
    expect(m.velocity[0]).toBeCloseTo(4, 0);
    expect(Math.abs(m.velocity[1])).toBeLessThan(0.2);
    expect(m.displacement[0]).toBeCloseTo(32, -1);
    const first = m.frames[0].centroid!;
    expect(first[0]).toBeCloseTo(c.start[0], 0);
    expect(first[1]).toBeCloseTo(c.start[1], 0);
    expect(m.colourShare).toBeGreaterThan(0.9);
  });

  it("reports 'none' for a static object but still names its colour", () => {
    const m = measure(clip({ colour: 'yellow', direction: 'none', background: 'light', blur: 1, noise: 6 }));
    expect(m.objectFound).toBe(true);
    expect(m.colour).toBe('yellow');
    expect(m.direction).toBe('none');
    expect(m.speed).toBeNull();
    expect(m.speedPxPerFrame).toBeLessThan(0.3);
  });

  it('reports a flat background as flat and a textured one as not', () => {
    const flat = measure(clip({ colour: 'red', direction: 'left', background: 'light', blur: 1, noise: 6 }));
    expect(flat.backgroundSpread).toBeLessThan(0.05);
    const side = 64;
    const textured = Array.from({ length: 9 }, (_, t) => {
      const f = new Uint8Array(side * side * 3);
      for (let p = 0; p < side * side; p++) {
        const x = p % side, y = Math.floor(p / side);
        const v = 128 + 100 * Math.sin(x / 3 + t) * Math.cos(y / 4);
        f[p * 3] = v; f[p * 3 + 1] = 255 - v; f[p * 3 + 2] = 128;
      }
      return f;
    });
    expect(measureClip(textured, side, side).backgroundSpread).toBeGreaterThan(0.2);
  });

  it('finds no object in a clip of background and noise', () => {
    const m = measure(clip({ colour: 'red', direction: 'up', background: 'dark', noise: 8, size: 'small', start: [-100, -100] }));
    expect(m.objectFound).toBe(false);
    expect(m.colour).toBeNull();
    expect(m.direction).toBe('none');
    expect(m.backgroundName).toBe('dark');
  });

  it('names washed-out, darkened decoder colours by their hue', () => {
    const wrong: string[] = [];
    for (const colour of COLOUR_NAMES) for (const background of BACKGROUND_NAMES) {
      if (colour === 'white' && background === 'light') continue;
      for (const [washOut, colourGain] of [[0.5, 1], [0.35, 0.7], [0.2, 1.15]]) {
        const m = measure(clip({ colour, direction: 'right', background, washOut, colourGain, blur: 1.2, noise: 6 }));
        if (m.colour !== colour) wrong.push(`${colour} on ${background} wash ${washOut} gain ${colourGain} -> ${m.colour}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names no palette colour for a dark grey object, but still tracks it', () => {
    const { frames, width, height } = renderClip(clip({ colour: 'white', colourGain: 0.33, direction: 'down', background: 'light', blur: 1, noise: 4 }));
    const m = measureClip(frames, width, height);
    expect([m.objectFound, m.colour, m.direction]).toEqual([true, null, 'down']);
  });

  it('gives every frame one vote, so a large smeared first frame does not decide the colour', () => {
    const { frames, width, height } = renderClip(clip({ colour: 'red', direction: 'up', background: 'dark', size: 'small', blur: 1, noise: 4 }));
    const [pr, pg, pb] = COLOURS.purple.map((v) => Math.round(v * 255));
    for (let y = 6; y < 46; y++) for (let x = 8; x < 48; x++) {
      const o = (y * width + x) * 3;
      frames[0][o] = pr; frames[0][o + 1] = pg; frames[0][o + 2] = pb;
    }
    const m = measureClip(frames, width, height);
    expect(m.frames[0].area).toBeGreaterThan(1500);
    expect(m.colour).toBe('red');
    expect(m.colourShare).toBeCloseTo(8 / 9, 1);
  });

  it('ignores a small static speck of another colour', () => {
    const m = measure(clip({
      colour: 'green', direction: 'down', background: 'dark', blur: 0.8, noise: 5,
      speck: { x: 56, y: 8, colour: 'white', radius: 1.5 },
    }));
    expect(m.colour).toBe('green');
    expect(m.direction).toBe('down');
  });

  it('scales the speed and size thresholds of a geometry with the frame size', () => {
    const { frames, width, height } = renderClip(clip({ colour: 'purple', direction: 'left', background: 'light', side: 128, speed: 'fast', size: 'small', blur: 1.5, noise: 6 }));
    const m = measureClip(frames, width, height, { geometry: GEOMETRIES.tiny });
    expect([m.colour, m.direction, m.speed, m.size, m.geometry]).toEqual(['purple', 'left', 'fast', 'small', 'tiny']);
    expect(m.velocity[0]).toBeCloseTo(-8, 0);
  });

  it('judges a 128×128 clip by the v2 geometry: its sizes and speeds in its own pixels', () => {
    const wrong: string[] = [];
    for (const size of ['small', 'large'] as Size[]) for (const speed of ['slow', 'fast'] as Speed[]) for (const shape of SHAPES) {
      const c: SyntheticClip = {
        colour: 'green', shape, direction: 'down', background: 'dark', size, speed, geometry: 'v2',
        start: centredStart('down', size, speed, undefined, 'v2'), blur: 1.5, noise: 6,
      };
      const m = measure(c);
      const got = [m.geometry, m.frames.length, m.speed, m.size].join(' ');
      if (got !== `v2 17 ${speed} ${size}`) wrong.push(`${shape} ${size} ${speed} -> ${got}`);
    }
    expect(wrong).toEqual([]);
  });

  it('names the colour of a one-frame clip and reports no motion', () => {
    const { frames, width, height } = renderClip(clip({ colour: 'green', direction: 'none', background: 'light', frames: 1, blur: 1, noise: 4 }));
    const m = measureClip(frames, width, height);
    expect([m.objectFound, m.colour, m.direction]).toEqual([true, 'green', 'none']);
  });

  it('rejects frames of the wrong length with a message naming the fix', () => {
    expect(() => measureClip([new Uint8Array(10)], 64, 64)).toThrow(AdherenceInputError);
    expect(() => measureClip([new Uint8Array(10)], 64, 64)).toThrow(/rgb24/);
    expect(() => measureClip([], 64, 64)).toThrow(/no frames/);
  });
});

describe('parseCaption', () => {
  it('reads the plain held-out captions', () => {
    const captions = heldOutCaptions();
    expect(captions).toHaveLength(8);
    expect(captions[0]).toBe('a red circle moving right');
    captions.forEach((c, i) => {
      expect(parseCaption(c)).toEqual({ ...HELD_OUT[i], speed: null, size: null, background: null, unknownWords: [] });
    });
  });

  it('reads every variant the dataset grammar produces', () => {
    const verbs = ['moving', 'moves', 'sliding', 'going'];
    const speedWords: Array<[string, Speed | null]> = [['', null], ['quickly', 'fast'], ['fast', 'fast'], ['slowly', 'slow'], ['slow', 'slow']];
    let n = 0;
    for (const verb of verbs) for (const toThe of [false, true]) for (const [speedWord, speed] of speedWords)
      for (const size of [null, 'small', 'large'] as Array<Size | null>) for (const background of [null, 'dark', 'light'] as Array<Background | null>) {
        const direction: Direction = toThe ? 'left' : 'up';
        const words = ['a', ...(size ? [size] : []), 'white', 'triangle', verb, ...(toThe ? ['to', 'the'] : []), direction,
          ...(speedWord ? [speedWord] : []), ...(background ? ['on', 'a', background, 'background'] : [])];
        expect(parseCaption(words.join(' '))).toEqual({
          colour: 'white', shape: 'triangle', direction, speed, size, background, unknownWords: [],
        });
        n++;
      }
    expect(n).toBe(360);
    expect(parseCaption('a small blue square moves up quickly on a dark background')).toEqual({
      colour: 'blue', shape: 'square', direction: 'up', speed: 'fast', size: 'small', background: 'dark', unknownWords: [],
    });
  });

  it('leaves attributes it does not know null and lists the unknown words', () => {
    expect(parseCaption('A pink hexagon drifting diagonally, on a light background.')).toEqual({
      colour: null, shape: null, direction: null, speed: null, size: null, background: 'light',
      unknownWords: ['pink', 'hexagon', 'drifting', 'diagonally'],
    });
    expect(parseCaption('a red constructor moving tostring').unknownWords).toEqual(['constructor', 'tostring']);
  });
});

describe('scoreAdherence', () => {
  function result(caption: string, colour: Colour | null, direction: Direction | 'none', extra: Partial<ClipMeasurement> = {}): AdherenceResult {
    const measured = {
      colour, direction, objectFound: colour !== null, speed: null, size: null, backgroundName: 'dark', ...extra,
    } as ClipMeasurement;
    return { caption, expected: parseCaption(caption), measured };
  }

  it('counts colour, direction and joint hits against chance', () => {
    const s = scoreAdherence([
      result('a red circle moving right', 'red', 'right'),
      result('a red circle moving right', 'red', 'left'),
      result('a blue square moving up', 'purple', 'up'),
      result('a blue square moving up', null, 'none'),
      result('a green square moving left quickly on a light background', 'green', 'left', { speed: 'fast', backgroundName: 'light' }),
      result('a yellow circle moving down', 'yellow', 'none'),
    ]);
    expect(s.clips).toBe(6);
    expect(s.colour).toEqual({ correct: 4, total: 6, accuracy: 4 / 6, chance: 1 / 6 });
    expect(s.direction).toEqual({ correct: 3, total: 6, accuracy: 3 / 6, chance: 1 / 4 });
    expect(s.joint).toEqual({ correct: 2, total: 6, accuracy: 2 / 6, chance: 1 / 24 });
    expect(s.speed).toEqual({ correct: 1, total: 1, accuracy: 1, chance: 1 / 2 });
    expect(s.background).toEqual({ correct: 1, total: 1, accuracy: 1, chance: 1 / 2 });
    expect(s.size).toEqual({ correct: 0, total: 0, accuracy: null, chance: 1 / 2 });
    expect(s.noObject).toBe(1);
    expect(s.static).toBe(1);
  });

  it('leaves captions without a colour out of the colour and joint totals', () => {
    const s = scoreAdherence([result('a thing moving left', 'red', 'left')]);
    expect(s.colour.total).toBe(0);
    expect(s.colour.accuracy).toBeNull();
    expect(s.joint.total).toBe(0);
    expect(s.direction).toMatchObject({ correct: 1, total: 1 });
  });
});
