/**
 * Draws a schedule as a PNG heatmap: one row per step (first step on top), one column per
 * layer, coloured by the share of tokens recomputed (dark = reused, bright = dense), with a
 * legend strip underneath labelled in percent.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { Schedule } from './schedule.js';

type Rgb = [number, number, number];

/** A few viridis stops; linear interpolation between them. */
const STOPS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function levelColour(level: number): Rgb {
  const x = Math.min(1, Math.max(0, level)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c]))) as Rgb;
}

/** 3×5 bitmap digits and '%', enough to label the legend without a font dependency. */
const GLYPHS: Record<string, string[]> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '010', '010', '010'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '%': ['101', '001', '010', '100', '101'],
};

class Canvas {
  readonly png: PNG;
  constructor(width: number, height: number, background: Rgb) {
    this.png = new PNG({ width, height });
    this.fill(0, 0, width, height, background);
  }
  fill(x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb): void {
    const { width, height, data } = this.png;
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++)
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) {
        const o = (y * width + x) * 4;
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
        data[o + 3] = 255;
      }
  }
  text(x: number, y: number, s: string, scale: number, colour: Rgb): void {
    for (const ch of s) {
      const glyph = GLYPHS[ch];
      if (glyph) glyph.forEach((row, gy) => [...row].forEach((bit, gx) => bit === '1' && this.fill(x + gx * scale, y + gy * scale, scale, scale, colour)));
      x += 4 * scale;
    }
  }
}

export interface DrawOptions {
  /** Pixels per cell; default chosen so the heatmap is roughly 400–800 px wide. */
  cell?: { width: number; height: number };
}

/** Renders the heatmap into a PNG buffer. */
export function renderSchedulePng(schedule: Schedule, options: DrawOptions = {}): Buffer {
  const steps = schedule.table.length;
  const layers = schedule.model.layers;
  const cw = options.cell?.width ?? Math.max(4, Math.min(32, Math.floor(640 / layers)));
  const ch = options.cell?.height ?? Math.max(3, Math.min(24, Math.floor(480 / steps)));
  const margin = 8;
  const scale = 2;
  const swatch = 36;
  const legendH = swatch / 2 + 5 * scale + 6;
  const heatW = layers * cw;
  const legendW = schedule.levels.length * (swatch + 4);
  const width = Math.max(heatW, legendW) + 2 * margin;
  const height = steps * ch + 2 * margin + margin + legendH;
  const canvas = new Canvas(width, height, [255, 255, 255]);
  schedule.table.forEach((row, t) => row.forEach((v, l) => canvas.fill(margin + l * cw, margin + t * ch, cw, ch, levelColour(v))));
  // thin separators between steps when cells are tall enough to show them
  if (ch >= 6) for (let t = 1; t < steps; t++) canvas.fill(margin, margin + t * ch, heatW, 1, [255, 255, 255]);
  const ly = margin + steps * ch + margin;
  schedule.levels.forEach((v, i) => {
    const x = margin + i * (swatch + 4);
    canvas.fill(x, ly, swatch, swatch / 2, levelColour(v));
    canvas.text(x, ly + swatch / 2 + 4, `${Math.round(v * 100)}%`, scale, [0, 0, 0]);
  });
  return PNG.sync.write(canvas.png);
}

/** Writes the heatmap PNG to `file` (temporary name, then rename). */
export async function drawSchedule(schedule: Schedule, file: string, options: DrawOptions = {}): Promise<void> {
  const bytes = renderSchedulePng(schedule, options);
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, file);
}
