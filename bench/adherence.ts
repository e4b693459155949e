/**
 * Prompt adherence of a pipeline on the demo dataset's held-out captions, measured without a
 * neural network: generate each caption with a few seeds, read the frames back, measure the
 * object's colour and motion, and compare with the caption next to chance and next to a
 * shuffled-caption control (the measured clips scored against the other captions: what the
 * model's own biases would score without following the prompt).
 *
 *   npx tsx bench/adherence.ts [--pipeline wan-demo] [--seeds 3] [--seed-base 0] [--steps N]
 *     [--format png|mp4] [--threads 2] [--captions FILE.json] [--keep DIR] [--out result.json]
 *   npx tsx bench/adherence.ts --videos DIR [--out result.json]
 *
 * --videos measures clips already written (by `diffsparse generate`, a batch run or --keep):
 * every video sidecar `*.json` in DIR names its clip and holds the prompt and seed.
 * --captions: a JSON array of captions (or of {caption} objects); default: the dataset's
 * held-out captions (src/eval/adherence-vocabulary.ts, mirroring training/dataset.py).
 * png frames are lossless, so the default measures the model rather than the video codec.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureClip, parseCaption, scoreAdherence, type AdherenceResult } from '../src/eval/adherence.js';
import { readClipFrames } from '../src/eval/adherence-frames.js';
import { heldOutCaptions } from '../src/eval/adherence-vocabulary.js';
import { Pipeline } from '../src/pipeline/generate.js';

const { values } = parseArgs({
  options: {
    pipeline: { type: 'string' },
    seeds: { type: 'string', default: '3' },
    'seed-base': { type: 'string', default: '0' },
    steps: { type: 'string' },
    guidance: { type: 'string' },
    format: { type: 'string', default: 'png' },
    threads: { type: 'string', default: '2' },
    captions: { type: 'string' },
    keep: { type: 'string' },
    out: { type: 'string' },
    videos: { type: 'string' },
  },
});

function loadCaptions(file: string | undefined): string[] {
  if (!file) return heldOutCaptions();
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const list = Array.isArray(parsed) ? parsed : (parsed as { captions?: unknown }).captions;
  if (!Array.isArray(list)) throw new Error(`${file}: expected a JSON array of captions or {"captions": [...]}`);
  return list.map((e: unknown) => (typeof e === 'string' ? e : String((e as { caption?: unknown }).caption)));
}

const format = values.format === 'mp4' ? 'mp4' : 'png';
const seeds = Number(values.seeds);
const seedBase = Number(values['seed-base']);

interface Run {
  label: string;
  captions: string[];
  results: AdherenceResult[];
  /** The frames of results[i], for the caption-vs-seed comparison. */
  clips: Uint8Array[][];
  genMs: number[];
}

/** Generates every caption with `seeds` seeds and measures each clip. */
async function generateAndMeasure(captions: string[]): Promise<Run> {
  const workDir = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'diffsparse-adherence-'));
  mkdirSync(workDir, { recursive: true });
  const tLoad = performance.now();
  const pipeline = await Pipeline.load(values.pipeline, { threads: Number(values.threads) });
  console.log(`pipeline ${pipeline.definition.name} loaded in ${((performance.now() - tLoad) / 1000).toFixed(1)} s; ${captions.length} captions × ${seeds} seeds, ${format} frames in ${workDir}`);
  const results: AdherenceResult[] = [];
  const clips: Uint8Array[][] = [];
  const genMs: number[] = [];
  try {
    for (const [ci, caption] of captions.entries()) {
      for (let s = 0; s < seeds; s++) {
        const seed = seedBase + s;
        const output = join(workDir, `c${ci}_s${seed}${format === 'mp4' ? '.mp4' : ''}`);
        rmSync(output, { recursive: true, force: true });
        const t0 = performance.now();
        await pipeline.generate({
          prompt: caption, seed, output, format,
          ...(values.steps ? { steps: Number(values.steps) } : {}),
          ...(values.guidance ? { guidance: Number(values.guidance) } : {}),
        });
        genMs.push(performance.now() - t0);
        const { frames, width, height } = await readClipFrames(output);
        const measured = measureClip(frames, width, height);
        results.push({ caption, seed, expected: parseCaption(caption), measured });
        clips.push(frames);
        process.stderr.write(`[${results.length}/${captions.length * seeds}] ${caption} (seed ${seed}): ${measured.colour ?? '-'} ${measured.direction} ${(genMs[genMs.length - 1] / 1000).toFixed(1)} s\n`);
      }
    }
  } finally {
    await pipeline.release();
    if (!values.keep) rmSync(workDir, { recursive: true, force: true });
  }
  return { label: pipeline.definition.name, captions, results, clips, genMs };
}

