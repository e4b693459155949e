/**
 * Draws a schedule as a PNG a person can read (issue 19, item 5): a title (model, steps and
 * solver, provenance and budget, reuse kind, FLOPs ratio, method, date), then a heatmap with one
 * row per step (first step on top, numbered on the left) and one column per layer (numbered
 * underneath), coloured by the share of tokens recomputed (dark = reused, bright = dense),
 * and a legend of the levels in percent with a caption.
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

/** A 3×5 bitmap font (digits, capitals, a little punctuation): labels without a font dependency. Text is drawn upper-case. */
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
  A: ['010', '101', '111', '101', '101'],
  B: ['110', '101', '110', '101', '110'],
  C: ['011', '100', '100', '100', '011'],
  D: ['110', '101', '101', '101', '110'],
  E: ['111', '100', '110', '100', '111'],
  F: ['111', '100', '110', '100', '100'],
  G: ['011', '100', '101', '101', '011'],
  H: ['101', '101', '111', '101', '101'],
  I: ['111', '010', '010', '010', '111'],
  J: ['001', '001', '001', '101', '010'],
  K: ['101', '101', '110', '101', '101'],
  L: ['100', '100', '100', '100', '111'],
  M: ['101', '111', '111', '101', '101'],
  N: ['110', '101', '101', '101', '101'],
  O: ['010', '101', '101', '101', '010'],
  P: ['110', '101', '110', '100', '100'],
  Q: ['010', '101', '101', '110', '011'],
  R: ['110', '101', '110', '101', '101'],
  S: ['011', '100', '010', '001', '110'],
  T: ['111', '010', '010', '010', '010'],
  U: ['101', '101', '101', '101', '111'],
  V: ['101', '101', '101', '101', '010'],
  W: ['101', '101', '111', '111', '101'],
  X: ['101', '101', '010', '101', '101'],
  Y: ['101', '101', '010', '010', '010'],
  Z: ['111', '001', '010', '100', '111'],
  '.': ['000', '000', '000', '000', '010'],
  ',': ['000', '000', '000', '010', '100'],
  ':': ['000', '010', '000', '010', '000'],
  '-': ['000', '000', '111', '000', '000'],
  '+': ['000', '010', '111', '010', '000'],
  '=': ['000', '111', '000', '111', '000'],
  '(': ['001', '010', '010', '010', '001'],
  ')': ['100', '010', '010', '010', '100'],
  '/': ['001', '001', '010', '100', '100'],
  '×': ['000', '101', '010', '101', '000'],
  "'": ['010', '010', '000', '000', '000'],
  '>': ['100', '010', '001', '010', '100'],
  '<': ['001', '010', '100', '010', '001'],
};

