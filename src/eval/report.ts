/**
 * A self-contained HTML report of comparison and evaluation results: no scripts, no external
 * files. Plots are inline SVG (fidelity against speed-up, one series per method), schedule
 * heatmaps and sample frames are PNG data URIs, so the page can be mailed or attached to CI.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { loadSchedule } from '../sparsity/schedule.js';
import { renderSchedulePng } from '../sparsity/scheduleDraw.js';
import { stripFrameNumbers, type CompareResult, type VariantResult } from './compare.js';
import type { RunInfo } from './run-info.js';
import type { EvalResults } from './run.js';
import { DIMENSIONS, NORMALIZATION } from './vbench.js';

export interface ReportInput {
  title?: string;
  /** One or more comparison runs (e.g. several budgets and baselines); their variants are plotted together. */
  compare?: CompareResult[];
  eval?: EvalResults;
}

/** Series colours (one per method), chosen to stay apart for common colour-vision deficiencies. */
export const METHOD_COLOURS = ['#1f77b4', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d'];

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

async function pngDataUri(file: string | undefined): Promise<string | null> {
  if (!file) return null;
  try {
    return `data:image/png;base64,${(await readFile(file)).toString('base64')}`;
  } catch {
    return null;
  }
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

interface Point {
  x: number;
  y: number;
  label: string;
}

/** A scatter plot with one connected series per method, as an inline SVG string. */
export function scatterSvg(title: string, xLabel: string, yLabel: string, series: { name: string; colour: string; points: Point[] }[]): string {
  const W = 520, H = 356, L = 62, R = 16, T = 50, B = 48;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const x0 = Math.min(1, ...xs), x1 = Math.max(1.05, ...xs.map((x) => x * 1.06));
  const yPad = Math.max(1e-3, (Math.max(...ys) - Math.min(...ys)) * 0.1);
  const y0 = all.length ? Math.min(...ys) - yPad : 0, y1 = all.length ? Math.max(...ys) + yPad : 1;
  const sx = (x: number): number => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number): number => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeHtml(title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" y1="${T}" x2="${sx(t)}" y2="${H - B}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${t}×</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${L}" y1="${sy(t)}" x2="${W - R}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${escapeHtml(xLabel)}</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${(T + H - B) / 2})">${escapeHtml(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="5" fill="${s.colour}"><title>${escapeHtml(`${s.name} ${p.label}: ${p.x.toFixed(2)}×, ${p.y.toFixed(4)}`)}</title></circle>`);
    }
    // legend: one row between the title and the plot, so it never covers a point
    const lx = L + i * 120;
    parts.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${s.colour}"/>`);
    parts.push(`<text x="${lx + 15}" y="39" font-size="11">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function seriesOf(variants: VariantResult[], y: (v: VariantResult) => number): { name: string; colour: string; points: Point[] }[] {
  const methods = [...new Set(variants.map((v) => v.method))];
  return methods.map((m, i) => ({
    name: m,
    colour: METHOD_COLOURS[i % METHOD_COLOURS.length]!,
    points: variants.filter((v) => v.method === m).map((v) => ({ x: v.speedup, y: y(v), label: v.label })),
  }));
}

function fmt(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** The settings a run used, as a definition list (issue 19: model, steps, size, frames, solver, guidance, samples, seeds, machine, version). */
export function settingsBlock(run: RunInfo | undefined, heading = 'Settings'): string {
  if (!run) return '';
  const seeds = run.seeds.length > 12 ? `${run.seeds.slice(0, 12).join(', ')}, … (${run.seeds.length} in all)` : run.seeds.join(', ');
  const rows: [string, string][] = [
    ['model', run.pipeline ?? '(pipeline default)'],
    ['size', run.width !== undefined && run.height !== undefined ? `${run.width}×${run.height}` : '(pipeline default)'],
    ['frames', run.frames !== undefined ? `${run.frames}${run.fps !== undefined ? ` at ${run.fps} fps` : ''}` : '(pipeline default)'],
    ['steps', run.steps !== undefined ? `${run.steps}${run.solver ? ` (${run.solver}${run.shift !== undefined ? `, shift ${run.shift}` : ''})` : ''}` : '(pipeline default)'],
    ['guidance', run.guidance !== undefined ? String(run.guidance) : '(pipeline default)'],
    ['negative prompt', run.negativePrompt === undefined ? '(pipeline default)' : run.negativePrompt === '' ? '(empty)' : run.negativePrompt.length > 80 ? `${run.negativePrompt.slice(0, 80)}…` : run.negativePrompt],
    ['samples', `${run.prompts ?? '?'} prompt(s)${run.samples !== undefined ? ` × ${run.samples} sample(s)` : ''}`],
    ['seeds', seeds || '–'],
    ['machine', run.machine],
    ['diffsparse', run.diffsparse],
  ];
  return `<h2>${escapeHtml(heading)}</h2><dl class="settings">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

async function compareSection(runs: CompareResult[]): Promise<string> {
  const variants = runs.flatMap((r) => r.variants);
  const out: string[] = [];
  out.push(settingsBlock(runs[0]!.run));
  out.push('<h2>Dense vs accelerated</h2>');
  out.push(`<p class="note">${escapeHtml(runs[0]!.metricsOn)}. Speed-up: dense wall-clock time over accelerated, same run and process.</p>`);
  out.push('<table><thead><tr><th>variant</th><th>method</th><th>FLOPs ratio</th><th>speed-up</th><th>denoise speed-up</th><th>PSNR (dB)</th><th>SSIM</th><th>latent rel. L2</th><th>flicker (dense → acc.)</th><th>gate</th></tr></thead><tbody>');
  for (const r of runs) {
    for (const v of r.variants) {
      const gate = r.gate.minPsnr === undefined && r.gate.minSsim === undefined ? '–' : v.gate.passed ? '<span class="pass">pass</span>' : `<span class="fail">FAIL: ${escapeHtml(v.gate.failures.join('; '))}</span>`;
      out.push(`<tr><td>${escapeHtml(v.label)}</td><td>${escapeHtml(v.method)}</td><td>${fmt(v.flopsRatio, 3)}</td><td>${fmt(v.speedup, 2)}×</td><td>${fmt(v.denoiseSpeedup, 2)}×</td><td>${fmt(v.psnr, 2)}</td><td>${fmt(v.ssim, 4)}</td><td>${v.latentRelL2 !== 0 && Math.abs(v.latentRelL2) < 1e-3 ? v.latentRelL2.toExponential(2) : fmt(v.latentRelL2, 4)}</td><td>${fmt(r.dense.flicker, 4)} → ${fmt(v.flicker, 4)}</td><td>${gate}</td></tr>`);
    }
  }
  out.push('</tbody></table>');
  out.push('<div class="plots">');
  out.push(scatterSvg('PSNR vs speed-up', 'wall-clock speed-up over dense', 'PSNR (dB)', seriesOf(variants, (v) => v.psnr)));
  out.push(scatterSvg('SSIM vs speed-up', 'wall-clock speed-up over dense', 'SSIM', seriesOf(variants, (v) => v.ssim)));
  out.push('</div>');

  const withSchedule = variants.filter((v) => v.schedule);
  if (withSchedule.length > 0) {
    out.push('<h2>Schedules</h2><p class="note">Rows: denoising steps (first on top); columns: layers; colour: share of tokens recomputed.</p><div class="grid">');
    for (const v of withSchedule) {
      let body: string;
      try {
        const png = renderSchedulePng(await loadSchedule(v.schedule!));
        body = `<img class="heatmap" alt="schedule heatmap of ${escapeHtml(v.label)}" src="data:image/png;base64,${png.toString('base64')}">`;
      } catch (e) {
        body = `<p class="fail">cannot draw ${escapeHtml(v.schedule!)}: ${escapeHtml((e as Error).message)}</p>`;
      }
      out.push(`<figure>${body}<figcaption>${escapeHtml(v.label)} (${escapeHtml(v.method)}, FLOPs ${fmt(v.flopsRatio, 3)})</figcaption></figure>`);
    }
    out.push('</div>');
  }

  out.push('<h2>Frames over time</h2>');
  for (const r of runs) {
    const first = r.jobs[0];
    const dense = await pngDataUri(r.dense.sampleStrip);
    if (!dense) continue;
    const total = r.run?.frames;
    const numbers = total ? stripFrameNumbers(total) : [];
    out.push(`<p class="note">“${escapeHtml(first?.prompt ?? '')}” (seed ${first?.seed ?? '–'})${numbers.length ? `, frames ${numbers.join(', ')} of ${total}` : ''}, left to right: each variant under the dense video it should match, so what a speed-up changes shows frame by frame.</p>`);
    out.push('<table class="strips"><tbody>');
    out.push(`<tr><th>dense</th><td><img class="strip" alt="dense frames over time" src="${dense}"></td></tr>`);
    for (const v of r.variants) {
      const uri = await pngDataUri(v.sampleStrip);
      const firstVideo = v.videos[0];
      if (uri) out.push(`<tr><th>${escapeHtml(v.label)}<br><span class="note">${escapeHtml(v.method)}, FLOPs ${fmt(v.flopsRatio, 3)}<br>${fmt(firstVideo?.psnr, 2)} dB, SSIM ${fmt(firstVideo?.ssim, 4)}</span></th><td><img class="strip" alt="frames over time of ${escapeHtml(v.label)}" src="${uri}"></td></tr>`);
    }
    out.push('</tbody></table>');
  }

  out.push('<h2>Sample frames</h2>');
  for (const r of runs) {
    const first = r.jobs[0];
    out.push(`<p class="note">Middle frame of “${escapeHtml(first?.prompt ?? '')}” (seed ${first?.seed ?? '–'}).</p><div class="grid">`);
    const dense = await pngDataUri(r.dense.sampleFrame);
    if (dense) out.push(`<figure><img class="frame" alt="dense frame" src="${dense}"><figcaption>dense</figcaption></figure>`);
    for (const v of r.variants) {
      const uri = await pngDataUri(v.sampleFrame);
      const first = v.videos[0];
      if (uri) out.push(`<figure><img class="frame" alt="frame of ${escapeHtml(v.label)}" src="${uri}"><figcaption>${escapeHtml(v.label)}: ${fmt(first?.psnr, 2)} dB, SSIM ${fmt(first?.ssim, 4)}</figcaption></figure>`);
    }
    out.push('</div>');
  }
  return out.join('\n');
}

/** Number of videos scored on a dimension and the spread of their scores, from the per-video list of the VBench-format results. */
export function perVideoSpread(e: EvalResults, d: string): { n: number; mean: number; sd: number; min: number; max: number } | undefined {
  const entry = e.vbenchFormat[d] ?? e.vbenchFormat[d.replace(/_/g, ' ')];
  const list = Array.isArray(entry?.[1]) ? entry[1] : [];
  const values = list.map((r) => r.video_results).map((v) => (typeof v === 'boolean' ? Number(v) : v)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { n: values.length, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

function evalSection(e: EvalResults): string {
  const out: string[] = [settingsBlock(e.run), '<h2>VBench-style evaluation</h2>'];
  out.push(`<p>${e.counts.present} of ${e.counts.planned} videos present (${e.counts.rendered} rendered in the last run, ${e.counts.failed} failed), mode ${escapeHtml(e.mode)}, seed rule ${escapeHtml(e.seedRule)} from ${e.baseSeed}. Videos: <code>${escapeHtml(e.videosDir)}</code></p>`);
  out.push(`<p class="note">${escapeHtml(e.summary.label)}</p>`);
  out.push('<table><thead><tr><th>dimension</th><th>raw</th><th>videos (n)</th><th>spread (sd)</th><th>min – max</th><th>normalised × weight</th><th>source</th><th>note</th></tr></thead><tbody>');
  for (const d of DIMENSIONS) {
    const n = e.summary.dimensions[d];
    if (!n) continue;
    const s = e.scores[d]!;
    const sp = perVideoSpread(e, d);
    out.push(`<tr><td>${d}</td><td>${fmt(n.raw, 4)}</td><td>${sp ? sp.n : '–'}</td><td>${sp && sp.n > 1 ? fmt(sp.sd, 4) : '–'}</td><td>${sp ? `${fmt(sp.min, 4)} – ${fmt(sp.max, 4)}` : '–'}</td><td>${fmt(n.weighted, 4)} (w ${NORMALIZATION[d].weight})</td><td>${s.source}${s.standard ? '' : ' (non-standard)'}</td><td>${escapeHtml(s.note ?? '')}</td></tr>`);
  }
  out.push('</tbody></table>');
  const t = e.summary;
  out.push(`<table><thead><tr><th></th><th>quality</th><th>semantic</th><th>total</th></tr></thead><tbody>
<tr><td>VBench formula (missing = 0)</td><td>${fmt(t.official.quality, 4)}</td><td>${fmt(t.official.semantic, 4)}</td><td>${fmt(t.official.total, 4)}</td></tr>
<tr><td>over available dimensions</td><td>${fmt(t.available.quality, 4)}</td><td>${fmt(t.available.semantic, 4)}</td><td>${fmt(t.available.total, 4)}</td></tr></tbody></table>`);
  return out.join('\n');
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:12px 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}.note{color:#555;font-size:13px}
.plots,.grid{display:flex;flex-wrap:wrap;gap:16px}.pass{color:#1b7e3c;font-weight:600}.fail{color:#b00020;font-weight:600}
figure{margin:0}figcaption{font-size:12px;color:#444;text-align:center}
img.frame{width:320px;image-rendering:pixelated;border:1px solid #ccc}img.heatmap{max-width:480px;image-rendering:pixelated}
dl.settings{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:13px}dl.settings dt{color:#555}dl.settings dd{margin:0}
table.strips td,table.strips th{text-align:left;vertical-align:middle;border:none;padding:4px 8px 4px 0}img.strip{height:96px;image-rendering:pixelated}`;

/** The report page as one HTML string. */
export async function renderReportHtml(input: ReportInput): Promise<string> {
  const title = input.title ?? 'diffsparse evaluation report';
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`];
  if (input.compare && input.compare.length > 0) body.push(await compareSection(input.compare));
  if (input.eval) body.push(evalSection(input.eval));
  if (body.length === 1) body.push('<p>No results were given.</p>');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body>
${body.join('\n')}
<p class="note">Generated ${new Date().toISOString()} by diffsparse${input.compare?.[0]?.run?.diffsparse ?? input.eval?.run?.diffsparse ? ` ${escapeHtml(input.compare?.[0]?.run?.diffsparse ?? input.eval?.run?.diffsparse ?? '')}` : ''}.</p>
</body></html>
`;
}

/** Writes the HTML page (and `<file>.json` with the results it shows), temporary name then rename. */
export async function writeReport(input: ReportInput, file: string): Promise<void> {
  const html = await renderReportHtml(input);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, html);
  await rename(tmp, file);
  const json = file.replace(/\.html?$/i, '') + '.json';
  await writeFile(`${json}.tmp-${process.pid}`, `${JSON.stringify({ compare: input.compare ?? [], eval: input.eval ?? null }, null, 2)}\n`);
  await rename(`${json}.tmp-${process.pid}`, json);
}