/** Measures the clips a folder's video sidecars describe. */
async function measureFolder(dir: string): Promise<Run> {
  const results: AdherenceResult[] = [];
  const clips: Uint8Array[][] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { format?: string; video?: { file?: string }; settings?: { prompt?: unknown; seed?: unknown } };
    if (doc.format !== 'diffsparse/video-sidecar' || !doc.video?.file || typeof doc.settings?.prompt !== 'string') continue;
    const { frames, width, height } = await readClipFrames(join(dir, doc.video.file));
    const caption = doc.settings.prompt;
    results.push({ caption, ...(typeof doc.settings.seed === 'number' ? { seed: doc.settings.seed } : {}), expected: parseCaption(caption), measured: measureClip(frames, width, height) });
    clips.push(frames);
  }
  if (results.length === 0) throw new Error(`${dir} holds no video sidecars (*.json with a prompt); write clips with diffsparse generate or --keep`);
  return { label: resolve(dir), captions: [...new Set(results.map((r) => r.caption))], results, clips, genMs: [] };
}

const run = values.videos ? await measureFolder(values.videos) : await generateAndMeasure(loadCaptions(values.captions));
const { captions, results, genMs } = run;

// ---- table
const pct = (x: number | null): string => (x === null ? '  -  ' : `${(100 * x).toFixed(0).padStart(3)}%`);
const rows = results.map((r) => {
  const m = r.measured;
  const ok = (e: string | null, g: string | null): string => (e === null ? ' ' : e === g ? '✓' : '✗');
  return [
    r.caption, String(r.seed ?? '-'),
    `${r.expected.colour ?? '-'} ${r.expected.direction ?? '-'}`,
    `${m.colour ?? '-'}${ok(r.expected.colour, m.colour)} ${m.direction}${ok(r.expected.direction, m.direction)}`,
    m.objectFound ? `${(100 * m.colourShare).toFixed(0)}%` : '-',
    `(${m.velocity[0].toFixed(1)}, ${m.velocity[1].toFixed(1)})`,
    m.objectRgb ? m.objectRgb.map((v) => Math.round(v)).join(',') : '-',
    `${m.backgroundName} ${m.backgroundSpread.toFixed(2)}`,
  ];
});
const header = ['caption', 'seed', 'expected', 'measured', 'share', 'v px/f (x,y)', 'object rgb', 'bg spread'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log('\n' + line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));

