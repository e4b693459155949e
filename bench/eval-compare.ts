/**
 * Dense vs accelerated on a real pipeline (default: the built-in demo model), end to end:
 * renders, prints the comparison table, writes compare.json and report.html, and exits 1 when
 * the quality gate fails. Timings are measured in this one run.
 *
 *   npx tsx bench/eval-compare.ts [--pipeline NAME|DIR] [--budget 0.5 --budget 0.25] [--method step-skip]... [--schedule FILE]
 *     [--prompt "..."]... [--frames 9] [--steps 10] [--width W --height H] [--min-psnr 20] [--min-ssim 0.8]
 *     [--out /tmp/diffsparse-compare] [--threads N] [--check-report]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkReportInChromium } from '../src/eval/browser-check.js';
import { compare, formatCompareTable, type CompareVariant } from '../src/eval/compare.js';
import { writeReport } from '../src/eval/report.js';

const { values } = parseArgs({
  options: {
    pipeline: { type: 'string' },
    budget: { type: 'string', multiple: true },
    method: { type: 'string', multiple: true },
    schedule: { type: 'string', multiple: true },
    prompt: { type: 'string', multiple: true },
    frames: { type: 'string' },
    steps: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    'min-psnr': { type: 'string' },
    'min-ssim': { type: 'string' },
    out: { type: 'string', default: '/tmp/diffsparse-compare' },
    threads: { type: 'string' },
    'check-report': { type: 'boolean', default: false },
  },
});
const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
// every --budget is rendered with every --method (the pipeline's learned schedules when none is given)
const methods = values.method ?? [undefined];
const variants: CompareVariant[] = [
  ...(values.budget ?? (values.schedule ? [] : ['0.5', '0.25'])).flatMap((b) => methods.map((m) => ({ budget: Number(b), ...(m ? { method: m } : {}) }))),
  ...(values.schedule ?? []).map((s) => ({ schedule: s })),
];
const settings = Object.fromEntries(Object.entries({ frames: num(values.frames), steps: num(values.steps), width: num(values.width), height: num(values.height) }).filter(([, v]) => v !== undefined));
const gate = Object.fromEntries(Object.entries({ minPsnr: num(values['min-psnr']), minSsim: num(values['min-ssim']) }).filter(([, v]) => v !== undefined));

const t0 = Date.now();
const result = await compare({
  ...(values.pipeline ? { pipeline: values.pipeline } : {}), ...(values.threads ? { threads: Number(values.threads) } : {}),
  prompts: values.prompt ?? ['a red fox running through snow', 'a lighthouse on a cliff at dusk', 'a bowl of fruit on a wooden table'],
  settings, variants, gate, outDir: values.out!,
  onEvent: (e) => { if (e.type === 'render') process.stderr.write(`[${e.done + 1}/${e.total}] ${e.side}: ${e.job.fileName}\n`); },
});
console.log(formatCompareTable(result));
const report = path.join(values.out!, 'report.html');
await writeReport({ compare: [result], title: 'diffsparse compare' }, report);
console.log(`report: ${report} (${((Date.now() - t0) / 1000).toFixed(1)} s total)`);
if (values['check-report']) {
  const c = await checkReportInChromium(report);
  console.log(`chromium: ink ${(c.inkFraction * 100).toFixed(1)}%, ${c.svgCount} plots, console errors: ${c.consoleErrors.length}`);
}
process.exitCode = result.passed ? 0 : 1;
