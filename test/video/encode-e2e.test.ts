import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, latentFrames } from '../../src/video/decode-stream.js';
import { encodeChunks } from '../../src/video/encode.js';
import { planarToRgb24 } from '../../src/video/pixels.js';
import { readVideoFrames } from '../../src/video/probe.js';
import { fixtureArray } from '../vae/fixture.js';
import { loadFixtureModel, type FixtureModel } from './fixture-model.js';

/** PSNR in dB between two byte sequences of equal length. */
function psnr(a: Uint8Array[], b: Uint8Array[]): number {
  let se = 0;
  let n = 0;
  a.forEach((frame, i) => {
    for (let p = 0; p < frame.length; p++) { const d = frame[p] - b[i][p]; se += d * d; n++; }
  });
  return 10 * Math.log10((255 * 255) / (se / n));
}

describe('fixture latent → streaming decode → video files', () => {
  let model: FixtureModel;
  let reference: Uint8Array[]; // the official float decode (clamped) mapped to bytes
  const settings = { prompt: 'a red fox running through snow, 雪', seed: 42, steps: 50, shift: 5, guide: 5, size: '48*32' };

  beforeAll(async () => {
    model = await loadFixtureModel();
    const decoded = fixtureArray('decode');
    const [, , t, h, w] = decoded.shape;
    reference = planarToRgb24(decoded.data, t, h, w);
  });
  afterAll(async () => model.dispose());

  const stream = () => decodeStream(model.decoder, latentFrames(model.latent), { height: model.latent.shape[2], width: model.latent.shape[3] });

  it('writes an mp4 with the right frames, size, fps, metadata and sidecar', async () => {
    const output = join(model.dir, 'fox.mp4');
    const result = await encodeChunks(stream(), { output, settings });
    expect(result).toMatchObject({ frames: 9, width: 48, height: 32, fps: 16, format: 'mp4', sidecar: `${output}.json` });
    const back = await readVideoFrames(output);
    expect(back.frames).toHaveLength(9);
    expect([back.width, back.height, back.fps, back.codec]).toEqual([48, 32, 16, 'h264']);
    expect(JSON.parse(back.metadata.comment)).toEqual(settings);
    const sidecar = JSON.parse(readFileSync(`${output}.json`, 'utf8'));
    expect(sidecar.settings).toEqual(settings);
    expect(sidecar.video).toMatchObject({ file: 'fox.mp4', frames: 9, fps: 16, codec: 'libx264' });
    // Measured 22.0 dB. The limit is yuv420p, not the codec: the random-weight fixture decodes to
    // noise-like colour, and halving chroma resolution alone (lossless x264, -qp 0, yuv420p) gives
    // 22.4 dB, while -qp 0 yuv444p gives 52 dB; crf 18 costs 0.4 dB on top. 20 dB leaves ~2 dB
    // margin and still fails on a wrong channel or frame order (measured 13.3 and 11.9 dB).
    expect(psnr(back.frames, reference)).toBeGreaterThan(20);
    // no temporaries left beside the output
    expect(readdirSync(model.dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('writes webm (VP9) and gif', async () => {
    for (const name of ['fox.webm', 'fox.gif']) {
      const output = join(model.dir, name);
      const result = await encodeChunks(stream(), { output, settings });
      expect(result.frames).toBe(9);
      const back = await readVideoFrames(output);
      expect(back.frames).toHaveLength(9);
      expect([back.width, back.height]).toEqual([48, 32]);
      // Measured: webm 21.3 dB (yuv420p again), gif 26.8 dB (256-colour palette, full chroma).
      expect(psnr(back.frames, reference)).toBeGreaterThan(19);
      if (name.endsWith('.webm')) expect(JSON.parse(back.metadata.comment)).toEqual(settings); // gif has no metadata field
    }
  });

  it('writes a PNG folder with exactly the reference bytes', async () => {
    const output = join(model.dir, 'fox-frames');
    const result = await encodeChunks(stream(), { output, settings });
    expect(result.format).toBe('png');
    const names = readdirSync(output).sort();
    expect(names).toHaveLength(9);
    names.forEach((name, i) => {
      const png = PNG.sync.read(readFileSync(join(output, name)));
      expect([png.width, png.height]).toEqual([48, 32]);
      let maxDiff = 0;
      for (let p = 0; p < 48 * 32; p++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(png.data[p * 4 + c] - reference[i][p * 3 + c]));
      expect(maxDiff).toBeLessThanOrEqual(1);
    });
    expect(existsSync(`${output}.json`)).toBe(true);
  });
});