/** Width in pixels of `s` drawn at `scale` (4 columns a character). */
export function textWidth(s: string, scale: number): number {
  return s.length * 4 * scale - scale;
}

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
    for (const ch of s.toUpperCase()) {
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

/** Where the parts of the picture are, in pixels (also for tests). */
export interface ScheduleLayout {
  width: number;
  height: number;
  cell: { width: number; height: number };
  /** Top-left corner of the heatmap (step 1, layer 1). */
  heat: { x: number; y: number };
  /** Top-left corner of each legend swatch, one per level in order. */
  swatches: { x: number; y: number; width: number; height: number }[];
  titleLines: string[];
}

const SCALE = 2;
const LINE = 7 * SCALE;

/** The title lines: model, steps and solver, what made it, the FLOPs ratio, when. */
export function scheduleTitle(schedule: Schedule, maxChars = 96): string[] {
  const p = schedule.provenance;
  const cut = (t: string): string => (t.length > maxChars ? `${t.slice(0, maxChars - 3)}...` : t);
  return [
    `${schedule.model.id}: ${schedule.sampling.steps} steps ${schedule.sampling.solver}, ${schedule.model.layers} layers`,
    `${p.kind}${p.budget !== undefined ? ` at budget ${p.budget}` : ''}, reuse ${schedule.reuse}: FLOPs ${(schedule.flopsRatio * 100).toFixed(1)}% of dense`,
    cut(`method: ${p.method}`),
    `created ${p.created.slice(0, 10)}`,
  ].map(cut);
}

export function scheduleLayout(schedule: Schedule, options: DrawOptions = {}): ScheduleLayout {
  const steps = schedule.table.length;
  const layers = schedule.model.layers;
  const cw = options.cell?.width ?? Math.max(4, Math.min(32, Math.floor(640 / layers)));
  const ch = options.cell?.height ?? Math.max(3, Math.min(24, Math.floor(480 / steps)));
  const margin = 10;
  const titleLines = scheduleTitle(schedule);
  const axisW = textWidth(String(steps), SCALE) + 8; // step numbers left of the rows
  const heat = { x: margin + Math.max(axisW, textWidth('STEP', SCALE) + 4), y: margin + titleLines.length * LINE + 8 + LINE };
  const heatW = layers * cw;
  const swatch = 36;
  const legendY = heat.y + steps * ch + 6 + LINE + LINE + 10;
  const swatches = schedule.levels.map((_, i) => ({ x: heat.x + i * (swatch + 4), y: legendY + LINE, width: swatch, height: swatch / 2 }));
  const legendCaption = 'share of tokens recomputed (0% = reused from cache, 100% = dense)';
  const width = margin + Math.max(heat.x - margin + heatW, heat.x - margin + schedule.levels.length * (swatch + 4), heat.x - margin + textWidth(legendCaption, SCALE), ...titleLines.map((t) => textWidth(t, SCALE))) + margin;
  const height = legendY + LINE + swatch / 2 + 4 + LINE + margin;
  return { width, height, cell: { width: cw, height: ch }, heat, swatches, titleLines };
}

/** Every `k`-th index (1-based labels) so that labels do not touch: the first, multiples of k, the last. */
function ticks(n: number, room: number, labelWidth: number): number[] {
  const k = [1, 2, 5, 10, 20, 50, 100].find((s) => s * room >= labelWidth + 4) ?? 100;
  const out = [1];
  for (let i = k; i <= n; i += k) if (i !== 1) out.push(i);
  if (out[out.length - 1] !== n && (n - out[out.length - 1]) * room >= labelWidth + 4) out.push(n);
  return out;
}

/** Renders the schedule picture into a PNG buffer: title, heatmap with step and layer axes, legend. */
export function renderSchedulePng(schedule: Schedule, options: DrawOptions = {}): Buffer {
  const L = scheduleLayout(schedule, options);
  const steps = schedule.table.length;
  const layers = schedule.model.layers;
  const { width: cw, height: ch } = L.cell;
  const black: Rgb = [0, 0, 0];
  const grey: Rgb = [90, 90, 90];
  const canvas = new Canvas(L.width, L.height, [255, 255, 255]);
  L.titleLines.forEach((t, i) => canvas.text(10, 10 + i * LINE, t, SCALE, i === 0 ? black : grey));
  const { x: hx, y: hy } = L.heat;
  schedule.table.forEach((row, t) => row.forEach((v, l) => canvas.fill(hx + l * cw, hy + t * ch, cw, ch, levelColour(v))));
  // thin separators between steps when cells are tall enough to show them
  if (ch >= 6) for (let t = 1; t < steps; t++) canvas.fill(hx, hy + t * ch, layers * cw, 1, [255, 255, 255]);
  // y axis: "STEP" above, step numbers (1-based) left of their rows
  canvas.text(hx - textWidth('STEP', SCALE) - 4, hy - LINE, 'step', SCALE, black);
  for (const t of ticks(steps, ch, 5 * SCALE)) {
    const label = String(t);
    canvas.text(hx - textWidth(label, SCALE) - 4, hy + (t - 1) * ch + Math.floor((ch - 5 * SCALE) / 2), label, SCALE, black);
  }
  // x axis: layer numbers under their columns, "LAYER" under them
  const xy = hy + steps * ch + 4;
  for (const l of ticks(layers, cw, textWidth(String(layers), SCALE))) {
    const label = String(l);
    canvas.text(hx + (l - 1) * cw + Math.floor((cw - textWidth(label, SCALE)) / 2), xy, label, SCALE, black);
  }
  canvas.text(hx + Math.max(0, Math.floor((layers * cw - textWidth('layer', SCALE)) / 2)), xy + LINE, 'layer', SCALE, black);
  // legend: caption, one swatch per level with its percentage
  const ly = L.swatches[0]?.y ?? xy + 2 * LINE;
  canvas.text(hx, ly - LINE, 'share of tokens recomputed (0% = reused from cache, 100% = dense)', SCALE, black);
  schedule.levels.forEach((v, i) => {
    const s = L.swatches[i];
    canvas.fill(s.x, s.y, s.width, s.height, levelColour(v));
    canvas.text(s.x, s.y + s.height + 4, `${Math.round(v * 100)}%`, SCALE, black);
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
