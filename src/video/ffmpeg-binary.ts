/**
 * Where the ffmpeg binary comes from: the static build shipped by `@ffmpeg-installer/ffmpeg`
 * (a 2018 build; no ffprobe), or an explicit path. No system ffmpeg is assumed.
 */
import { accessSync, constants, statSync } from 'node:fs';
import installer from '@ffmpeg-installer/ffmpeg';
import { FfmpegMissingError } from './errors.js';

export function bundledFfmpegPath(): string {
  return installer.path;
}

/** Returns a usable ffmpeg path or throws FfmpegMissingError naming the path that was tried. */
export function resolveFfmpeg(path: string | undefined, output: string): string {
  const candidate = path ?? bundledFfmpegPath();
  try {
    if (!statSync(candidate).isFile()) throw new Error('not a file');
    accessSync(candidate, constants.X_OK);
  } catch {
    throw new FfmpegMissingError(
      `ffmpeg not found or not executable at ${candidate}; reinstall @ffmpeg-installer/ffmpeg (npm ci) or pass ffmpegPath pointing at an ffmpeg binary.`,
      output,
    );
  }
  return candidate;
}
