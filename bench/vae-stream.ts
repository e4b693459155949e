/**
 * Streaming VAE decode → ffmpeg: peak memory and time for a long clip (21 latent frames →
 * 81 video frames) and a short one (3 → 9) at the same frame size, and the time overlapping
 * decode with encode saves over doing them one after the other.
 *
 * Uses a random-weight VAE with the fixture's structure (dim 8, z 16) at a larger frame size.
 * Every case runs in a fresh child process so each peak RSS (process.resourceUsage().maxRSS,
 * main thread + decode worker; ffmpeg is its own process and not counted) is separate.
 *
 * Cases:
 *   stream      decode on a worker thread, each chunk piped into ffmpeg while the next decodes
 *   inthread    decode on the main thread, chunks piped into ffmpeg between runs (the pipe only
 *               drains while the event loop is free, so overlap is limited to the pipe buffer)
 *   sequential  decode every chunk (same worker), keep all frames, then encode them
 *
 * Run: npx tsx bench/vae-stream.ts [latentHeight latentWidth reps [mode:frames,...]]
 *      (default 24 40 2 → 192×320, all cases; e.g. `24 40 1 stream:11,stream:41` for the RSS curve)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VaeChunkDecoder, type DecodedChunk } from '../src/models/wan/vae/chunk-decoder.js';
import { convertVaeDecoder } from '../src/models/wan/vae/convert.js';
import { gaussian, randomVaeWeights } from '../src/models/wan/vae/random-weights.js';
import { decodeStream } from '../src/video/decode-stream.js';
import { encodeChunks, openVideoWriter } from '../src/video/encode.js';
import { planarToRgb24 } from '../src/video/pixels.js';
import { decodeStreamInWorker } from '../src/video/worker-decode-stream.js';

type Mode = 'stream' | 'inthread' | 'sequential';

interface CaseResult {
  mode: Mode;
  latentFrames: number;
  videoFrames: number;
  totalSeconds: number;
  /** sequential: the two phases; stream/inthread: decode = until the last chunk was handed over. */
  decodeSeconds: number;
  /** sequential: the whole encode; stream/inthread: what ffmpeg still needed after the last chunk. */
  encodeSeconds: number;
  peakRssMiB: number;
  bytes: number;
}

/** Seeded latent frames in DiT space (unit normal), generated on demand. */
function* latentFrames(count: number, height: number, width: number): Generator<Float32Array> {
  const randn = gaussian(99);
  for (let f = 0; f < count; f++) yield Float32Array.from({ length: 16 * height * width }, randn);
}

async function runCase(mode: Mode, modelDir: string, outDir: string, frames: number, height: number, width: number): Promise<CaseResult> {
  const output = join(outDir, `${mode}-${frames}.mp4`);
  const size = { height, width };
  const settings = { bench: 'vae-stream', mode, latentFrames: frames };
  const t0 = performance.now();
  let decodeSeconds: number;
  let encodeSeconds: number;
  let result;
  let decodedAt = 0;
  async function* timed(chunks: AsyncIterable<DecodedChunk>): AsyncGenerator<DecodedChunk> {
    yield* chunks;
    decodedAt = performance.now();
  }
  if (mode === 'stream') {
    result = await encodeChunks(timed(decodeStreamInWorker(modelDir, latentFrames(frames, height, width), size)), { output, settings });
  } else if (mode === 'inthread') {
    const decoder = await VaeChunkDecoder.load(modelDir);
    result = await encodeChunks(timed(decodeStream(decoder, latentFrames(frames, height, width), size)), { output, settings });
    await decoder.release();
  }
  if (mode !== 'sequential') {
    decodeSeconds = (decodedAt - t0) / 1000;
    encodeSeconds = (performance.now() - decodedAt) / 1000;
  } else {
    const all: Uint8Array[] = [];
    let first: DecodedChunk | null = null;
    for await (const chunk of decodeStreamInWorker(modelDir, latentFrames(frames, height, width), size)) {
      first ??= chunk;
      all.push(...planarToRgb24(chunk.data, chunk.frames, chunk.height, chunk.width));
    }
    const t1 = performance.now();
    decodeSeconds = (t1 - t0) / 1000;
    const sink = openVideoWriter({ output, settings, width: first!.width, height: first!.height });
    for (const f of all) await sink.write(f);
    result = await sink.finish();
    encodeSeconds = (performance.now() - t1) / 1000;
  }
  if (!result) throw new Error('no result');
  return {
    mode,
    latentFrames: frames,
    videoFrames: result.frames,
    totalSeconds: (performance.now() - t0) / 1000,
    decodeSeconds,
    encodeSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    bytes: result.bytes,
  };
}