// ---- summary with a shuffled-caption control
const score = scoreAdherence(results);
/** Mean accuracy of the same clips scored against every cyclic shift of the caption list (never their own caption). */
function shuffledControl(): { colour: number; direction: number; joint: number } | null {
  if (captions.length < 2) return null;
  const byCaption = captions.map((c) => parseCaption(c));
  const sum = { colour: 0, direction: 0, joint: 0 };
  for (let shift = 1; shift < captions.length; shift++) {
    const s = scoreAdherence(results.map((r) => ({ ...r, expected: byCaption[(captions.indexOf(r.caption) + shift) % captions.length] })));
    sum.colour += s.colour.accuracy ?? 0; sum.direction += s.direction.accuracy ?? 0; sum.joint += s.joint.accuracy ?? 0;
  }
  const k = captions.length - 1;
  return { colour: sum.colour / k, direction: sum.direction / k, joint: sum.joint / k };
}
const control = shuffledControl();
console.log('\nattribute   accuracy          chance  shuffled captions');
for (const key of ['colour', 'direction', 'joint', 'speed', 'size', 'background'] as const) {
  const a = score[key];
  if (a.total === 0) continue;
  const c = control && (key === 'colour' || key === 'direction' || key === 'joint') ? pct(control[key]) : '  -  ';
  console.log(`${`${key.padEnd(10)}  ${pct(a.accuracy)} (${a.correct}/${a.total})`.padEnd(28)}  ${pct(a.chance)}  ${c}`);
}
/**
 * How much the caption changes the video compared with the seed: mean absolute pixel difference
 * between clips of one seed and different captions, over that between clips of one caption and
 * different seeds. Near 0: the model draws the same video whatever the prompt.
 */
function captionVsSeed(): { acrossCaptions: number; acrossSeeds: number } | null {
  const diff = (a: Uint8Array[], b: Uint8Array[]): number => {
    let sum = 0, n = 0;
    for (let t = 0; t < Math.min(a.length, b.length); t++) {
      if (a[t].length !== b[t].length) return NaN;
      for (let i = 0; i < a[t].length; i++) sum += Math.abs(a[t][i] - b[t][i]);
      n += a[t].length;
    }
    return n ? sum / n : NaN;
  };
  const captionPairs: number[] = [], seedPairs: number[] = [];
  for (let i = 0; i < results.length; i++) for (let j = i + 1; j < results.length; j++) {
    const a = results[i], b = results[j];
    if (a.seed === undefined || b.seed === undefined) continue;
    if (a.seed === b.seed && a.caption !== b.caption) captionPairs.push(diff(run.clips[i], run.clips[j]));
    else if (a.seed !== b.seed && a.caption === b.caption) seedPairs.push(diff(run.clips[i], run.clips[j]));
  }
  const mean = (v: number[]): number => v.reduce((x, y) => x + y, 0) / v.length;
  if (!captionPairs.length || !seedPairs.length) return null;
  return { acrossCaptions: mean(captionPairs), acrossSeeds: mean(seedPairs) };
}
const sensitivity = captionVsSeed();
if (sensitivity) {
  console.log(`mean |Δpixel| between captions at one seed ${sensitivity.acrossCaptions.toFixed(1)}, between seeds for one caption ${sensitivity.acrossSeeds.toFixed(1)} (ratio ${(sensitivity.acrossCaptions / sensitivity.acrossSeeds).toFixed(2)}; near 0 = the prompt barely changes the video)`);
}
const meanSpread = results.reduce((a, r) => a + r.measured.backgroundSpread, 0) / results.length;
if (meanSpread > 0.08) console.log(`note: mean background spread ${meanSpread.toFixed(2)}: the clips have no flat background (the dataset's is ≈0), so the object measurements say little`);
const meanGenerateMs = genMs.length ? genMs.reduce((a, b) => a + b, 0) / genMs.length : null;
console.log(`no object: ${score.noObject}, static: ${score.static}${meanGenerateMs === null ? '' : `; generation ${(meanGenerateMs / 1000).toFixed(1)} s/clip mean`}`);

if (values.out) {
  const out = resolve(values.out);
  const doc = {
    source: run.label, ...(values.videos ? {} : { format, seeds, seedBase }), captions, score, shuffledControl: control, captionVsSeed: sensitivity, meanGenerateMs,
    results: results.map((r) => ({ ...r, measured: { ...r.measured, frames: r.measured.frames.map((f) => ({ centroid: f.centroid, area: f.area })) } })),
  };
  writeFileSync(`${out}.tmp`, JSON.stringify(doc, null, 1));
  renameSync(`${out}.tmp`, out);
  console.log(`wrote ${out}`);
}
