import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DecodedChunk } from '../../src/models/wan/vae/chunk-decoder.js';
import { encodeChunks, openVideoWriter } from '../../src/video/encode.js';
import { FfmpegKilledError, FfmpegMissingError, FrameSizeError, OutputWriteError, VideoCodecError } from '../../src/video/errors.js';
import { readVideoFrames } from '../../src/video/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'diffsparse-encode-fail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Synthetic chunks (a moving gradient) so these tests need no model. */
async function* gradientChunks(count: number, height = 32, width = 48, fail?: Error): AsyncGenerator<DecodedChunk> {
  let first = 0;
  for (let i = 0; i < count; i++) {
    if (fail && i === count - 1) throw fail;
    const frames = i === 0 ? 1 : 4;
    const data = new Float32Array(3 * frames * height * width);
    for (let c = 0; c < 3; c++) for (let f = 0; f < frames; f++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      data[((c * frames + f) * height + y) * width + x] = Math.sin((x + y * c + (first + f) * 3) / 7);
    }
    yield { latentIndex: i, firstFrame: first, frames, height, width, data };
    first += frames;
  }
}

/** Nothing at the final path, no sidecar and no temporaries in the directory. */
function expectNothingLeft(output: string): void {
  expect(existsSync(output)).toBe(false);
  expect(existsSync(`${output}.json`)).toBe(false);
  expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
}

describe('video encoding failures end in one typed error and leave nothing behind', () => {
  it('missing ffmpeg binary', async () => {
    const output = join(dir, 'missing.mp4');
    const err = await encodeChunks(gradientChunks(2), { output, ffmpegPath: join(dir, 'no-such-ffmpeg') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegMissingError);
    expect((err as Error).message).toMatch(/ffmpeg not found .*no-such-ffmpeg.*ffmpegPath/);
    expectNothingLeft(output);
  });

  it('unknown codec', async () => {
    const output = join(dir, 'codec.mp4');
    const err = await encodeChunks(gradientChunks(2), { output, videoCodec: 'no_such_encoder' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VideoCodecError);
    expect((err as Error).message).toMatch(/no encoder "no_such_encoder"/);
    expectNothingLeft(output);
  });

  it('ffmpeg killed mid-encode', async () => {
    const output = join(dir, 'killed.mp4');
    const sink = openVideoWriter({ output, width: 48, height: 32 });
    const frame = new Uint8Array(48 * 32 * 3).fill(90);
    for (let i = 0; i < 3; i++) await sink.write(frame);
    const pid = await sink.started;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    const err = await (async () => {
      for (let i = 0; i < 1000; i++) await sink.write(frame); // keeps writing until the failure surfaces
      return sink.finish();
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegKilledError);
    await sink.abort();
    expectNothingLeft(output);
  });

  it('disk full (temporary file on /dev/full)', async () => {
    const output = join(dir, 'full.mp4');
    const tempPath = join(dir, '.full.mp4.partial-devfull.mp4');
    symlinkSync('/dev/full', tempPath);
    const err = await encodeChunks(gradientChunks(3), { output, tempPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputWriteError);
    expect((err as Error).message).toMatch(/out of disk space/);
    expectNothingLeft(output);
  });

  it('output directory missing', async () => {
    const output = join(dir, 'nope', 'x.mp4');
    const err = await encodeChunks(gradientChunks(2), { output }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputWriteError);
  });

  it('decoder failure mid-stream aborts the encode', async () => {
    const output = join(dir, 'decode-fail.mp4');
    const boom = new Error('decoder exploded');
    const err = await encodeChunks(gradientChunks(3, 32, 48, boom), { output }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expectNothingLeft(output);
  });

  it('odd frame sizes: error on request, padded by default', async () => {
    const bad = join(dir, 'odd.mp4');
    expect(() => openVideoWriter({ output: bad, width: 47, height: 33, oddSize: 'error' })).toThrow(FrameSizeError);
    expectNothingLeft(bad);
    const output = join(dir, 'odd-padded.mp4');
    const result = await encodeChunks(gradientChunks(2, 33, 47), { output });
    expect([result.width, result.height, result.encodedWidth, result.encodedHeight]).toEqual([47, 33, 48, 34]);
    const back = await readVideoFrames(output);
    expect([back.width, back.height, back.frames.length]).toEqual([48, 34, 5]);
  });
});
