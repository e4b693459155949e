/**
 * Reading a video back with ffmpeg alone (the bundled build has no ffprobe): stream info and
 * container metadata come from `ffmpeg -i` on stderr, frames from decoding to rawvideo rgb24
 * on stdout.
 */
import { spawn } from 'node:child_process';
import { FfmpegFailedError } from './errors.js';
import { resolveFfmpeg } from './ffmpeg-binary.js';

export interface VideoInfo {
  codec: string;
  width: number;
  height: number;
  fps: number;
  /** Container-level metadata tags, keys lower-cased. */
  metadata: Record<string, string>;
}

function run(ffmpegPath: string, args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Parses the `Input #0` section of `ffmpeg -i` output. */
export function parseFfmpegInfo(stderr: string, path: string): VideoInfo {
  const stream = /Stream #0:0[^:]*: Video: ([^\s,]+)[^\n]*?, (\d+)x(\d+)[^\n]*?, ([\d.]+) (?:fps|tbr)/.exec(stderr);
  if (!stream) throw new FfmpegFailedError(`could not read a video stream from ${path}`, path, stderr.slice(-2000));
  const metadata: Record<string, string> = {};
  const input = stderr.slice(stderr.indexOf('Input #0'));
  const block = /\n {2}Metadata:\n((?: {4}[^\n]*\n)+)/.exec(input);
  if (block) {
    for (const line of block[1].split('\n')) {
      const m = /^ {4}(\S[^:]*?)\s*: (.*)$/.exec(line);
      if (m) metadata[m[1].toLowerCase()] = m[2];
    }
  }
  return { codec: stream[1], width: Number(stream[2]), height: Number(stream[3]), fps: Number(stream[4]), metadata };
}

export async function probeVideo(path: string, ffmpegPath?: string): Promise<VideoInfo> {
  const { stderr } = await run(resolveFfmpeg(ffmpegPath, path), ['-hide_banner', '-i', path]);
  return parseFfmpegInfo(stderr, path);
}

/** Decodes every frame to rgb24 (height·width·3 bytes each). */
export async function readVideoFrames(path: string, ffmpegPath?: string): Promise<VideoInfo & { frames: Uint8Array[] }> {
  const binary = resolveFfmpeg(ffmpegPath, path);
  const info = await probeVideo(path, binary);
  const { code, stdout, stderr } = await run(binary, ['-hide_banner', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  if (code !== 0) throw new FfmpegFailedError(`ffmpeg could not decode ${path}`, path, stderr.slice(-2000));
  const frameBytes = info.width * info.height * 3;
  if (stdout.length % frameBytes !== 0) throw new FfmpegFailedError(`decoded ${stdout.length} bytes from ${path}, not a whole number of ${info.width}×${info.height} frames`, path);
  const frames: Uint8Array[] = [];
  for (let off = 0; off < stdout.length; off += frameBytes) frames.push(new Uint8Array(stdout.subarray(off, off + frameBytes)));
  return { ...info, frames };
}
