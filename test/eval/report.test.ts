import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkReportInChromium, countColourPixels, findChromium, pageErrorLines } from '../../src/eval/browser-check.js';
import { compare } from '../../src/eval/compare.js';
import { METHOD_COLOURS, renderReportHtml, scatterSvg, writeReport } from '../../src/eval/report.js';
import { evaluate } from '../../src/eval/run.js';
import { writeTestSchedule } from './helpers/schedule.js';
import { createRunner } from './helpers/video-runner.js';

describe('HTML report', () => {
  it('is self-contained (no scripts, no external URLs) with plots, heatmaps, frames and scores; renders in headless Chromium', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'diffsparse-report-'));
    const schedule = path.join(dir, 'budget-0.3.json');
    await writeTestSchedule(schedule, 'step-skip');
    const runner = await createRunner({ width: 32, height: 24 });
    const cmp = await compare({
      runner, outDir: path.join(dir, 'cmp'), prompts: ['a <b>bold<b> fox & co'], settings: { frames: 3 },
      variants: [{ budget: 0.75 }, { budget: 0.5 }, { schedule }], gate: { minPsnr: 20 },
    });
    const ev = await evaluate({ outDir: path.join(dir, 'eval'), runner, prompts: ['a cat', 'a dog'], samples: 1, settings: { frames: 3 } });
    const file = path.join(dir, 'report.html');
    await writeReport({ compare: [cmp], eval: ev, title: 'test report' }, file);
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect((html.match(/src="data:image\/png;base64,/g) ?? []).length).toBe(9); // 1 heatmap + dense + 3 variants, and 4 frame strips (issue 19)
    // issue 19: a settings block per section, frame strips next to dense, n and spread per dimension
    expect((html.match(/<h2>Settings<\/h2>/g) ?? []).length).toBe(2);
    expect(html).toMatch(/<dt>size<\/dt><dd>\(pipeline default\)<\/dd>/); // this test renderer writes no sidecar settings
    expect(html).toMatch(/<dt>frames<\/dt><dd>3[ <]/);
    expect(html).toMatch(/<dt>machine<\/dt><dd>[^<]+logical CPUs/);
    expect(html).toMatch(/<dt>diffsparse<\/dt><dd>\d+\.\d+\.\d+<\/dd>/);
    expect((html.match(/<img class="strip"/g) ?? []).length).toBe(4);
    expect(html).toContain('<th>videos (n)</th><th>spread (sd)</th>');
    expect(html).toMatch(/<td>temporal_flickering<\/td><td>[\d.]+<\/td><td>2<\/td>/);
    expect(cmp.run).toMatchObject({ frames: 3, seeds: [0], prompts: 1, samples: 1 });
    expect(html).toContain('a &lt;b&gt;bold&lt;b&gt; fox &amp; co');
    expect(html).toContain('temporal_flickering');
    expect(JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')).compare).toHaveLength(1);

    if (findChromium()) {
      const check = await checkReportInChromium(file, { width: 1200, height: 1400 });
      expect(check.consoleErrors).toEqual([]);
      expect(check.svgCount).toBe(2);
      expect(check.imgCount).toBe(9);
      expect(check.inkFraction).toBeGreaterThan(0.02);
      expect(check.colours).toBeGreaterThan(20);
      // both methods' series are drawn
      expect(countColourPixels(check.screenshot, METHOD_COLOURS[0]!)).toBeGreaterThan(50);
      expect(countColourPixels(check.screenshot, METHOD_COLOURS[1]!)).toBeGreaterThan(50);
    } else {
      console.warn('chromium not installed: run scripts/check-report.sh after apt-get install chromium');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('draws an empty plot and an empty report without failing', async () => {
    expect(scatterSvg('t', 'x', 'y', [])).toMatch(/^<svg/);
    expect(await renderReportHtml({})).toContain('No results were given.');
  });

  it('finds page errors in a Chromium log (lines as Chromium 156 prints them)', () => {
    const log = [
      '[3808:3808:1128/014316.810636:WARNING:ui/base/idle/idle_linux.cc:111] None of the known D-Bus ScreenSaver services could be used.',
      '[4073:4073:1128/014336.780167:INFO:CONSOLE:1] "boom", source: file:///tmp/bad.html (1)',
      '[4073:4073:1128/014336.780497:INFO:CONSOLE:1] "Uncaught ReferenceError: undefinedFn is not defined", source: file:///tmp/bad.html (1)',
      '[1268:1318:1128/014105.365240:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Could not parse server address',
    ].join('\n');
    const errors = pageErrorLines(log);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatch(/undefinedFn/);
  });
});
