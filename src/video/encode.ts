/**
 * Writing decoded frames to a video file while later chunks are still decoding.
 *
 * Frames are piped as rawvideo rgb24 into ffmpeg's stdin (fluent-ffmpeg, the bundled static
 * ffmpeg). `write` resolves once the frame is accepted and waits for 'drain' when the pipe is
 * full, so a slow encoder holds the decoder back instead of frames piling up in memory.
 *
 * Outputs are all-or-nothing: ffmpeg writes a hidden temporary file beside the output, the
 * sidecar JSON is written the same way, and both are renamed only after ffmpeg succeeded.
 * On any failure the temporaries are removed and nothing appears at the final path.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { PNG } from 'pngjs';
import type { DecodedChunk } from '../models/wan/vae/chunk-decoder.js';
import {
  FfmpegFailedError, FfmpegKilledError, FfmpegMissingError, FrameSizeError, OutputWriteError, VideoCodecError, VideoEncodeError,
} from './errors.js';
import { resolveFfmpeg } from './ffmpeg-binary.js';
import { formatOf } from './format.js';
import { planarToRgb24 } from './pixels.js';

import type { VideoFormat } from '../core/types.js';

export type { VideoFormat };

/** Wan2.1's `sample_fps`. */
export const DEFAULT_FPS = 16;

export interface VideoEncodeOptions {
  /** Final path: `.mp4`, `.webm`, `.gif`, or a folder for PNG frames (format 'png'). */
  output: string;
  width: number;
  height: number;
  fps?: number;
  /** Inferred from the output's extension when absent. */
  format?: VideoFormat;
  /** Generation settings: embedded as the container's `comment` (mp4/webm) and written to `<output>.json`. */
  settings?: Record<string, unknown>;
  /** yuv420p needs even sizes: 'pad' adds one black row/column, 'error' refuses (default 'pad'). */
  oddSize?: 'pad' | 'error';
  /** Constant rate factor for x264 (default 18) or VP9 (default 32). */
  crf?: number;
  /** Encoder override (default libx264 / libvpx-vp9 / gif). */
  videoCodec?: string;
  /** ffmpeg binary (default: @ffmpeg-installer/ffmpeg's). */
  ffmpegPath?: string;
  /** Where to write while encoding (default: a hidden name beside the output, same filesystem). */
  tempPath?: string;
  /** Write `<output>.json` (default true). */
  sidecar?: boolean;
}

export interface VideoEncodeResult {
  output: string;
  sidecar: string | null;
  format: VideoFormat;
  frames: number;
  /** Size of the frames given; the file may be padded to even sizes. */
  width: number;
  height: number;
  encodedWidth: number;
  encodedHeight: number;
  fps: number;
  bytes: number;
}

/** Receives rgb24 frames (height·width·3 bytes each) in order. */
export interface FrameSink {
  write(rgb: Uint8Array): Promise<void>;
  /** Flushes, renames into place and returns what was written. */
  finish(): Promise<VideoEncodeResult>;
  /** Stops and removes everything written so far. */
  abort(): Promise<void>;
  /** Resolves with the ffmpeg process id once it runs (undefined for PNG folders). */
  readonly started: Promise<number | undefined>;
}

export const SIDECAR_FORMAT = 'diffsparse/video-sidecar';

export { formatFromName, formatOf } from './format.js';

function temporaryPath(output: string, suffix: string): string {
  return join(dirname(output), `.${basename(output)}.partial-${process.pid}-${randomUUID().slice(0, 8)}${suffix}`);
}

