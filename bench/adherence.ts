/**
 * Prompt adherence of pipelines on the demo dataset's held-out captions, measured without a
 * neural network: generate each caption with a few seeds, read the frames back, measure the
 * object's colour, shape and motion, whether it is one object moving without jumps
 * (continuity) and whether its colour holds (colour stability), and compare with the caption
 * next to chance and next to a shuffled-caption control (the measured clips scored against the
 * other captions: what the model's own biases would score without following the prompt).
 * Several pipelines are measured one after the other and summed up side by side.
 *
 *   npx tsx bench/adherence.ts [--pipeline wan-demo] [--pipeline wan-demo-tiny | --pipeline a,b]
 *     [--seeds 3] [--seed-base 0] [--steps N] [--format png|mp4] [--threads 2]
 *     [--captions FILE.json] [--keep DIR] [--out result.json]
 *   npx tsx bench/adherence.ts --videos DIR [--videos DIR2] [--out result.json]
 *
 * --videos measures clips already written (by `diffsparse generate`, a batch run or --keep):
 * every video sidecar `*.json` in DIR names its clip and holds the prompt and seed.
 * --captions: a JSON array of captions (or of {caption} objects); default: the dataset's
 * held-out captions (src/eval/adherence-vocabulary.ts, mirroring training/dataset.py).
 * --keep DIR keeps the clips (in DIR/<pipeline> when there are several pipelines).
 * png frames are lossless, so the default measures the model rather than the video codec.
 * --out writes the scores and every clip's measurements (per frame: centroid, area, contrast,
 * second blob, colour, shape fill and asymmetry, shape vote; continuity steps and jumps).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ADHERENCE_THRESHOLDS, measureClip, parseCaption, scoreAdherence, type AdherenceResult, type AdherenceScore,
} from '../src/eval/adherence.js';
import { readClipFrames } from '../src/eval/adherence-frames.js';
import { heldOutCaptions } from '../src/eval/adherence-vocabulary.js';
import { Pipeline } from '../src/pipeline/generate.js';

const { values } = parseArgs({
  options: {
    pipeline: { type: 'string', multiple: true },
    seeds: { type: 'string', default: '3' },
    'seed-base': { type: 'string', default: '0' },
    steps: { type: 'string' },
    guidance: { type: 'string' },
    format: { type: 'string', default: 'png' },
    threads: { type: 'string', default: '2' },
    captions: { type: 'string' },
    keep: { type: 'string' },
    out: { type: 'string' },
    videos: { type: 'string', multiple: true },
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

/** Generates every caption with `seeds` seeds with one pipeline and measures each clip. */
async function generateAndMeasure(captions: string[], pipelineName: string | undefined, keepDir: string | undefined): Promise<Run> {
  const workDir = keepDir ? resolve(keepDir) : mkdtempSync(join(tmpdir(), 'diffsparse-adherence-'));
  mkdirSync(workDir, { recursive: true });
  const tLoad = performance.now();
  const pipeline = await Pipeline.load(pipelineName, { threads: Number(values.threads) });
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
        process.stderr.write(`[${results.length}/${captions.length * seeds}] ${caption} (seed ${seed}): ${measured.colour ?? '-'} ${measured.shape ?? '-'} ${measured.direction}${measured.continuous ? '' : ' discontinuous'}${measured.colourStable ? '' : ' colour-unstable'} ${(genMs[genMs.length - 1] / 1000).toFixed(1)} s\n`);
      }
    }
  } finally {
    await pipeline.release();
    if (!keepDir) rmSync(workDir, { recursive: true, force: true });
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

const ATTRIBUTES = ['colour', 'direction', 'shape', 'continuity', 'colourStable', 'all', 'joint', 'speed', 'size', 'background'] as const;
type Attribute = typeof ATTRIBUTES[number];
const LABELS: Record<Attribute, string> = {
  colour: 'colour', direction: 'direction', shape: 'shape', continuity: 'continuity', colourStable: 'colour stable',
  all: 'all', joint: 'colour+direction', speed: 'speed', size: 'size', background: 'background',
};

/** Mean accuracy of the same clips scored against every cyclic shift of the caption list (never their own caption). */
function shuffledControl(run: Run): Record<Attribute, number | null> | null {
  const { captions, results } = run;
  if (captions.length < 2) return null;
  const byCaption = captions.map((c) => parseCaption(c));
  const sum = Object.fromEntries(ATTRIBUTES.map((k) => [k, 0])) as Record<Attribute, number>;
  const scored = Object.fromEntries(ATTRIBUTES.map((k) => [k, 0])) as Record<Attribute, number>;
  for (let shift = 1; shift < captions.length; shift++) {
    const s = scoreAdherence(results.map((r) => ({ ...r, expected: byCaption[(captions.indexOf(r.caption) + shift) % captions.length] })));
    for (const k of ATTRIBUTES) {
      if (s[k].accuracy === null) continue;
      sum[k] += s[k].accuracy; scored[k]++;
    }
  }
  return Object.fromEntries(ATTRIBUTES.map((k) => [k, scored[k] ? sum[k] / scored[k] : null])) as Record<Attribute, number | null>;
}

/**
 * How much the caption changes the video compared with the seed: mean absolute pixel difference
 * between clips of one seed and different captions, over that between clips of one caption and
 * different seeds. Near 0: the model draws the same video whatever the prompt.
 */
function captionVsSeed(run: Run): { acrossCaptions: number; acrossSeeds: number } | null {
  const { results } = run;
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

const pct = (x: number | null): string => (x === null ? '  -' : `${(100 * x).toFixed(0).padStart(3)}%`);

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

interface Summary {
  run: Run;
  score: AdherenceScore;
  control: Record<Attribute, number | null> | null;
  sensitivity: { acrossCaptions: number; acrossSeeds: number } | null;
  meanGenerateMs: number | null;
}

/** Prints one run's per-clip table and notes; returns its scores. */
function summarise(run: Run): Summary {
  const { results, genMs } = run;
  console.log(`\n== ${run.label}`);
  const ok = (e: string | null, g: string | null): string => (e === null ? ' ' : e === g ? '✓' : '✗');
  printTable(
    ['caption', 'seed', 'measured', 'continuity', 'colour/frame', 'share', 'fill', 'asym', 'v px/f (x,y)', 'object rgb', 'bg spread'],
    results.map((r) => {
      const m = r.measured, e = r.expected, c = m.continuity;
      const why = [c.missingFrames.length ? `missing ${c.missingFrames.join(',')}` : '', c.multiObjectFrames.length ? `2 blobs ${c.multiObjectFrames.join(',')}` : '', c.jumps.length ? `jump ${c.jumps.map((t) => `${t}>${t + 1}`).join(',')}` : ''].filter(Boolean).join('; ');
      return [
        r.caption, String(r.seed ?? '-'),
        `${m.colour ?? '-'}${ok(e.colour, m.colour)} ${m.shape ?? '-'}${ok(e.shape, m.shape)} ${m.direction}${ok(e.direction, m.direction)}`,
        m.continuous ? '✓' : `✗ ${why}`,
        `${m.colourStable ? '✓' : '✗'} ${m.frames.map((f) => (f.colour ?? '-').slice(0, 2)).join(' ')}`,
        m.objectFound ? `${(100 * m.colourShare).toFixed(0)}%` : '-',
        m.fill === null ? '-' : m.fill.toFixed(2),
        m.asymmetry === null ? '-' : m.asymmetry.toFixed(2),
        `(${m.velocity[0].toFixed(1)}, ${m.velocity[1].toFixed(1)})`,
        m.objectRgb ? m.objectRgb.map((v) => Math.round(v)).join(',') : '-',
        `${m.backgroundName} ${m.backgroundSpread.toFixed(2)}`,
      ];
    }),
  );
  const score = scoreAdherence(results);
  const sensitivity = captionVsSeed(run);
  if (sensitivity) {
    console.log(`mean |Δpixel| between captions at one seed ${sensitivity.acrossCaptions.toFixed(1)}, between seeds for one caption ${sensitivity.acrossSeeds.toFixed(1)} (ratio ${(sensitivity.acrossCaptions / sensitivity.acrossSeeds).toFixed(2)}; near 0 = the prompt barely changes the video)`);
  }
  const meanSpread = results.reduce((a, r) => a + r.measured.backgroundSpread, 0) / results.length;
  if (meanSpread > 0.08) console.log(`note: mean background spread ${meanSpread.toFixed(2)}: the clips have no flat background (the dataset's is ≈0), so the object measurements say little`);
  const meanGenerateMs = genMs.length ? genMs.reduce((a, b) => a + b, 0) / genMs.length : null;
  console.log(`no object: ${score.noObject}, static: ${score.static}${meanGenerateMs === null ? '' : `; generation ${(meanGenerateMs / 1000).toFixed(1)} s/clip mean`}`);
  return { run, score, control: shuffledControl(run), sensitivity, meanGenerateMs };
}

const pipelineNames = (values.pipeline ?? []).flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p.length > 0);
const runs: Run[] = [];
if (values.videos?.length) {
  for (const dir of values.videos) runs.push(await measureFolder(dir));
} else {
  const captions = loadCaptions(values.captions);
  const names: Array<string | undefined> = pipelineNames.length ? pipelineNames : [undefined];
  for (const [i, name] of names.entries()) {
    // one folder per pipeline; a name given twice gets its position appended
    const folder = names.indexOf(name) === i ? name ?? 'default' : `${name}-${i}`;
    const keep = values.keep && names.length > 1 ? join(values.keep, folder) : values.keep;
    runs.push(await generateAndMeasure(captions, name, keep));
  }
}
const summaries = runs.map(summarise);

// ---- side by side: accuracy, chance and the shuffled-caption control per pipeline
console.log(`\nadherence: ${summaries.map((s) => `${s.run.label} (${s.score.clips} clips)`).join(' | ')}`);
console.log('chance: a uniform guess; shuffled: the same clips scored against the other captions; continuity and colour stability name no caption attribute (no chance level, shuffled = measured)');
const rows = ATTRIBUTES.filter((k) => summaries.some((s) => s.score[k].total > 0)).map((k) => [
  LABELS[k], pct(summaries[0].score[k].chance),
  ...summaries.flatMap((s) => {
    const a = s.score[k];
    return a.total === 0 ? ['-', '-'] : [`${pct(a.accuracy)} (${a.correct}/${a.total})`, pct(s.control?.[k] ?? null)];
  }),
]);
const short = (label: string): string => label.split('/').pop()!;
printTable(['attribute', 'chance', ...summaries.flatMap((s) => [`${short(s.run.label)}`, 'shuffled'])], rows);

if (values.out) {
  const out = resolve(values.out);
  const runDoc = (s: Summary): Record<string, unknown> => ({
    source: s.run.label, score: s.score, shuffledControl: s.control, captionVsSeed: s.sensitivity, meanGenerateMs: s.meanGenerateMs,
    results: s.run.results.map((r) => ({
      ...r,
      measured: {
        ...r.measured,
        frames: r.measured.frames.map((f) => ({
          centroid: f.centroid, area: f.area, contrast: f.contrast, secondBlob: f.secondBlob, colour: f.colour, fill: f.fill, asymmetry: f.asymmetry, shape: f.shape,
        })),
      },
    })),
  });
  const docs = summaries.map(runDoc);
  const doc = {
    ...(values.videos?.length ? {} : { format, seeds, seedBase }), captions: runs[0].captions, thresholds: ADHERENCE_THRESHOLDS,
    // one pipeline: its fields at the top level too, as before several could be compared
    ...(docs.length === 1 ? docs[0] : {}),
    runs: docs,
  };
  writeFileSync(`${out}.tmp`, JSON.stringify(doc, null, 1));
  renameSync(`${out}.tmp`, out);
  console.log(`wrote ${out}`);
}