async function child(args: string[]): Promise<void> {
  const [mode, modelDir, outDir, frames, height, width] = args;
  const r = await runCase(mode as Mode, modelDir, outDir, Number(frames), Number(height), Number(width));
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
}

async function parent(): Promise<void> {
  const height = Number(process.argv[2] ?? 24);
  const width = Number(process.argv[3] ?? 40);
  const reps = Number(process.argv[4] ?? 2);
  const only = process.argv[5]; // e.g. "stream:11,stream:41": just these cases, no summary
  const dir = mkdtempSync(join(tmpdir(), 'diffsparse-bench-vae-'));
  try {
    const modelDir = join(dir, 'vae');
    await convertVaeDecoder(randomVaeWeights({ dim: 8, seed: 3 }), modelDir);
    console.log(`random VAE dim 8 (fixture structure), latent ${height}×${width} → video ${height * 8}×${width * 8}, mp4 libx264, 2 ORT threads`);
    const self = fileURLToPath(import.meta.url);
    // The long-clip timing pair alternates and repeats: the machine is shared, so wall times drift.
    let cases: [Mode, number][] = [];
    for (let rep = 0; rep < reps; rep++) cases.push(['stream', 21], ['sequential', 21]);
    cases.push(['stream', 3], ['sequential', 3], ['inthread', 21]);
    if (only) cases = only.split(',').map((c) => { const [m, f] = c.split(':'); return [m as Mode, Number(f)]; });
    const results: CaseResult[] = [];
    for (const [mode, frames] of cases) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, modelDir, dir, String(frames), String(height), String(width)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`bench child ${mode}/${frames} failed (status ${run.status}):\n${run.stderr.slice(-3000)}`);
      const r = JSON.parse(line.slice(7)) as CaseResult;
      results.push(r);
      const phases = mode === 'sequential'
        ? ` (decode ${r.decodeSeconds.toFixed(1)} s, then encode ${r.encodeSeconds.toFixed(1)} s)`
        : ` (last chunk decoded at ${r.decodeSeconds.toFixed(1)} s, encoder done ${r.encodeSeconds.toFixed(1)} s later)`;
      console.log(`${mode.padEnd(10)} ${String(frames).padStart(2)} latent → ${String(r.videoFrames).padStart(2)} frames: ${r.totalSeconds.toFixed(1)} s${phases}, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
    }
    if (only) return;
    // Fastest of the repeats: the run least disturbed by other load.
    const get = (m: Mode, f: number): CaseResult => results.filter((r) => r.mode === m && r.latentFrames === f).sort((a, b) => a.totalSeconds - b.totalSeconds)[0];
    const streamLong = get('stream', 21);
    const streamShort = get('stream', 3);
    const seqLong = get('sequential', 21);
    const seqShort = get('sequential', 3);
    console.log(`peak RSS long/short: stream ${(streamLong.peakRssMiB / streamShort.peakRssMiB).toFixed(2)}×, sequential ${(seqLong.peakRssMiB / seqShort.peakRssMiB).toFixed(2)}×`);
    const saved = seqLong.totalSeconds - streamLong.totalSeconds;
    console.log(`21 latent frames (best of ${reps}): overlapped ${streamLong.totalSeconds.toFixed(1)} s vs one-after-the-other ${seqLong.totalSeconds.toFixed(1)} s → ${saved.toFixed(1)} s saved (${((100 * saved) / seqLong.totalSeconds).toFixed(0)}%); at most the encode time, ${seqLong.encodeSeconds.toFixed(1)} s`);
    console.log(`within-run view: the encoder finished ${streamLong.encodeSeconds.toFixed(1)} s after the last chunk when overlapped, vs a ${seqLong.encodeSeconds.toFixed(1)} s encode afterwards → ${(seqLong.encodeSeconds - streamLong.encodeSeconds).toFixed(1)} s of encoding hidden behind decoding`);
    console.log(`in-thread decode (no worker) for 21 latent frames: ${get('inthread', 21).totalSeconds.toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await parent();