function sidecarDocument(result: Omit<VideoEncodeResult, 'sidecar' | 'bytes'>, codec: string | null, settings: Record<string, unknown> | undefined): string {
  const doc = {
    format: SIDECAR_FORMAT,
    version: 1,
    video: {
      file: basename(result.output),
      format: result.format,
      codec,
      frames: result.frames,
      width: result.width,
      height: result.height,
      encodedWidth: result.encodedWidth,
      encodedHeight: result.encodedHeight,
      fps: result.fps,
    },
    settings: settings ?? {},
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function lastLines(text: string, n: number): string {
  return text.split(/\r?\n/).filter((l) => l.trim().length > 0).slice(-n).join('\n');
}

/** Turns fluent-ffmpeg's error and ffmpeg's stderr into one typed error. */
function classifyFfmpegError(err: Error, stderr: string, output: string, codec: string): VideoEncodeError {
  const tail = lastLines(stderr, 12);
  const killed = /killed with signal (\w+)/.exec(err.message);
  if (killed) return new FfmpegKilledError(`ffmpeg was killed (${killed[1]}) before ${output} was complete; nothing was written. Run the encode again.`, output, tail);
  if (/ENOENT|EACCES/.test(err.message) && /spawn/.test(err.message)) {
    return new FfmpegMissingError(`ffmpeg could not be started (${err.message}); reinstall @ffmpeg-installer/ffmpeg or pass ffmpegPath.`, output, tail);
  }
  const encoder = /Unknown encoder '([^']+)'/.exec(stderr);
  if (encoder) return new VideoCodecError(`this ffmpeg has no encoder "${encoder[1]}"; leave videoCodec unset (${codec} is the default for this format) or install an ffmpeg that has it.`, output, tail);
  if (/No space left on device/i.test(stderr)) return new OutputWriteError(`out of disk space while writing ${output}; free some space or write to another directory.`, output, tail);
  if (/Permission denied|Read-only file system/i.test(stderr)) return new OutputWriteError(`cannot write ${output} (permission denied or read-only); choose a writable output directory.`, output, tail);
  const reason = /ffmpeg exited with code \d+: ?(.*)/s.exec(err.message)?.[1]?.trim().split('\n').pop() || err.message;
  return new FfmpegFailedError(`ffmpeg failed while writing ${output}: ${reason}`, output, tail);
}

interface EncodePlan {
  args: string[];
  codec: string;
  encodedWidth: number;
  encodedHeight: number;
}

function planEncode(format: Exclude<VideoFormat, 'png'>, options: VideoEncodeOptions): EncodePlan {
  const { width, height, output } = options;
  const args: string[] = [];
  let encodedWidth = width;
  let encodedHeight = height;
  const needsEven = format !== 'gif';
  if (needsEven && (width % 2 || height % 2)) {
    if ((options.oddSize ?? 'pad') === 'error') {
      throw new FrameSizeError(`${width}×${height} cannot be encoded as yuv420p ${format} (needs even width and height); use an even size, oddSize: 'pad', or the gif/png formats.`, output);
    }
    encodedWidth = width + (width % 2);
    encodedHeight = height + (height % 2);
    args.push('-vf', `pad=${encodedWidth}:${encodedHeight}:0:0:black`);
  }
  let codec: string;
  if (format === 'mp4') {
    codec = options.videoCodec ?? 'libx264';
    args.push('-c:v', codec, '-preset', 'medium', '-crf', String(options.crf ?? 18), '-pix_fmt', 'yuv420p', '-movflags', '+faststart');
  } else if (format === 'webm') {
    codec = options.videoCodec ?? 'libvpx-vp9';
    // Constant quality (-b:v 0) at a speed setting usable on a CPU.
    args.push('-c:v', codec, '-b:v', '0', '-crf', String(options.crf ?? 32), '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', '-pix_fmt', 'yuv420p');
  } else {
    codec = options.videoCodec ?? 'gif';
    // One palette for the whole clip (palettegen sees every frame before paletteuse runs).
    args.push('-vf', 'split[a][b];[a]palettegen[p];[b][p]paletteuse', '-c:v', codec, '-loop', '0');
  }
  if (options.settings && format !== 'gif') args.push('-metadata', `comment=${metadataComment(options.settings)}`);
  args.push('-f', format);
  return { args, codec, encodedWidth, encodedHeight };
}

/** Longest `comment` put on ffmpeg's command line (one argument may not exceed 128 KiB on Linux). */
const MAX_COMMENT_CHARS = 8192;

/**
 * The settings as the container comment. Long prompts are cut here (the sidecar JSON keeps them
 * whole), so a prompt never makes ffmpeg's command line long.
 */
function metadataComment(settings: Record<string, unknown>): string {
  const full = JSON.stringify(settings);
  if (full.length <= MAX_COMMENT_CHARS) return full;
  const cut = (v: unknown): unknown => (typeof v === 'string' && v.length > 1000 ? `${v.slice(0, 1000)}… (cut; see the sidecar JSON)` : v);
  const shortened = JSON.stringify(Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, cut(v)])));
  return shortened.length <= MAX_COMMENT_CHARS ? shortened : JSON.stringify({ generator: settings.generator, note: 'settings too long for the container; see the sidecar JSON' });
}

