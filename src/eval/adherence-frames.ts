/**
 * Frames of a generated clip as rgb24 for the adherence check: a folder of PNG frames (the
 * lossless 'png' output format, read here without ffmpeg) or any video file ffmpeg decodes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readVideoFrames } from '../video/probe.js';
import { AdherenceInputError } from './adherence.js';

export interface ClipFrames {
  frames: Uint8Array[];
  width: number;
  height: number;
}

function readPngFolder(dir: string): ClipFrames {
  const names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.png')).sort();
  if (names.length === 0) throw new AdherenceInputError(`${dir} holds no .png frames; point at a PNG frame folder or a video file`);
  let width = 0, height = 0;
  const frames = names.map((name) => {
    const png = PNG.sync.read(readFileSync(join(dir, name)));
    if (width === 0) { width = png.width; height = png.height; }
    if (png.width !== width || png.height !== height) {
      throw new AdherenceInputError(`${join(dir, name)} is ${png.width}×${png.height} but the first frame is ${width}×${height}; all frames of a clip must have one size`);
    }
    // pngjs decodes to RGBA whatever the file's colour type
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
      rgb[p] = png.data[q]; rgb[p + 1] = png.data[q + 1]; rgb[p + 2] = png.data[q + 2];
    }
    return rgb;
  });
  return { frames, width, height };
}

/** Reads a clip written by `generate`: a PNG frame folder or a video file. */
export async function readClipFrames(path: string, ffmpegPath?: string): Promise<ClipFrames> {
  if (statSync(path).isDirectory()) return readPngFolder(path);
  const { frames, width, height } = await readVideoFrames(path, ffmpegPath);
  return { frames, width, height };
}
