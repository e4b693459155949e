/**
 * Opens a report in headless Chromium and fails unless it renders: screenshot not blank, at
 * least one plot, no console errors. `npx tsx bench/eval-report-check.ts report.html [shot.png]`
 * (scripts/check-report.sh wraps it).
 */
import { writeFile } from 'node:fs/promises';
import { checkReportInChromium } from '../src/eval/browser-check.js';

async function main(): Promise<number> {
  const [html, shot] = process.argv.slice(2);
  if (!html) {
    console.error('usage: eval-report-check.ts report.html [screenshot.png]');
    return 2;
  }
  const check = await checkReportInChromium(html);
  if (shot) await writeFile(shot, check.screenshot);
  const problems: string[] = [];
  if (check.consoleErrors.length > 0) problems.push(`console errors:\n  ${check.consoleErrors.join('\n  ')}`);
  if (check.inkFraction < 0.01 || check.colours < 8) problems.push(`the screenshot looks blank (ink ${(check.inkFraction * 100).toFixed(2)}%, ${check.colours} colours)`);
  if (check.svgCount === 0) problems.push('no <svg> plot in the rendered page');
  console.log(`${html}: ${check.width}x${check.height} screenshot, ink ${(check.inkFraction * 100).toFixed(1)}%, ${check.colours} colours, ${check.svgCount} plots, ${check.imgCount} images`);
  for (const p of problems) console.error(`FAIL: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => { console.error((err as Error).message); process.exitCode = 1; });