class FfmpegSink implements FrameSink {
  readonly started: Promise<number | undefined>;
  private readonly input: PassThrough;
  private readonly done: Promise<void>;
  private readonly command: ffmpeg.FfmpegCommand;
  private readonly temp: string;
  private readonly frameBytes: number;
  private failure: VideoEncodeError | null = null;
  private frames = 0;
  private closed = false;

  constructor(private readonly options: VideoEncodeOptions, private readonly format: Exclude<VideoFormat, 'png'>, ffmpegPath: string, private readonly plan: EncodePlan) {
    const { width, height, output } = options;
    this.frameBytes = width * height * 3;
    this.temp = options.tempPath ?? temporaryPath(output, `.${format}`);
    this.input = new PassThrough({ highWaterMark: this.frameBytes });
    this.command = ffmpeg()
      .input(this.input)
      .inputOptions('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(options.fps ?? DEFAULT_FPS))
      .output(this.temp)
      .outputOptions(...plan.args);
    // fluent-ffmpeg keeps one global ffmpeg path; set it right before this command spawns.
    this.command.setFfmpegPath(ffmpegPath);
    this.started = new Promise((resolve) => {
      this.command.on('start', () => resolve((this.command as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid));
      this.command.on('error', () => resolve(undefined));
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.command.on('end', () => resolve());
      this.command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => reject(classifyFfmpegError(err, stderr ?? '', output, plan.codec)));
    });
    this.done.catch((e: VideoEncodeError) => { this.failure ??= e; });
    this.command.run();
  }

  async write(rgb: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new VideoEncodeError(`write after finish/abort on ${this.options.output}`, this.options.output);
    if (rgb.length !== this.frameBytes) throw new RangeError(`frame has ${rgb.length} bytes, expected ${this.options.width}×${this.options.height}×3`);
    this.frames++;
    if (!this.input.write(rgb)) {
      const ended = this.done.then(() => { throw new FfmpegFailedError(`ffmpeg stopped reading frames for ${this.options.output}`, this.options.output); });
      await Promise.race([once(this.input, 'drain'), ended]);
    }
  }

  async finish(): Promise<VideoEncodeResult> {
    if (this.closed) throw new VideoEncodeError(`finish called twice on ${this.options.output}`, this.options.output);
    this.closed = true;
    const { output } = this.options;
    let sidecarTemp: string | null = null;
    try {
      if (this.failure) throw this.failure;
      this.input.end();
      await this.done;
      const { size } = await stat(this.temp);
      const base = {
        output, format: this.format, frames: this.frames, width: this.options.width, height: this.options.height,
        encodedWidth: this.plan.encodedWidth, encodedHeight: this.plan.encodedHeight, fps: this.options.fps ?? DEFAULT_FPS,
      };
      let sidecar: string | null = null;
      if (this.options.sidecar ?? true) {
        sidecar = `${output}.json`;
        sidecarTemp = temporaryPath(sidecar, '.json');
        await writeFile(sidecarTemp, sidecarDocument(base, this.plan.codec, this.options.settings));
      }
      await rename(this.temp, output);
      if (sidecar && sidecarTemp) await rename(sidecarTemp, sidecar);
      return { ...base, sidecar, bytes: size };
    } catch (e) {
      await rm(this.temp, { force: true });
      if (sidecarTemp) await rm(sidecarTemp, { force: true });
      throw asWriteError(e, output);
    }
  }

  async abort(): Promise<void> {
    this.closed = true;
    this.input.destroy();
    try {
      this.command.kill('SIGKILL');
    } catch {
      // already exited
    }
    await this.done.catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}

/** Node fs errors while placing files → the same typed errors ffmpeg's failures map to. */
function asWriteError(e: unknown, output: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC') return new OutputWriteError(`out of disk space while writing ${output}; free some space or write to another directory.`, output);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new OutputWriteError(`cannot write ${output} (${code}); choose a writable output directory.`, output);
  if (code === 'ENOENT') return new OutputWriteError(`cannot write ${output}: its directory does not exist.`, output);
  return e;
}

/** PNG frames `frame_00000.png`, … in a folder; no ffmpeg involved. */
class PngFolderSink implements FrameSink {
  readonly started = Promise.resolve(undefined);
  private readonly temp: string;
  private frames = 0;
  private closed = false;
  private ready: Promise<void>;

  constructor(private readonly options: VideoEncodeOptions) {
    this.temp = options.tempPath ?? temporaryPath(options.output, '');
    this.ready = mkdir(this.temp, { recursive: false }).then(() => undefined);
    this.ready.catch(() => undefined); // reported by the first write/finish, not as an unhandled rejection
  }

  async write(rgb: Uint8Array): Promise<void> {
    const { width, height, output } = this.options;
    if (this.closed) throw new VideoEncodeError(`write after finish/abort on ${output}`, output);
    if (rgb.length !== width * height * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
    try {
      await this.ready;
      const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
      png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
      const bytes = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
      await writeFile(join(this.temp, `frame_${String(this.frames).padStart(5, '0')}.png`), bytes);
      this.frames++;
    } catch (e) {
      throw asWriteError(e, output);
    }
  }

  async finish(): Promise<VideoEncodeResult> {
    const { output, width, height } = this.options;
    this.closed = true;
    let sidecarTemp: string | null = null;
    try {
      await this.ready;
      const base = { output, format: 'png' as const, frames: this.frames, width, height, encodedWidth: width, encodedHeight: height, fps: this.options.fps ?? DEFAULT_FPS };
      let sidecar: string | null = null;
      if (this.options.sidecar ?? true) {
        sidecar = `${output.replace(/\/+$/, '')}.json`;
        sidecarTemp = temporaryPath(sidecar, '.json');
        await writeFile(sidecarTemp, sidecarDocument(base, null, this.options.settings));
      }
      let bytes = 0;
      for (const name of readdirSync(this.temp)) bytes += (await stat(join(this.temp, name))).size;
      await rename(this.temp, output);
      if (sidecar && sidecarTemp) await rename(sidecarTemp, sidecar);
      return { ...base, sidecar, bytes };
    } catch (e) {
      await rm(this.temp, { recursive: true, force: true });
      if (sidecarTemp) await rm(sidecarTemp, { force: true });
      throw asWriteError(e, output);
    }
  }

  async abort(): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    await rm(this.temp, { recursive: true, force: true });
  }
}

/** Opens a sink for frames of a fixed size; check everything that can be checked before any frame. */
export function openVideoWriter(options: VideoEncodeOptions): FrameSink {
  const format = formatOf(options.output, options.format);
  const { width, height, output } = options;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new FrameSizeError(`invalid frame size ${width}×${height}`, output);
  const fps = options.fps ?? DEFAULT_FPS;
  if (!(fps > 0)) throw new VideoEncodeError(`invalid fps ${fps}; use a positive number (Wan2.1 uses 16).`, output);
  if (!existsSync(dirname(output))) throw new OutputWriteError(`cannot write ${output}: directory ${dirname(output)} does not exist.`, output);
  if (format === 'png') {
    if (existsSync(output) && readdirSync(output).length > 0) throw new OutputWriteError(`${output} already exists and is not empty; remove it or choose another folder for the PNG frames.`, output);
    return new PngFolderSink(options);
  }
  const ffmpegPath = resolveFfmpeg(options.ffmpegPath, output);
  return new FfmpegSink(options, format, ffmpegPath, planEncode(format, options));
}

export type EncodeChunksOptions = Omit<VideoEncodeOptions, 'width' | 'height'>;

/**
 * Encodes decoded chunks as they arrive (clamp + official 8-bit mapping per frame). The
 * frame size comes from the first chunk. Any failure, in decoding or encoding, aborts the
 * output and rethrows.
 */
export async function encodeChunks(chunks: AsyncIterable<DecodedChunk>, options: EncodeChunksOptions): Promise<VideoEncodeResult> {
  const format = formatOf(options.output, options.format);
  if (format !== 'png') resolveFfmpeg(options.ffmpegPath, options.output); // fail before any decoding
  let sink: FrameSink | null = null;
  try {
    for await (const chunk of chunks) {
      sink ??= openVideoWriter({ ...options, width: chunk.width, height: chunk.height });
      for (const frame of planarToRgb24(chunk.data, chunk.frames, chunk.height, chunk.width)) await sink.write(frame);
    }
    if (!sink) throw new VideoEncodeError(`no frames were decoded for ${options.output}`, options.output);
    const done = sink;
    sink = null;
    return await done.finish();
  } catch (e) {
    await sink?.abort();
    throw e;
  }
}
