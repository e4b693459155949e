/**
 * Opens an HTML report in headless Chromium and checks that it renders: a screenshot that is
 * not blank, the plots present in the rendered DOM, and no console errors or uncaught
 * exceptions in Chromium's log. Chromium comes from the system (Debian: `apt-get install
 * chromium`); CHROMIUM_PATH overrides where it is looked for.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

export class ChromiumMissingError extends Error {
  constructor() {
    super('Chromium was not found; install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH');
    this.name = 'ChromiumMissingError';
  }
}

export interface ReportCheck {
  screenshot: Buffer;
  width: number;
  height: number;
  /** Share of screenshot pixels that are not (near) white. */
  inkFraction: number;
  /** Distinct colours in the screenshot (quantised to 5 bits per channel). */
  colours: number;
  /** Number of <svg> and <img> elements in the DOM Chromium rendered. */
  svgCount: number;
  imgCount: number;
  /** Console errors / uncaught exceptions found in Chromium's log. */
  consoleErrors: string[];
}

export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'];
  return candidates.find((c): c is string => !!c && existsSync(c)) ?? null;
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions', '--mute-audio'];

/** Console lines Chromium logs for page errors (`--enable-logging=stderr --v=0`). */
export function pageErrorLines(log: string): string[] {
  return log.split('\n').filter((l) => /CONSOLE|Uncaught|SyntaxError|ReferenceError|TypeError/.test(l) && !/dbus|DBus/.test(l));
}

export async function checkReportInChromium(htmlFile: string, options: { width?: number; height?: number; timeoutMs?: number } = {}): Promise<ReportCheck> {
  const binary = findChromium();
  if (!binary) throw new ChromiumMissingError();
  const width = options.width ?? 1200;
  const height = options.height ?? 1600;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = await mkdtemp(path.join(tmpdir(), 'diffsparse-chromium-'));
  try {
    const url = pathToFileURL(path.resolve(htmlFile)).href;
    const shot = path.join(dir, 'shot.png');
    const profile = ['--user-data-dir=' + path.join(dir, 'profile'), '--enable-logging=stderr', '--v=0'];
    // One launch: --dump-dom prints the rendered DOM and --screenshot still writes the PNG.
    const a = await run(binary, [...BASE_FLAGS, ...profile, `--window-size=${width},${height}`, `--screenshot=${shot}`, '--dump-dom', url], timeoutMs);
    if (!existsSync(shot)) throw new Error(`Chromium wrote no screenshot (exit ${a.code}): ${a.stderr.slice(-800)}`);
    const screenshot = await readFile(shot);
    const png = PNG.sync.read(screenshot);
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) {
      const r = png.data[i]!, g = png.data[i + 1]!, bl = png.data[i + 2]!;
      if (r < 245 || g < 245 || bl < 245) ink++;
      colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (bl >> 3));
    }
    return {
      screenshot, width: png.width, height: png.height, inkFraction: ink / (png.width * png.height), colours: colours.size,
      svgCount: (a.stdout.match(/<svg[\s>]/g) ?? []).length, imgCount: (a.stdout.match(/<img[\s>]/g) ?? []).length,
      consoleErrors: pageErrorLines(a.stderr),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How many pixels of `screenshot` lie within `tolerance` of the colour `#rrggbb` (e.g. a plotted series). */
export function countColourPixels(screenshot: Buffer, hex: string, tolerance = 12): number {
  const png = PNG.sync.read(screenshot);
  const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs(png.data[i]! - r) <= tolerance && Math.abs(png.data[i + 1]! - g) <= tolerance && Math.abs(png.data[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}
